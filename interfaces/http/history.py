"""Audit endpoints: an aggregate's recorded events, and its state at an instant."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from uuid import UUID

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery

from application.history import AuditHistory
from interfaces.http.auth import ANY_ROLE
from interfaces.http.errors import documented
from interfaces.http.schemas.history import History, HistoryEvent, StateAt


class HistoryController(Controller):
    """Replay the event log on purpose, for auditors."""

    path = "/history"
    tags = ["audit"]
    guards = [ANY_ROLE]

    @get(
        "/{aggregate_id:uuid}",
        operation_id="getHistory",
        sync_to_thread=True,
        responses=documented(400, 401, 403, 404, 429),
    )
    def events(self, aggregate_id: FromPath[UUID], history: NamedDependency[AuditHistory]) -> History:
        """Every event recorded for the aggregate, oldest first, secrets redacted."""
        entries = history.entries(aggregate_id)
        return History(aggregate_id, [HistoryEvent(**asdict(e)) for e in entries])

    @get(
        "/{aggregate_id:uuid}/state",
        operation_id="getStateAt",
        sync_to_thread=True,
        responses=documented(400, 401, 403, 404, 422, 429),
    )
    def state(
        self,
        aggregate_id: FromPath[UUID],
        history: NamedDependency[AuditHistory],
        at: FromQuery[datetime | None] = None,
    ) -> StateAt:
        """The aggregate's state as of ``at`` (ISO 8601 with offset; default now), rebuilt from its events."""
        result = history.state_at(aggregate_id, at or datetime.now(UTC))
        return StateAt(**asdict(result))
