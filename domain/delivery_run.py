"""One run of a campaign (the audience snapshot taken at its send time) and the batches it hands over.

A one-off campaign has one run; a recurring campaign one per occurrence, each with its own snapshot and
figures. A run's id is derived from (campaign, occurrence) and a message's id from (run, contact), so a
worker that crashes and starts again finds the same run and gives every recipient the same message id.

Every hand-over of a batch is a ``DeliveryBatch``: one event holding each message's outcome in that
attempt (sent with the provider's id, to retry, failed for good, or skipped because the contact became
ineligible). Its id is the claim token the worker wrote on the batch's queue rows before sending, so after
a crash the worker can tell a batch whose outcome was recorded (apply it, send nothing) from one that
was not (hand it over again, with the same Message-IDs). The run aggregate itself stays small: it is
loaded on every batch and must not grow with the audience.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import event

from domain.events import TidingsAggregate
from domain.ids import DELIVERY_RUNS


def run_id(campaign_id: UUID, occurrence: datetime) -> UUID:
    """The run of ``campaign_id`` due at ``occurrence`` (an aware instant, to the second)."""
    return uuid5(DELIVERY_RUNS, f"{campaign_id}:{occurrence.astimezone(UTC).isoformat(timespec='seconds')}")


def message_id(run: UUID, contact_id: UUID) -> UUID:
    """The one message ``contact_id`` gets from run ``run``."""
    return uuid5(run, str(contact_id))


class DeliveryRun(TidingsAggregate):
    """A campaign's send to the audience it had at one occurrence."""

    @classmethod
    def start(
        cls, *, campaign_id: UUID, occurrence: datetime, content_version: int, esp_connection_id: UUID | None,
        audience: int, removed: dict[str, int],
    ) -> DeliveryRun:  # fmt: skip
        """A run whose audience (``audience`` messages; ``removed`` counted per targeting rule) was snapshotted."""
        return cls(
            id=run_id(campaign_id, occurrence), campaign_id=campaign_id, occurrence=occurrence,
            content_version=content_version, esp_connection_id=esp_connection_id, audience=audience,
            removed=removed,
        )  # fmt: skip

    @event("Started")
    def __init__(
        self, *, id: UUID, campaign_id: UUID, occurrence: datetime, content_version: int,  # noqa: A002
        esp_connection_id: UUID | None, audience: int, removed: dict[str, int],
    ) -> None:  # fmt: skip
        self.campaign_id = campaign_id
        self.occurrence = occurrence
        self.content_version = content_version
        self.esp_connection_id = esp_connection_id
        self.audience = audience
        self.removed = dict(removed)
        self.finished_at: datetime | None = None
        self.outcome: str | None = None
        self.totals: dict[str, int] = {}

    def finish(self, at: datetime, outcome: str, totals: dict[str, int]) -> None:
        """Close the run (``completed`` or ``cancelled``) with its final counts; a second call changes nothing."""
        if self.finished_at is None:
            self._finished(at=at, outcome=outcome, totals=dict(totals))

    @event("Finished")
    def _finished(self, at: datetime, outcome: str, totals: dict[str, int]) -> None:
        self.finished_at = at
        self.outcome = outcome
        self.totals = totals


class DeliveryBatch(TidingsAggregate):
    """The outcome of one hand-over of a batch of a run's messages (created once; never changes)."""

    @classmethod
    def record(
        cls, *, token: UUID, run: UUID, attempt_at: datetime,
        sent: Sequence[tuple[UUID, str | None]] = (), retry: Sequence[tuple[UUID, str]] = (),
        failed: Sequence[tuple[UUID, str]] = (), skipped: Sequence[tuple[UUID, str]] = (),
    ) -> DeliveryBatch:  # fmt: skip
        """The batch claimed under ``token``: each message's outcome in this attempt."""
        return cls(
            id=token, run_id=run, attempt_at=attempt_at,
            sent=[[str(m), p] for m, p in sent], retry=[[str(m), r] for m, r in retry],
            failed=[[str(m), r] for m, r in failed], skipped=[[str(m), r] for m, r in skipped],
        )  # fmt: skip

    @event("Recorded")
    def __init__(
        self, *, id: UUID, run_id: UUID, attempt_at: datetime,  # noqa: A002
        sent: list[Any], retry: list[Any], failed: list[Any], skipped: list[Any],
    ) -> None:  # fmt: skip
        self.run_id = run_id
        self.attempt_at = attempt_at
        self.sent = sent
        self.retry = retry
        self.failed = failed
        self.skipped = skipped
