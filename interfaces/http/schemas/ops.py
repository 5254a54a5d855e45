"""Operational response shapes."""

from __future__ import annotations

import msgspec


class Health(msgspec.Struct):
    """Liveness or readiness, with each dependency's state."""

    status: str
    checks: dict[str, str] = msgspec.field(default_factory=dict)


class ProjectionState(msgspec.Struct):
    """Where a read model stands."""

    name: str
    version: int
    position: int
    head: int
    lag: int
    updated_at: str | None
