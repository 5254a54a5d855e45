"""Remembers signed deliveries already stored, so that a replayed signature is answered as a duplicate.

Checked before storing and remembered only after the durable write: an ESP retrying after our 5xx
sends the same signature and must not be turned away.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any, Protocol


class ReplayGuard(Protocol):
    """Seen-before checks for signed deliveries."""

    async def seen(self, key: str) -> bool:
        """Whether ``key`` was remembered and has not expired."""
        ...

    async def remember(self, key: str, ttl: int) -> None:
        """Remember ``key`` for ``ttl`` seconds."""
        ...


class MemoryReplayGuard:
    """In-process, bounded (oldest forgotten first)."""

    def __init__(self, capacity: int = 200_000, clock: Any = time.monotonic) -> None:
        self._keys: OrderedDict[str, float] = OrderedDict()
        self._capacity = capacity
        self._clock = clock
        self._lock = threading.Lock()

    async def seen(self, key: str) -> bool:
        """Whether ``key`` was remembered and has not expired."""
        with self._lock:
            expires = self._keys.get(key)
            return expires is not None and expires > self._clock()

    async def remember(self, key: str, ttl: int) -> None:
        """Remember ``key`` for ``ttl`` seconds."""
        with self._lock:
            self._keys[key] = self._clock() + ttl
            self._keys.move_to_end(key)
            while len(self._keys) > self._capacity:
                self._keys.popitem(last=False)


class RedisReplayGuard:
    """Shared by every process through Redis keys with an expiry."""

    def __init__(self, client: Any, prefix: str) -> None:
        self._client = client
        self._prefix = f"{prefix}replay:"

    async def seen(self, key: str) -> bool:
        """Whether ``key`` was remembered and has not expired."""
        return bool(await self._client.exists(self._prefix + key))

    async def remember(self, key: str, ttl: int) -> None:
        """Remember ``key`` for ``ttl`` seconds."""
        await self._client.set(self._prefix + key, b"1", ex=max(1, ttl))
