"""How long a 429 asks us to wait, from the headers ESPs send."""

from __future__ import annotations

from email.utils import formatdate

import pytest

from interfaces.transports.http_replies import MAX_WAIT, retry_after

NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"retry-after": formatdate(NOW + 30, usegmt=True)}, 30.0),
        ({"X-RateLimit-Reset": str(int(NOW + 12))}, 12.0),
        ({"X-RateLimit-Reset": str(int(NOW * 1000 + 4000))}, 4.0),
        ({"X-RateLimit-Reset": "5"}, 5.0),
        ({"X-RateLimit-Reset": str(int(NOW - 3))}, 0.0),
        ({"Retry-After": "99999"}, MAX_WAIT),
        ({"Retry-After": "soon", "X-RateLimit-Reset": str(int(NOW + 2))}, 2.0),
        ({}, None),
    ],
)
def test_reads_the_wait_from_retry_after_or_the_rate_limit_reset(
    headers: dict[str, str], expected: float | None
) -> None:
    assert retry_after(headers, now=NOW) == expected
