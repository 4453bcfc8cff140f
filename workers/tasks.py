"""Taskiq tasks. They hold no business rules: each calls a backend service."""

from __future__ import annotations

import contextlib
import logging
from typing import Annotated
from uuid import UUID

import aiohttp
from taskiq import AsyncBroker, Context, TaskiqDepends

from backend.core.queue import IMPORT_JOB_TASK, SEND_BATCH_TASK
from backend.delivery.sender import BatchSender

logger = logging.getLogger(__name__)


async def send_batch(batch_id: str, context: Annotated[Context, TaskiqDepends()]) -> None:
    services = context.state.services
    # The process's composition root (workers.broker, or backend.app for the embedded
    # default) opens one HTTP session that every send task shares.
    http: aiohttp.ClientSession | None = services.http.get()
    async with contextlib.AsyncExitStack() as stack:
        if http is None:
            # Enqueued from another event loop (a test): the shared session is unusable here.
            http = await stack.enter_async_context(aiohttp.ClientSession())
        sender = BatchSender(
            services.settings, services.database, services.publisher, http, services.limiter
        )
        try:
            await sender.run(UUID(batch_id))
        except Exception:
            logger.exception("send task failed", extra={"batch_id": batch_id})
            raise


async def run_import(
    import_id: str,
    job_id: str,
    context: Annotated[Context, TaskiqDepends()],
    batch_name: str = "",
) -> None:
    # Imported here: a worker that only sends never loads the spreadsheet readers.
    from backend.imports.jobs import run_import_job

    services = context.state.services
    await run_import_job(
        services.database,
        services.publisher,
        services.settings,
        UUID(import_id),
        UUID(job_id),
        batch_name,
    )


def register_tasks(broker: AsyncBroker) -> None:
    broker.register_task(run_import, task_name=IMPORT_JOB_TASK)
    broker.register_task(send_batch, task_name=SEND_BATCH_TASK)
