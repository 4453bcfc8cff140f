"""Batches: listing, counts per recipient state, launch, and completion."""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.activity.service import record_activity
from backend.batches.models import RECIPIENT_STATUSES, Batch, Recipient
from backend.core.errors import ConflictError, NotFoundError, ValidationError
from backend.core.events import Event
from backend.core.queue import SEND_BATCH_TASK, TaskQueue

logger = logging.getLogger(__name__)

ACTIVE_RECIPIENT_STATUSES = ("staged", "queued", "processing")
MAX_SEND_TASKS = 4


async def recipient_counts(session: AsyncSession, batch_id: UUID) -> dict[str, int]:
    counts = dict.fromkeys(RECIPIENT_STATUSES, 0)
    rows = await session.execute(
        select(Recipient.status, func.count())
        .where(Recipient.batch_id == batch_id)
        .group_by(Recipient.status)
    )
    for status, count in rows.tuples():
        counts[status] = count
    return counts


def progress_event(batch: Batch, counts: dict[str, int]) -> Event:
    done = counts["sent"] + counts["failed"] + counts["unsubscribed"] + counts["cancelled"]
    rate = 0.0
    eta: int | None = None
    if batch.launched_at is not None and batch.status == "running":
        elapsed = (datetime.now(UTC) - batch.launched_at).total_seconds()
        if elapsed > 0:
            rate = round(counts["sent"] / elapsed, 1)
        remaining = batch.total - done
        eta = math.ceil(remaining / rate) if rate > 0 else None
    return {
        "type": "batch.progress",
        "batch_id": str(batch.id),
        "status": batch.status,
        "counts": counts,
        "total": batch.total,
        "rate": rate,
        "eta_seconds": eta,
    }


class BatchService:
    def __init__(self, session: AsyncSession, account_id: UUID) -> None:
        self.session = session
        self.account_id = account_id

    async def list_batches(
        self, *, after: UUID | None, limit: int
    ) -> tuple[list[Batch], UUID | None]:
        query = select(Batch).where(Batch.account_id == self.account_id)
        if after is not None:
            query = query.where(Batch.id < after)
        rows = list(
            (await self.session.scalars(query.order_by(Batch.id.desc()).limit(limit + 1))).all()
        )
        return rows[:limit], rows[limit - 1].id if len(rows) > limit else None

    async def get(self, batch_id: UUID) -> Batch:
        batch = await self.session.scalar(
            select(Batch).where(Batch.id == batch_id, Batch.account_id == self.account_id)
        )
        if batch is None:
            raise NotFoundError(f"Batch {batch_id} was not found.")
        return batch

    async def recipients(
        self, batch_id: UUID, *, status: str | None, after: UUID | None, limit: int
    ) -> tuple[list[Recipient], UUID | None]:
        batch = await self.get(batch_id)
        query = select(Recipient).where(Recipient.batch_id == batch.id)
        if status:
            if status not in RECIPIENT_STATUSES:
                raise ValidationError(
                    f"'{status}' is not a recipient status; use one of "
                    f"{', '.join(RECIPIENT_STATUSES)}.",
                    field="status",
                )
            query = query.where(Recipient.status == status)
        if after is not None:
            query = query.where(Recipient.id > after)
        rows = list(
            (await self.session.scalars(query.order_by(Recipient.id).limit(limit + 1))).all()
        )
        return rows[:limit], rows[limit - 1].id if len(rows) > limit else None

    async def launch(self, batch_id: UUID, queue: TaskQueue, chunk_size: int) -> Batch:
        batch = await self.get(batch_id)
        if batch.status != "staged":
            raise ConflictError(
                f"Batch '{batch.name}' is {batch.status}; only a staged batch can be launched."
            )

        now = datetime.now(UTC)
        claimed = await self.session.execute(
            update(Batch)
            .where(Batch.id == batch.id, Batch.status == "staged")
            .values(status="running", launched_at=now, updated_at=now)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            raise ConflictError(f"Batch '{batch.name}' was launched by another request.")
        queued = await self.session.execute(
            update(Recipient)
            .where(Recipient.batch_id == batch.id, Recipient.status == "staged")
            .values(status="queued", updated_at=now)
        )
        record_activity(
            self.session,
            self.account_id,
            "batch_launched",
            f"Launched batch '{batch.name}' to {queued.rowcount} recipients.",  # type: ignore[attr-defined]
            subject_type="batch",
            subject_id=batch.id,
        )
        await self.session.commit()
        await self.session.refresh(batch)

        tasks = max(1, min(MAX_SEND_TASKS, math.ceil(queued.rowcount / chunk_size)))  # type: ignore[attr-defined]
        for _ in range(tasks):
            await queue.enqueue(SEND_BATCH_TASK, batch_id=str(batch.id))
        logger.info("batch launched", extra={"batch_id": str(batch.id), "tasks": tasks})
        return batch
