"""Token buckets: one contract for the in-process and the Redis limiter, then the limit as HTTP clients see it."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
import redis.asyncio
from httpx import Response
from litestar import Litestar
from litestar.testing import TestClient

from interfaces.bootstrap import Container, build
from interfaces.config import Settings
from interfaces.http.app import create_app
from interfaces.rate_limits import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from tests.conftest import REDIS_URL
from tests.interfaces.client import error_of, service, sign_in

SLOW = 0.001  # tokens per second: nothing refills during a test


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def limiter(request: pytest.FixtureRequest) -> AsyncIterator[RateLimiter]:
    """Each limiter implementation; the Redis one writes under this test's own prefix."""
    if request.param == "memory":
        yield MemoryRateLimiter()
        return
    client = redis.asyncio.Redis.from_url(REDIS_URL)
    yield RedisRateLimiter(client, request.getfixturevalue("redis_prefix"))
    await client.aclose()


async def test_a_burst_is_allowed_then_denied_with_a_retry_time(limiter: RateLimiter) -> None:
    decisions = [await limiter.hit("burst", SLOW, 3) for _ in range(4)]

    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert decisions[-1].retry_after > 0


async def test_the_retry_time_is_at_most_one_token_away(limiter: RateLimiter) -> None:
    await limiter.hit("retry", 0.5, 1)

    denied = await limiter.hit("retry", 0.5, 1)

    assert not denied.allowed
    assert 0 < denied.retry_after <= 2.0


async def test_tokens_refill_up_to_the_burst(limiter: RateLimiter) -> None:
    assert [(await limiter.hit("refill", 1000, 2)).allowed for _ in range(2)] == [True, True]

    await asyncio.sleep(0.05)

    assert [(await limiter.hit("refill", 1000, 2)).allowed for _ in range(2)] == [True, True]


async def test_keys_have_independent_buckets(limiter: RateLimiter) -> None:
    await limiter.hit("alice", SLOW, 1)

    assert not (await limiter.hit("alice", SLOW, 1)).allowed
    assert (await limiter.hit("bob", SLOW, 1)).allowed


def _limited(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, api_rate_burst=3, api_rate_per_second=SLOW)


def test_requests_beyond_the_burst_are_rate_limited(tmp_path: Path) -> None:
    with service(_limited(tmp_path)) as api:
        statuses = [api.client.get("/api/v1/keys", headers=api.admin).status_code for _ in range(3)]
        response = api.client.get("/api/v1/keys", headers=api.admin)

    assert statuses == [200, 200, 200]
    assert error_of(response, 429, "rate_limited")["retry_after_seconds"] > 0
    assert int(response.headers["Retry-After"]) >= 1


@pytest.fixture
def limited_container(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[Container, dict[str, str]]]:
    """A store whose admin may make three requests; Redis-backed when the test is marked ``redis``."""
    settings = _limited(tmp_path)
    if request.node.get_closest_marker("redis"):
        prefix = request.getfixturevalue("redis_prefix")
        settings = dataclasses.replace(settings, redis_url=REDIS_URL, redis_prefix=prefix)
    container = build(settings)
    _, admin = sign_in(container)
    yield container, admin
    container.close()


def _alternate(container: Container, admin: dict[str, str], requests: int) -> list[Response]:
    # Two app instances over one store, as two processes would be; projections are already caught up.
    with ExitStack() as stack:
        clients: list[TestClient[Litestar]] = [stack.enter_context(TestClient(create_app(container))) for _ in range(2)]
        return [clients[i % 2].get("/api/v1/keys", headers=admin) for i in range(requests)]


@pytest.mark.redis
def test_with_redis_two_app_instances_share_one_limit(
    limited_container: tuple[Container, dict[str, str]], redis_prefix: str
) -> None:
    responses = _alternate(*limited_container, requests=4)

    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    error_of(responses[-1], 429, "rate_limited")
    assert int(responses[-1].headers["Retry-After"]) >= 1
    client = redis.Redis.from_url(REDIS_URL)
    assert list(client.scan_iter(f"{redis_prefix}ratelimit:*"))
    client.close()


def test_without_redis_each_app_instance_has_its_own_limit(
    limited_container: tuple[Container, dict[str, str]],
) -> None:
    responses = _alternate(*limited_container, requests=8)

    assert [r.status_code for r in responses] == [200] * 6 + [429] * 2
