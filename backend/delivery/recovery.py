"""Resume sends that a stopped process left behind.

A process that dies mid-chunk leaves its claimed recipients in `processing`, and a batch
whose send tasks were lost stays `running` with recipients still `queued`. At start-up the
API (embedded default) and each worker hand expired claims back to the queue and enqueue a
send task for every running batch that still has work. Running a second send task for a
batch is harmless: claims are atomic, so no recipient is sent twice by it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import select, update

from backend.batches.models import Batch, Recipient
from backend.core.database import Database
from backend.core.queue import SEND_BATCH_TASK, TaskQueue

logger = logging.getLogger(__name__)


async def recover_interrupted_sends(
    database: Database, queue: TaskQueue, *, release_all: bool = False
) -> int:
    """Requeue expired claims and restart running batches; return the batches restarted.

    With `release_all`, every claim is handed back, not only expired ones: right for a
    process that is the only sender.
    """
    now = datetime.now(UTC)
    stale = Recipient.status == "processing"
    if not release_all:
        stale = stale & (Recipient.lease_until < now)
    async with database.session() as session:
        released = await session.execute(
            update(Recipient).where(stale).values(status="queued", lease_until=None, updated_at=now)
        )
        batch_ids = list(
            await session.scalars(
                select(Batch.id)
                .where(Batch.status == "running")
                .where(
                    select(Recipient.id)
                    .where(
                        Recipient.batch_id == Batch.id,
                        Recipient.status.in_(("queued", "processing")),
                    )
                    .exists()
                )
            )
        )
        await session.commit()
    for batch_id in batch_ids:
        await queue.enqueue(SEND_BATCH_TASK, batch_id=str(batch_id))
    if released.rowcount or batch_ids:  # type: ignore[attr-defined]
        logger.info(
            "resumed interrupted sends",
            extra={"released": released.rowcount, "batches": len(batch_ids)},  # type: ignore[attr-defined]
        )
    return len(batch_ids)
