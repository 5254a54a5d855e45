"""When to retry a message and when to stop a campaign that is failing: pure rules the worker applies.

Retries back off exponentially with full jitter (a random wait between half and all of the exponential
step), so a throttled ESP is not hit by every worker at the same instant; a server's own ``Retry-After``
is a floor. After ``max_attempts`` hand-overs a transient failure becomes final. A run whose recent
hand-overs fail above ``error_rate`` (over at least ``min_sample`` of them) is paused for a human to look:
a revoked API key or a blocked sending domain would otherwise burn through the whole audience.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field

from domain.errors import Invalid


class InvalidDeliveryPolicy(Invalid):
    """Retry and pause thresholds must be positive and sensible."""

    code = "invalid_delivery_policy"


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently transient failures are retried."""

    max_attempts: int = 5
    base_seconds: float = 30.0
    cap_seconds: float = 3_600.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.base_seconds <= 0 or self.cap_seconds < self.base_seconds:
            raise InvalidDeliveryPolicy("need max_attempts ≥ 1 and 0 < base_seconds ≤ cap_seconds")

    def gives_up(self, attempts: int) -> bool:
        """True when a message that has now been handed over ``attempts`` times gets no further try."""
        return attempts >= self.max_attempts

    def delay(self, attempts: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait before the next hand-over of a message handed over ``attempts`` times."""
        step = min(self.cap_seconds, self.base_seconds * 2 ** max(0, attempts - 1))
        wait = rng.uniform(step / 2, step)
        return max(wait, retry_after or 0.0)


@dataclass
class ErrorRateWatch:
    """The failure share of a run's most recent hand-overs, and whether it calls for a pause."""

    error_rate: float = 0.5
    min_sample: int = 50
    window: int = 200
    _recent: deque[bool] = field(default_factory=deque, repr=False)

    def __post_init__(self) -> None:
        if not 0 < self.error_rate <= 1 or self.min_sample < 1 or self.window < self.min_sample:
            raise InvalidDeliveryPolicy("need 0 < error_rate ≤ 1 and 1 ≤ min_sample ≤ window")

    def observe(self, failures: int, successes: int) -> None:
        """Add one batch's hand-overs (failures: permanent or transient)."""
        self._recent.extend([True] * failures + [False] * successes)
        while len(self._recent) > self.window:
            self._recent.popleft()

    @property
    def rate(self) -> float:
        """Failures among the recent hand-overs (0 when there were none)."""
        return sum(self._recent) / len(self._recent) if self._recent else 0.0

    def should_pause(self) -> bool:
        """True when enough recent hand-overs failed often enough."""
        return len(self._recent) >= self.min_sample and self.rate > self.error_rate

    def reset(self) -> None:
        """Forget the past (after a human resumed the campaign)."""
        self._recent.clear()
