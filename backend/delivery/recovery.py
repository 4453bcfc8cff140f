"""Resume sends that a stopped process left behind.

A process that dies mid-chunk leaves its claimed recipients in `processing`, and a batch
whose send tasks were lost stays `running` with recipients still `queued`. At start-up the
API (embedded default) and each worker hand expired claims back to the queue and enqueue a
send task for every running batch that still has work. A claim whose lease has not expired
belongs to a live worker and is left alone. Running a second send task for a batch is
harmless: claims are atomic, and a recipient handed back keeps its request key, so its
group is sent again whole under the same Idempotency-Key.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from backend.batches.models import Batch, Recipient
from backend.core.database import Database
from backend.core.queue import SEND_BATCH_TASK, TaskQueue

logger = logging.getLogger(__name__)


async def recover_interrupted_sends(
    database: Database,
    queue: TaskQueue,
    *,
    release_all: bool = False,
    stalled_for: timedelta | None = None,
) -> int:
    """Requeue expired claims and restart running batches; return the batches restarted.

    With `release_all`, every claim is handed back, not only expired ones: right for a
    process that is the only sender. With `stalled_for`, only batches with no claimed
    recipient, no throttle and no recipient change for that long are restarted. That is
    how the periodic check separates a batch whose tasks died from one that is sending.
    A recipient waiting for a retry counts as a change until its not-before time, because
    the batch's task sleeps until then. A restarted batch with every recipient final is
    completed by its new task. A running batch whose claims were handed back is
    restarted in any case: its own task may have finished while the claims were out.
    """
    now = datetime.now(UTC)
    stale = Recipient.status == "processing"
    if not release_all:
        stale = stale & (Recipient.lease_until < now)
    async with database.session() as session:
        # The batches whose claims the UPDATE below hands back.
        released_batches = list(
            await session.scalars(select(Recipient.batch_id).where(stale).distinct())
        )
        released = await session.execute(
            update(Recipient).where(stale).values(status="queued", lease_until=None, updated_at=now)
        )
        # A running batch with nothing left to send is a candidate too: its task died after
        # the last request and before marking it completed, and a new task completes it.
        candidates = select(Batch.id).where(Batch.status == "running")
        if stalled_for is not None:
            quiet_since = now - stalled_for
            candidates = candidates.where(
                Batch.throttled_until.is_(None),
                ~select(Recipient.id)
                .where(
                    Recipient.batch_id == Batch.id,
                    (Recipient.status == "processing")
                    | (Recipient.updated_at > quiet_since)
                    | (Recipient.not_before > quiet_since),
                )
                .exists(),
            )
        batch_ids = list(await session.scalars(candidates))
        if released_batches:
            resumed = await session.scalars(
                select(Batch.id).where(
                    Batch.id.in_(released_batches),
                    Batch.status == "running",
                    Batch.id.not_in(batch_ids),
                )
            )
            batch_ids.extend(resumed)
        await session.commit()
    for batch_id in batch_ids:
        await queue.enqueue(SEND_BATCH_TASK, batch_id=str(batch_id))
    if released.rowcount or batch_ids:  # type: ignore[attr-defined]
        logger.info(
            "resumed interrupted sends",
            extra={"released": released.rowcount, "batches": len(batch_ids)},  # type: ignore[attr-defined]
        )
    return len(batch_ids)


async def reconcile_forever(
    database: Database, queue: TaskQueue, *, interval: float, stalled_after: float
) -> None:
    """Hand back expired claims and restart batches whose tasks died, every `interval` seconds.

    A sending batch changes some recipient every few seconds, so `stalled_after` seconds
    (STALLED_AFTER_SECONDS, default two minutes) with work left and nothing claimed means
    its tasks are gone.
    """
    stalled_for = timedelta(seconds=stalled_after)
    while True:
        await asyncio.sleep(interval)
        try:
            await recover_interrupted_sends(database, queue, stalled_for=stalled_for)
        except Exception:
            # A database or Redis outage: log it and try again at the next interval.
            logger.exception("reconciling sends failed")
