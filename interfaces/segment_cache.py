"""Caching of ad-hoc segment previews, invalidated by the events that can change their answer.

A preview's key is the definition's hash plus the positions of the read models it is evaluated over
(contacts, tags, activity, saved segments, preferences, suppressions). Any event that can change the
answer advances one of those positions, so a new key is used from then on and stale entries simply
expire; nothing has to find and delete them. Definitions with windows relative to now also carry the
minute, so "within 7 days" moves on. Redis holds the entries when configured (shared by every process),
else a small in-process LRU.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict
from datetime import datetime
from typing import Any, Protocol

import msgspec
import redis.asyncio as aioredis

TTL_SECONDS = 120
READ_MODELS = (
    "contacts", "tags", "contact_activity", "contact_event_summary", "segments", "preferences", "suppressions",
)  # fmt: skip


def preview_key(definition: Any, sample: int, positions: dict[str, int], now: datetime) -> str:
    """The cache key of a preview of ``definition`` over read models at ``positions``."""
    canonical = json.dumps(definition, sort_keys=True, separators=(",", ":"))
    moves_with_clock = '"within_days"' in canonical or '"segment"' in canonical
    parts = [canonical, str(sample), *(f"{name}={positions.get(name, 0)}" for name in READ_MODELS)]
    if moves_with_clock:
        parts.append(now.strftime("%Y-%m-%dT%H:%M"))
    return "preview:" + hashlib.sha256("\n".join(parts).encode()).hexdigest()


class PreviewCache(Protocol):
    """Where preview answers are kept for a short while."""

    async def get(self, key: str) -> dict[str, Any] | None:
        """The cached answer, or None."""
        ...

    async def put(self, key: str, value: dict[str, Any]) -> None:
        """Keep an answer for ``TTL_SECONDS``."""
        ...


class MemoryPreviewCache:
    """In-process LRU with expiry, for the embedded default (one process)."""

    def __init__(self, capacity: int = 512) -> None:
        self._entries: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()
        self._capacity = capacity

    async def get(self, key: str) -> dict[str, Any] | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            self._entries.pop(key, None)
            return None
        self._entries.move_to_end(key)
        return entry[1]

    async def put(self, key: str, value: dict[str, Any]) -> None:
        self._entries[key] = (time.monotonic() + TTL_SECONDS, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)


class RedisPreviewCache:
    """Entries in Redis under the installation's prefix, shared by every process."""

    def __init__(self, client: aioredis.Redis, prefix: str) -> None:
        self._client = client
        self._prefix = prefix

    async def get(self, key: str) -> dict[str, Any] | None:
        raw = await self._client.get(self._prefix + key)
        return None if raw is None else dict(msgspec.json.decode(raw))

    async def put(self, key: str, value: dict[str, Any]) -> None:
        await self._client.set(self._prefix + key, msgspec.json.encode(value), ex=TTL_SECONDS)
