"""The Taskiq broker and a small interface for enqueueing tasks by name.

Routes enqueue through `TaskQueue` so the backend never imports `workers/`. Task names are
the constants below; `workers.tasks` registers the functions under them.
"""

from __future__ import annotations

from typing import Any

from taskiq import AsyncBroker, InMemoryBroker
from taskiq.kicker import AsyncKicker

from backend.core.config import Settings

SEND_BATCH_TASK = "batches.send"


def build_broker(settings: Settings) -> AsyncBroker:
    """Build the in-process broker (embedded default, QUEUE_BACKEND=inline) or the Redis one."""
    if settings.inline_queue:
        # await_inplace=False: a kicked task runs in the background, so a launch request
        # returns at once as it does with a separate worker.
        return InMemoryBroker(max_async_tasks=8)

    from taskiq_redis import RedisStreamBroker

    # consumer_id="0": a consumer group created after tasks were queued (Redis restarted
    # without persistence, or the stream was deleted) still reads them, instead of only
    # tasks queued later. Send tasks are idempotent, so replaying old ones is harmless.
    # maxlen keeps the stream from growing without bound.
    return RedisStreamBroker(
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
