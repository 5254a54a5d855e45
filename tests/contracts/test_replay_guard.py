"""The replay guard behaves the same in process and in Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from interfaces.webhooks.replay import MemoryReplayGuard, RedisReplayGuard, ReplayGuard
from tests.conftest import REDIS_URL


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def guard(request: pytest.FixtureRequest, redis_prefix: str) -> AsyncIterator[ReplayGuard]:
    if request.param == "memory":
        yield MemoryReplayGuard()
        return
    client = aioredis.Redis.from_url(REDIS_URL)
    yield RedisReplayGuard(client, redis_prefix)
    await client.aclose()


async def test_a_key_is_unseen_until_remembered(guard: ReplayGuard) -> None:
    assert not await guard.seen("sendgrid:sig-1")
    await guard.remember("sendgrid:sig-1", 60)
    assert await guard.seen("sendgrid:sig-1")
    assert not await guard.seen("sendgrid:sig-2")


async def test_a_remembered_key_expires(guard: ReplayGuard) -> None:
    await guard.remember("mailgun:token", 1)
    assert await guard.seen("mailgun:token")
    await asyncio.sleep(1.2)
    assert not await guard.seen("mailgun:token")


async def test_the_memory_guard_forgets_the_oldest_beyond_its_capacity() -> None:
    guard = MemoryReplayGuard(capacity=2)
    for key in ("a", "b", "c"):
        await guard.remember(key, 60)
    assert [await guard.seen(k) for k in ("a", "b", "c")] == [False, True, True]
