"""A suppression: an address we must not send to, why, and who said so (ADR 0004 §1).

Kept per address, not per contact: an address can bounce before it is a contact, and a contact created
later under that address is suppressed at once (its id derives from the same address). Each change
remembers its ``cause`` (a normalized email event id; None for manual changes), and a cause already
applied is ignored, so a replayed webhook cannot re-suppress an address an operator lifted since.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID, uuid5

from eventsourcing.domain import event

from domain.email_address import normalize_email
from domain.errors import Invalid
from domain.events import TidingsAggregate
from domain.ids import SUPPRESSIONS
from domain.preference_sources import Source, clean_instant, clean_source


class Reason(StrEnum):
    """Why an address is suppressed."""

    HARD_BOUNCE = "hard_bounce"
    COMPLAINT = "complaint"
    MANUAL = "manual"
    ESP = "esp"  # the ESP's own suppression list said so
    SOFT_BOUNCES = "soft_bounces"  # too many soft bounces within the window


class UnknownReason(Invalid):
    """Suppression reasons are a closed set."""

    code = "unknown_suppression_reason"


def clean_reason(value: object) -> Reason:
    """The reason named by ``value``, or ``UnknownReason``."""
    try:
        return Reason(str(value))
    except ValueError:
        raise UnknownReason(f"unknown reason {value!r}", field="reason", allowed=[r.value for r in Reason]) from None


def suppression_id(address: str) -> UUID:
    """The id of the suppression of a normalized address."""
    return uuid5(SUPPRESSIONS, address)


class Suppression(TidingsAggregate):
    """Whether one address is suppressed, for which reason, on whose word."""

    @classmethod
    def open(cls, address: str, source: object = Source.SYSTEM, effective_at: datetime | None = None) -> Suppression:
        """The record of an address never suppressed before; saved only together with a first suppression."""
        normalized = normalize_email(address)
        return cls(
            id=suppression_id(normalized),
            address=normalized,
            source=clean_source(source).value,
            effective_at=clean_instant(effective_at),
        )

    @event("Opened")
    def __init__(self, id: UUID, address: str, source: str, effective_at: datetime) -> None:  # noqa: A002
        self.address = address
        self.active = False
        self.reason: str | None = None
        self.source: str | None = None
        self.cause: str | None = None
        self.suppressed_at: datetime | None = None
        self.causes: set[str] = set()

    def suppress(
        self, reason: object, source: object, cause: str | None = None, effective_at: datetime | None = None
    ) -> bool:
        """Suppress the address; False when the cause was applied already or it is suppressed for this reason.

        A new reason for a suppressed address is recorded (a hard bounce is more telling than an ESP's
        list), and it decides which lift may end the suppression.
        """
        why, src, at = clean_reason(reason).value, clean_source(source).value, clean_instant(effective_at)
        if cause is not None and cause in self.causes:
            return False
        if self.active and self.reason == why:
            self._note(cause, src, at)
            return False
        self._suppressed(address=self.address, reason_code=why, source=src, cause=cause, effective_at=at)
        return True

    # ``reason_code``, not ``reason``: every event's envelope already has ``reason`` (the free-text why).
    # The address is repeated on every event so that the read model places a row without a lookup.
    @event("Suppressed")
    def _suppressed(
        self, address: str, reason_code: str, source: str, cause: str | None, effective_at: datetime
    ) -> None:
        self.active = True
        self.reason, self.source, self.cause, self.suppressed_at = reason_code, source, cause, effective_at
        if cause is not None:
            self.causes.add(cause)

    def lift(
        self,
        source: object,
        cause: str | None = None,
        effective_at: datetime | None = None,
        only_reason: object = None,
    ) -> bool:
        """End the suppression (only one for ``only_reason`` when given); False when nothing was lifted."""
        src, at = clean_source(source).value, clean_instant(effective_at)
        wanted = None if only_reason is None else clean_reason(only_reason).value
        if cause is not None and cause in self.causes:
            return False
        if not self.active or (wanted is not None and self.reason != wanted):
            self._note(cause, src, at)
            return False
        self._lifted(address=self.address, source=src, cause=cause, effective_at=at)
        return True

    def _note(self, cause: str | None, source: str, effective_at: datetime) -> None:
        # A policy's command that finds nothing to do still remembers its cause: replayed after a later
        # change (a reactor's retry, a renormalize), it must not be decided again against the newer state.
        if cause is not None:
            self._cause_noted(address=self.address, source=source, cause=cause, effective_at=effective_at)

    @event("CauseNoted")
    def _cause_noted(self, address: str, source: str, cause: str, effective_at: datetime) -> None:
        self.causes.add(cause)

    @event("Lifted")
    def _lifted(self, address: str, source: str, cause: str | None, effective_at: datetime) -> None:
        self.active = False
        self.reason = self.source = self.cause = self.suppressed_at = None
        if cause is not None:
            self.causes.add(cause)
