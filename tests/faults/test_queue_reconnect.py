"""The worker's task stream listener across a Redis restart."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from pathlib import Path

import pytest
from taskiq import AckableMessage

from backend.core.config import load_settings
from backend.core.queue import SEND_BATCH_TASK, TaskQueue, build_broker
from tests.faults.conftest import RedisServer

pytestmark = pytest.mark.faults


async def next_message(messages: AsyncGenerator[bytes | AckableMessage, None]) -> AckableMessage:
    message = await asyncio.wait_for(anext(messages), timeout=30)
    assert isinstance(message, AckableMessage)
    await message.ack()
    return message


async def test_listener_reads_after_redis_restart(fault_dir: Path) -> None:
    redis = RedisServer(fault_dir)
    await redis.start()
    settings = load_settings(
        environ={"REDIS_URL": redis.url, "QUEUE_BACKEND": "redis"}, env_file=None
    )
    broker = build_broker(settings)
    await broker.startup()
    queue = TaskQueue(broker)
    messages = broker.listen()
    try:
        await queue.enqueue(SEND_BATCH_TASK, batch_id="before-restart")
        before = await next_message(messages)

        # Redis without persistence comes back without the stream and its consumer group.
        await redis.stop()
        await asyncio.sleep(0.5)
        await redis.start()
        await queue.enqueue(SEND_BATCH_TASK, batch_id="after-restart")
        after = await next_message(messages)
    finally:
        await messages.aclose()
        await broker.shutdown()
        await redis.stop()

    assert b"before-restart" in before.data
    assert b"after-restart" in after.data
