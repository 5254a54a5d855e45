"""Per-ESP-connection throttle: a token bucket of messages per second shared by every run through it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class TokenBucket:
    """``rate`` messages per second on average, bursts up to ``burst`` (default: one second's worth)."""

    def __init__(self, rate: float, burst: float | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = max(1.0, burst if burst is not None else rate)
        self._clock = clock
        self._tokens = self.burst
        self._at = clock()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now

    def wait_time(self, n: float) -> float:
        """Seconds until ``n`` tokens are there (0 when they are now)."""
        self._refill()
        return max(0.0, (n - self._tokens) / self.rate)

    async def acquire(self, n: int) -> None:
        """Take ``n`` tokens, waiting as long as the rate requires (a batch larger than the burst goes in debt)."""
        async with self._lock:
            need = min(float(n), self.burst)
            wait = self.wait_time(need)
            if wait > 0:
                await asyncio.sleep(wait)
                self._refill()
            self._tokens -= n
