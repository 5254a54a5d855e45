"""Token buckets per key: in Redis (shared by every process) or in-process when Redis is not configured.

Both answer the same question the same way: may this key spend one token now, and if not, how many
seconds until it may.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Decision:
    """Whether a request may proceed, and when to retry if not."""

    allowed: bool
    retry_after: float = 0.0


class RateLimiter(Protocol):
    """Spends one token from ``key``'s bucket."""

    async def hit(self, key: str, rate: float, burst: int) -> Decision:
        """Spend a token if there is one."""
        ...


class MemoryRateLimiter:
    """Buckets in this process's memory; the same behaviour as Redis for a single process."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    async def hit(self, key: str, rate: float, burst: int) -> Decision:
        """Spend a token if there is one."""
        with self._lock:
            now = self._clock()
            tokens, last = self._buckets.get(key, (float(burst), now))
            tokens = min(float(burst), tokens + (now - last) * rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return Decision(True)
            self._buckets[key] = (tokens, now)
            return Decision(False, (1 - tokens) / rate)


# One round trip, atomic, using the server's clock so that every process agrees on time.
_BUCKET_SCRIPT = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
tokens = math.min(burst, tokens + (now - ts) * rate / 1000)
local allowed = 0
local retry_ms = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retry_ms = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return {allowed, retry_ms}
"""


class RedisRateLimiter:
    """Buckets in Redis, shared by every process of the deployment."""

    def __init__(self, client: Any, prefix: str) -> None:
        self._client = client
        self._prefix = prefix
        self._script = client.register_script(_BUCKET_SCRIPT)

    async def hit(self, key: str, rate: float, burst: int) -> Decision:
        """Spend a token if there is one."""
        allowed, retry_ms = await self._script(keys=[f"{self._prefix}ratelimit:{key}"], args=[rate, burst])
        return Decision(bool(allowed), int(retry_ms) / 1000)


def retry_after_header(decision: Decision) -> str:
    """Whole seconds for the Retry-After header (at least 1)."""
    return str(max(1, math.ceil(decision.retry_after)))
