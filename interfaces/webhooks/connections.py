"""A short-lived in-process cache of ESP connections, so a webhook costs no database read to route.

Changes made through this process's API drop the entry at once; other processes see them within
``ttl`` seconds (a disabled connection may accept deliveries for that long).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from uuid import UUID

from projections.db import Database
from projections.esp_connections import ConnectionRow, get_connection


class ConnectionCache:
    """Connection rows by id, each kept for ``ttl`` seconds; unknown ids are never cached."""

    def __init__(
        self, db: Database, ttl: float = 2.0, capacity: int = 10_000, clock: Callable[[], float] = time.monotonic
    ):
        self._db = db
        self._ttl = ttl
        self._capacity = capacity
        self._clock = clock
        self._rows: dict[UUID, tuple[float, ConnectionRow]] = {}
        self._lock = threading.Lock()

    def cached(self, connection_id: UUID) -> ConnectionRow | None:
        """The row if it is cached and fresh (no I/O)."""
        with self._lock:
            entry = self._rows.get(connection_id)
        if entry and entry[0] > self._clock():
            return entry[1]
        return None

    def load(self, connection_id: UUID) -> ConnectionRow | None:
        """Read the row from the read model and cache it (blocking I/O: call from a worker thread)."""
        row = get_connection(self._db, connection_id)
        if row is not None:
            with self._lock:
                if len(self._rows) >= self._capacity:
                    self._rows.clear()
                self._rows[connection_id] = (self._clock() + self._ttl, row)
        return row

    def forget(self, connection_id: UUID) -> None:
        """Drop a connection that was just changed."""
        with self._lock:
            self._rows.pop(connection_id, None)
