"""Audit history: any aggregate's events as recorded, and its state at any past instant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.utils import resolve_topic

from application.base import TidingsApplication
from domain.errors import Invalid, NotFound
from domain.redaction import redact

# Fields every event has; the rest of an event is its payload.
_ENVELOPE = frozenset(
    {"originator_id", "originator_version", "timestamp", "actor", "request_id", "reason", "originator_topic"}
)


@dataclass(frozen=True)
class HistoryEntry:
    """One recorded event as an auditor sees it."""

    type: str
    version: int
    timestamp: datetime
    actor: str
    request_id: str | None
    reason: str | None
    payload: dict[str, Any]


@dataclass(frozen=True)
class StateAt:
    """An aggregate rebuilt as it was at an instant."""

    aggregate_id: UUID
    aggregate_type: str
    version: int
    as_of: datetime
    state: dict[str, Any]


class AuditHistory(TidingsApplication):
    """Read-only replays of the event log, on purpose (the one place queries replay aggregates)."""

    def entries(self, aggregate_id: UUID) -> list[HistoryEntry]:
        """Every event of the aggregate, oldest first, secrets redacted."""
        events = self._events(aggregate_id)
        declared = _declared_secrets(events[0])
        return [_entry(e, declared) for e in events]

    def state_at(self, aggregate_id: UUID, at: datetime) -> StateAt:
        """The aggregate's state as of ``at`` (inclusive), rebuilt by replaying its events."""
        if at.tzinfo is None:
            raise Invalid("the instant must include a time zone offset, e.g. 2026-01-31T12:00:00Z", at=at.isoformat())
        events = self._events(aggregate_id)
        before = [e for e in events if e.timestamp <= at]
        if not before:
            raise NotFound(
                f"aggregate {aggregate_id} did not exist yet at {at.isoformat()}",
                created_at=events[0].timestamp.isoformat(),
            )
        version = before[-1].originator_version
        aggregate: Any = self.repository.get(aggregate_id, version=version)
        state = {k: v for k, v in vars(aggregate).items() if not k.startswith("_")}
        return StateAt(
            aggregate_id=aggregate_id,
            aggregate_type=type(aggregate).__name__,
            version=version,
            as_of=at,
            state=redact(state, getattr(type(aggregate), "redacted", frozenset())),
        )

    def _events(self, aggregate_id: UUID) -> list[Any]:
        events = list(self.events.get(aggregate_id))
        if not events:
            raise NotFound(f"no events recorded for aggregate {aggregate_id}")
        return events


def _declared_secrets(first_event: Any) -> frozenset[str]:
    topic = getattr(first_event, "originator_topic", None)
    aggregate_class = resolve_topic(topic) if topic else None
    return getattr(aggregate_class, "redacted", frozenset())


def _entry(event: Any, declared: frozenset[str]) -> HistoryEntry:
    payload = {k: v for k, v in vars(event).items() if k not in _ENVELOPE}
    return HistoryEntry(
        type=type(event).__qualname__,
        version=event.originator_version,
        timestamp=event.timestamp,
        actor=event.actor,
        request_id=event.request_id,
        reason=event.reason,
        payload=redact(payload, declared),
    )
