"""Taskiq tasks. They hold no business rules: each calls a backend service."""

from __future__ import annotations

import logging
from typing import Annotated
from uuid import UUID

import aiohttp
from taskiq import AsyncBroker, Context, TaskiqDepends

from backend.core.queue import SEND_BATCH_TASK
from backend.delivery.sender import BatchSender

logger = logging.getLogger(__name__)


async def send_batch(batch_id: str, context: Annotated[Context, TaskiqDepends()]) -> None:
    services = context.state.services
    async with aiohttp.ClientSession() as http:
        sender = BatchSender(
            services.settings, services.database, services.publisher, http, services.limiter
        )
        try:
            await sender.run(UUID(batch_id))
        except Exception:
            logger.exception("send task failed", extra={"batch_id": batch_id})
            raise


def register_tasks(broker: AsyncBroker) -> None:
    broker.register_task(send_batch, task_name=SEND_BATCH_TASK)
