"""The one event store every application shares: one table, one global order, one audit log.

Sharing the recorder (and its connection pool) keeps a single notification log that projections
follow, lets the audit endpoints find any aggregate by id, and serialises SQLite writers in-process.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, InfrastructureFactory
from eventsourcing.utils import Environment

STORE_NAME = "tidings"


class EventStoreResources:
    """The infrastructure factory and recorder built once from the persistence environment."""

    def __init__(self, env: Mapping[str, str], configure: Callable[[Any], None] | None = None) -> None:
        self.env = dict(env)
        self.factory = InfrastructureFactory.construct(Environment(STORE_NAME, self.env))
        if configure is not None:
            # Before the recorder: creating its table opens the pool's first connections.
            configure(self.factory.datastore)  # type: ignore[attr-defined]
        self.recorder: ApplicationRecorder = self.factory.application_recorder()
        self._listeners: list[Callable[[int], None]] = []

    def on_saved(self, listener: Callable[[int], None]) -> None:
        """Call ``listener(notification_id)`` after every successful save in this process."""
        self._listeners.append(listener)

    def saved(self, notification_id: int) -> None:
        """Tell listeners a save committed up to ``notification_id``."""
        for listener in self._listeners:
            listener(notification_id)

    def head(self) -> int:
        """Position of the newest committed event (0 when empty)."""
        return self.recorder.max_notification_id() or 0

    @property
    def datastore(self) -> Any:
        """The library datastore (SQLite or PostgreSQL) read models share."""
        return self.recorder.datastore  # type: ignore[attr-defined]

    def close(self) -> None:
        """Close the connection pool."""
        self.factory.close()
