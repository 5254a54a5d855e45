"""Given-events builders: domain tests start from recorded events, not from a chain of commands."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from domain.api_key import ApiKey

KEY_ID = UUID("0b6c6f7e-3a51-4d3e-9a57-5d2f1c0e9a11")
T0 = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)


def issued(name: str = "Deploy bot", role: str = "editor", key_id: UUID = KEY_ID) -> ApiKey.Issued:
    """The event of a key having been issued."""
    return ApiKey.Issued(
        originator_id=key_id,
        originator_version=1,
        timestamp=T0,
        originator_topic=get_topic(ApiKey),
        name=name,
        role=role,
        token_hash="0" * 64,
        prefix="tdg_AbCdEf",
    )


def renamed(version: int, name: str, key_id: UUID = KEY_ID) -> ApiKey.Renamed:
    """The event of a key having been renamed."""
    return ApiKey.Renamed(
        originator_id=key_id, originator_version=version, timestamp=T0 + timedelta(minutes=version), name=name
    )


def revoked(version: int, key_id: UUID = KEY_ID) -> ApiKey.Revoked:
    """The event of a key having been revoked."""
    return ApiKey.Revoked(originator_id=key_id, originator_version=version, timestamp=T0 + timedelta(minutes=version))


def replay(events: Iterable[Any]) -> Any:
    """The aggregate these events build, the way a repository rebuilds it."""
    aggregate = None
    for e in events:
        aggregate = e.mutate(aggregate)
    return aggregate


def given(*events: Any) -> ApiKey:
    """An API key with exactly this history and no pending events."""
    key = replay(events)
    assert isinstance(key, ApiKey)
    return key


def state(aggregate: Any) -> dict[str, Any]:
    """Everything an aggregate holds except its not-yet-saved events."""
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}
