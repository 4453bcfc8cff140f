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

    return RedisStreamBroker(url=settings.redis_url, queue_name="cca:tasks")


class TaskQueue:
    def __init__(self, broker: AsyncBroker) -> None:
        self.broker = broker

    async def enqueue(self, task_name: str, **kwargs: Any) -> None:
        await AsyncKicker(task_name=task_name, broker=self.broker, labels={}).kiq(**kwargs)
