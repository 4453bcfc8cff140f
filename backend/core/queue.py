"""The Taskiq broker and a small interface for enqueueing tasks by name.

Routes enqueue through `TaskQueue` so the backend never imports `workers/`. Task names are
the constants below; `workers.tasks` registers the functions under them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from taskiq import AckableMessage, AsyncBroker, InMemoryBroker
from taskiq.kicker import AsyncKicker
from taskiq_redis import RedisStreamBroker

from backend.core.config import Settings

logger = logging.getLogger(__name__)

SEND_BATCH_TASK = "batches.send"
IMPORT_JOB_TASK = "imports.run_job"
# Seconds between attempts to read the task stream again after Redis went away.
RECONNECT_SECONDS = 1.0


class ReconnectingRedisStreamBroker(RedisStreamBroker):
    """A Redis stream broker whose listener survives a Redis restart.

    In taskiq-redis 1.2 a connection error escapes `listen()`, which ends the worker's
    receiver and every task the process is running. This listener waits, declares its
    consumer group again (Redis without persistence loses it on restart) and reads on.
    """

    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        failing = False
        while True:
            try:
                async with contextlib.aclosing(super().listen()) as messages:
                    async for message in messages:
                        yield message
            except (RedisConnectionError, RedisTimeoutError, ResponseError) as error:
                if isinstance(error, ResponseError) and "NOGROUP" not in str(error):
                    raise
                if not failing:
                    logger.warning(
                        "task queue unreachable; reading again when Redis is back",
                        extra={"error": str(error)},
                    )
                failing = True
            await asyncio.sleep(RECONNECT_SECONDS)
            with contextlib.suppress(RedisConnectionError, RedisTimeoutError):
                # NOTE: a private method of taskiq-redis 1.2; recheck it when upgrading.
                await self._declare_consumer_group()
                if failing:
                    logger.info("task queue reachable again")
                failing = False


def build_broker(settings: Settings) -> AsyncBroker:
    """Build the in-process broker (embedded default, QUEUE_BACKEND=inline) or the Redis one."""
    if settings.inline_queue:
        # await_inplace=False: a kicked task runs in the background, so a launch request
        # returns at once as it does with a separate worker.
        return InMemoryBroker(max_async_tasks=8)

    # consumer_id="0": a consumer group created after tasks were queued (Redis restarted
    # without persistence, or the stream was deleted) still reads them, instead of only
    # tasks queued later. Send tasks are idempotent, so replaying old ones is harmless.
    # maxlen keeps the stream from growing without bound.
    return ReconnectingRedisStreamBroker(
        url=settings.redis_url,
        queue_name="cca:tasks",
        consumer_id="0",
        maxlen=10_000,
    )


class TaskQueue:
    def __init__(self, broker: AsyncBroker) -> None:
        self.broker = broker

    async def enqueue(self, task_name: str, **kwargs: Any) -> None:
        await AsyncKicker(task_name=task_name, broker=self.broker, labels={}).kiq(**kwargs)
