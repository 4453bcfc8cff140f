"""The Redis event publisher while Redis is unreachable."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from backend.core.events import RedisEventPublisher
from tests.conftest import free_port


@pytest.fixture
async def unreachable_redis() -> AsyncIterator[Redis]:
    # Nothing listens on a port that was free a moment ago, so every command is refused.
    client = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1)
    yield client
    await client.aclose()


async def test_publish_drops_events_without_redis(
    unreachable_redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    publisher = RedisEventPublisher(unreachable_redis)
    account_id = uuid.uuid4()

    with caplog.at_level(logging.WARNING, logger="backend.core.events"):
        await publisher.publish(account_id, [{"type": "a"}, {"type": "b"}])
        await publisher.publish(account_id, [{"type": "c"}])

    assert publisher.dropped == 3
    warnings = [r for r in caplog.records if r.message.startswith("live events dropped")]
    assert len(warnings) == 1
    assert warnings[0].account_id == str(account_id)


async def test_publish_without_events_skips_redis(unreachable_redis: Redis) -> None:
    publisher = RedisEventPublisher(unreachable_redis)

    await publisher.publish(uuid.uuid4(), [])

    assert publisher.dropped == 0
