"""A contact's email preferences: global opt-out, per-category choices, frequency and a pause (ADR 0004 §1).

Every change is an event carrying its ``source`` and ``effective_at``, so the aggregate's history is the
audit log of who changed what, when, why and through which channel. A command that changes nothing
records nothing, and a change whose ``cause`` (a normalized email event id) was already applied is
ignored, so a replayed webhook cannot undo a later change.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Final
from uuid import UUID, uuid5

from eventsourcing.domain import event

from domain.errors import Invalid, RuleViolated
from domain.events import TidingsAggregate
from domain.ids import PREFERENCES
from domain.preference_category import clean_key
from domain.preference_sources import Source, clean_instant, clean_source

PERIODS = ("day", "week", "month")
DIGESTS = ("daily", "weekly", "monthly")
MAX_PER_PERIOD = 1000
# A re-subscribe confirmation mails the contact: one per ten minutes, so the request cannot be used to spam them.
RESUBSCRIBE_INTERVAL = timedelta(minutes=10)
FREQUENCY_RULE = (
    'frequency is null, {"max": N, "per": "day"|"week"|"month"} with N from 1 to 1000, '
    'or {"digest": "daily"|"weekly"|"monthly"}'
)


class _Keep:
    """The "not given" marker: the setting keeps its value (``None`` would clear it)."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Final = _Keep()


class InvalidFrequency(Invalid):
    """A frequency is a cap per period or a digest preset, nothing else."""

    code = "invalid_frequency"


class InvalidPause(Invalid):
    """A pause ends at a future instant with a time zone offset."""

    code = "invalid_pause"


class NothingToConfirm(RuleViolated):
    """A re-subscribe confirmation is for a contact who opted out of all marketing email."""

    code = "not_opted_out"


class ResubscribeTooSoon(RuleViolated):
    """A contact gets at most one re-subscribe confirmation per RESUBSCRIBE_INTERVAL."""

    code = "resubscribe_too_soon"


def preferences_id(contact_id: UUID) -> UUID:
    """The id of a contact's preferences: deterministic, so no lookup is needed."""
    return uuid5(PREFERENCES, str(contact_id))


def clean_frequency(value: object) -> dict[str, Any] | None:
    """The canonical frequency setting, or ``InvalidFrequency``."""
    if value is None:
        return None
    if isinstance(value, Mapping) and set(value) == {"max", "per"}:
        count, per = value["max"], value["per"]
        if not isinstance(count, bool) and isinstance(count, int) and 1 <= count <= MAX_PER_PERIOD and per in PERIODS:
            return {"max": count, "per": per}
    if isinstance(value, Mapping) and set(value) == {"digest"} and value["digest"] in DIGESTS:
        return {"digest": value["digest"]}
    raise InvalidFrequency(FREQUENCY_RULE, field="frequency")


def clean_choices(choices: Mapping[str, object]) -> dict[str, bool]:
    """Category choices with valid keys and boolean values, sorted by key."""
    cleaned: dict[str, bool] = {}
    for key, value in sorted(choices.items()):
        clean_key(key, field=f"categories.{key}")
        if not isinstance(value, bool):
            raise Invalid("a category choice is true (subscribed) or false", field=f"categories.{key}")
        cleaned[key] = value
    return cleaned


class ContactPreferences(TidingsAggregate):
    """What one contact wants to receive, and how often."""

    @classmethod
    def start(
        cls, contact_id: UUID, source: object = Source.SYSTEM, effective_at: datetime | None = None
    ) -> ContactPreferences:
        """Fresh preferences (nobody opted out, no choices); saved only together with a first change."""
        return cls(
            id=preferences_id(contact_id),
            contact_id=contact_id,
            source=clean_source(source).value,
            effective_at=clean_instant(effective_at),
        )

    @event("Started")
    def __init__(self, id: UUID, contact_id: UUID, source: str, effective_at: datetime) -> None:  # noqa: A002
        self.contact_id = contact_id
        self.opted_out = False
        self.categories: dict[str, bool] = {}
        self.frequency: dict[str, Any] | None = None
        self.paused_until: datetime | None = None
        # The newest effective_at of any change (None before the first): an ESP resubscribe must be newer.
        self.last_effective_at: datetime | None = None
        self.causes: set[str] = set()
        # When the last re-subscribe confirmation was sent (None: never).
        self.resubscribe_requested_at: datetime | None = None

    def change(
        self,
        *,
        opted_out: bool | None = None,
        categories: Mapping[str, object] | None = None,
        frequency: object = KEEP,
        paused_until: object = KEEP,
        source: object = Source.ADMIN,
        effective_at: datetime | None = None,
        cause: str | None = None,
    ) -> bool:
        """Apply the given settings (``None``/``KEEP``: leave as is) at once; False when nothing changed.

        Everything is checked before anything is recorded, so a refused change records nothing.
        """
        src, at = clean_source(source).value, clean_instant(effective_at)
        choices = {k: v for k, v in clean_choices(categories or {}).items() if self.categories.get(k) is not v}
        new_frequency = self.frequency if frequency is KEEP else clean_frequency(frequency)
        new_pause = self.paused_until if paused_until is KEEP else _clean_pause(paused_until, at)
        if cause is not None and cause in self.causes:
            return False
        before = len(self.pending_events)
        if opted_out is not None and bool(opted_out) != self.opted_out:
            (self._opted_out if opted_out else self._opted_in)(
                contact_id=self.contact_id, source=src, effective_at=at, cause=cause
            )
        if choices:
            self._categories_chosen(
                contact_id=self.contact_id, choices=choices, source=src, effective_at=at, cause=cause
            )
        if new_frequency != self.frequency:
            self._frequency_set(
                contact_id=self.contact_id, frequency=new_frequency, source=src, effective_at=at, cause=cause
            )
        if new_pause != self.paused_until:
            if new_pause is None:
                self._unpaused(contact_id=self.contact_id, source=src, effective_at=at, cause=cause)
            else:
                self._paused(contact_id=self.contact_id, until=new_pause, source=src, effective_at=at, cause=cause)
        changed = len(self.pending_events) > before
        if not changed and cause is not None:
            # Nothing to change, but the cause is remembered: replayed after a later change (a reactor's
            # retry, a renormalize), it must not be decided again against the newer state.
            self._cause_noted(contact_id=self.contact_id, source=src, effective_at=at, cause=cause)
        return changed

    def opt_in_if_newer(
        self, effective_at: datetime, cause: str | None, category: str | None = None, source: object = Source.ESP
    ) -> bool:
        """Opt back in (globally, or to ``category``) only when this happened after our last change."""
        at = clean_instant(effective_at)
        if self.last_effective_at is not None and at <= self.last_effective_at:
            return False
        if category is None:
            return self.change(opted_out=False, source=source, effective_at=at, cause=cause)
        return self.change(categories={category: True}, source=source, effective_at=at, cause=cause)

    def check_resubscribe_request(self, now: datetime) -> None:
        """Refuse a re-subscribe confirmation with nothing to confirm, or one too soon after the last."""
        if not self.opted_out:
            raise NothingToConfirm("the contact has not opted out: there is nothing to confirm")
        last = self.resubscribe_requested_at
        if last is not None and now < last + RESUBSCRIBE_INTERVAL:
            wait = last + RESUBSCRIBE_INTERVAL - now
            raise ResubscribeTooSoon(
                "a confirmation was sent less than ten minutes ago", retry_after=max(1, int(wait.total_seconds()))
            )

    def request_resubscribe(self, message_id: UUID, requested_at: datetime) -> None:
        """Record that confirmation email ``message_id`` went out (checked before sending, recorded after)."""
        at = clean_instant(requested_at, field="requested_at")
        self._resubscribe_requested(contact_id=self.contact_id, message_id=message_id, requested_at=at)

    def subscribed_to(self, key: str, default_subscribed: bool) -> bool:
        """Whether mail of category ``key`` is wanted: the explicit choice, else the default; never when opted out."""
        return not self.opted_out and self.categories.get(key, default_subscribed)

    def _saw(self, effective_at: datetime, cause: str | None) -> None:
        if self.last_effective_at is None or effective_at > self.last_effective_at:
            self.last_effective_at = effective_at
        if cause is not None:
            self.causes.add(cause)

    # The contact id is repeated on every event so that read models place a row without a lookup.
    @event("OptedOut")
    def _opted_out(self, contact_id: UUID, source: str, effective_at: datetime, cause: str | None) -> None:
        self.opted_out = True
        self._saw(effective_at, cause)

    @event("OptedIn")
    def _opted_in(self, contact_id: UUID, source: str, effective_at: datetime, cause: str | None) -> None:
        self.opted_out = False
        self._saw(effective_at, cause)

    @event("CategoriesChosen")
    def _categories_chosen(
        self, contact_id: UUID, choices: dict[str, bool], source: str, effective_at: datetime, cause: str | None
    ) -> None:
        self.categories.update(choices)
        self._saw(effective_at, cause)

    @event("FrequencySet")
    def _frequency_set(
        self, contact_id: UUID, frequency: dict[str, Any] | None, source: str, effective_at: datetime, cause: str | None
    ) -> None:
        self.frequency = frequency
        self._saw(effective_at, cause)

    @event("Paused")
    def _paused(
        self, contact_id: UUID, until: datetime, source: str, effective_at: datetime, cause: str | None
    ) -> None:
        self.paused_until = until
        self._saw(effective_at, cause)

    # Not a preference change: it leaves last_effective_at alone, so an ESP resubscribe is judged as before.
    @event("ResubscribeRequested")
    def _resubscribe_requested(self, contact_id: UUID, message_id: UUID, requested_at: datetime) -> None:
        self.resubscribe_requested_at = requested_at

    # Not a preference change: last_effective_at stays, as for ResubscribeRequested.
    @event("CauseNoted")
    def _cause_noted(self, contact_id: UUID, source: str, effective_at: datetime, cause: str) -> None:
        self.causes.add(cause)

    @event("Unpaused")
    def _unpaused(self, contact_id: UUID, source: str, effective_at: datetime, cause: str | None) -> None:
        self.paused_until = None
        self._saw(effective_at, cause)


def _clean_pause(value: object, effective_at: datetime) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise InvalidPause("paused_until is a date-time with a time zone offset, or null", field="paused_until")
    until = clean_instant(value, field="paused_until")
    if until <= effective_at:
        raise InvalidPause("paused_until must be later than the change itself", field="paused_until")
    return until
