"""Worker heartbeats in Redis: counted while they beat, gone once stopped."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from backend.core.presence import count_workers, heartbeat_forever
from tests.conftest import REDIS_URL, require_service


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    require_service(REDIS_URL, 6379, "Redis")
    client = Redis.from_url(REDIS_URL)
    stale = [key async for key in client.scan_iter(match="cca:worker:*")]
    if stale:
        await client.delete(*stale)
    yield client
    await client.aclose()


async def test_heartbeat_counted_then_removed(redis: Redis) -> None:
    beating = asyncio.create_task(heartbeat_forever(redis, "cca:worker:test:1"))
    while await count_workers(redis) == 0:
        await asyncio.sleep(0.01)
    counted = await count_workers(redis)

    beating.cancel()
    await asyncio.gather(beating, return_exceptions=True)

    assert counted == 1
    assert await count_workers(redis) == 0
    assert await redis.ttl("cca:worker:test:1") == -2
