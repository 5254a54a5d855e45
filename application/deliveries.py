"""Delivery use cases: start a run, record the outcome of each batch handed over, finish the run.

Every command is idempotent, because the worker that issues them may crash and issue them again: a run
or batch that already exists is returned as it is (its id is deterministic, so the second save collides
on the store's version check and the first copy wins).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from application.base import TidingsApplication
from domain.delivery_run import DeliveryBatch, DeliveryRun, run_id
from domain.errors import Conflict, NotFound


class Deliveries(TidingsApplication):
    """Campaign runs and the batches their workers hand over."""

    def start_run(
        self, *, campaign_id: UUID, occurrence: datetime, content_version: int, esp_connection_id: UUID | None,
        audience: int, removed: dict[str, int],
    ) -> DeliveryRun:  # fmt: skip
        """The run of ``campaign_id`` at ``occurrence``, started now unless it already was."""
        existing = self.find_run(run_id(campaign_id, occurrence))
        if existing is not None:
            return existing
        run = DeliveryRun.start(
            campaign_id=campaign_id, occurrence=occurrence, content_version=content_version,
            esp_connection_id=esp_connection_id, audience=audience, removed=removed,
        )  # fmt: skip
        try:
            self.save(run)
        except Conflict:
            started: DeliveryRun = self.load(run.id, DeliveryRun)
            return started
        return run

    def find_run(self, run: UUID) -> DeliveryRun | None:
        """The run, or None when it was never started."""
        try:
            found: DeliveryRun = self.load(run, DeliveryRun)
        except NotFound:
            return None
        return found

    def record_batch(
        self, *, token: UUID, run: UUID, attempt_at: datetime,
        sent: Sequence[tuple[UUID, str | None]] = (), retry: Sequence[tuple[UUID, str]] = (),
        failed: Sequence[tuple[UUID, str]] = (), skipped: Sequence[tuple[UUID, str]] = (),
    ) -> DeliveryBatch:  # fmt: skip
        """Record the outcome of the batch claimed under ``token``; the first record of a token wins."""
        batch = DeliveryBatch.record(
            token=token, run=run, attempt_at=attempt_at, sent=sent, retry=retry, failed=failed, skipped=skipped
        )
        try:
            self.save(batch)
        except Conflict:
            recorded: DeliveryBatch = self.load(token, DeliveryBatch)
            return recorded
        return batch

    def find_batch(self, token: UUID) -> DeliveryBatch | None:
        """The recorded outcome of the batch claimed under ``token``, or None when none was recorded."""
        try:
            found: DeliveryBatch = self.load(token, DeliveryBatch)
        except NotFound:
            return None
        return found

    def finish_run(self, run: UUID, at: datetime, outcome: str, totals: dict[str, int]) -> DeliveryRun:
        """Close the run with its final counts (again: no change)."""
        found: DeliveryRun = self.load(run, DeliveryRun)
        found.finish(at, outcome, totals)
        if found.pending_events:
            self.save(found)
        return found
