"""Audit history response shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec


class HistoryEvent(msgspec.Struct):
    """One recorded event."""

    type: str
    version: int
    timestamp: datetime
    actor: str
    request_id: str | None
    reason: str | None
    payload: dict[str, Any]


class History(msgspec.Struct):
    """An aggregate's whole history, oldest first."""

    aggregate_id: UUID
    events: list[HistoryEvent]


class StateAt(msgspec.Struct):
    """An aggregate's state at an instant, rebuilt by replaying its events."""

    aggregate_id: UUID
    aggregate_type: str
    version: int
    as_of: datetime
    state: dict[str, Any]
