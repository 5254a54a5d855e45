"""What the HTTP transports read the same way from any ESP's reply: how long a 429 asks us to wait."""

from __future__ import annotations

import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime

# A reset instant further away than this is not a pause we honour as asked: the worker's backoff caps it.
MAX_WAIT = 3600.0


def retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from ``Retry-After`` (seconds or HTTP date, RFC 9110 §10.2.3) or ``X-RateLimit-Reset``.

    ``X-RateLimit-Reset`` is an epoch second on SendGrid; an epoch in milliseconds is read as one, and a
    small number as seconds from now, as some gateways send them.
    """
    now = time.time() if now is None else now
    lowered = {k.lower(): v for k, v in headers.items()}
    value = lowered.get("retry-after")
    if value is not None:
        seconds = _number(value)
        if seconds is None:
            try:
                seconds = parsedate_to_datetime(value).timestamp() - now
            except (TypeError, ValueError):
                seconds = None
        if seconds is not None:
            return min(max(seconds, 0.0), MAX_WAIT)
    reset = _number(lowered.get("x-ratelimit-reset", ""))
    if reset is None:
        return None
    if reset > 100_000_000_000:
        reset /= 1000.0  # epoch milliseconds
    seconds = reset - now if reset > 1_000_000_000 else reset
    return min(max(seconds, 0.0), MAX_WAIT)


def _number(value: str) -> float | None:
    try:
        return float(value.strip())
    except ValueError:
        return None
