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
PAST_TENSE = {"pause": "paused", "resume": "resumed", "cancel": "cancelled"}
# An import job writes a batch's recipients in this status and flips it to "staged" at the
# end, so no route shows or launches a half-written batch.
HIDDEN_BATCH_STATUS = "staging"


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
        "throttled_until": batch.throttled_until.isoformat() if batch.throttled_until else None,
    }


class BatchService:
    def __init__(self, session: AsyncSession, account_id: UUID) -> None:
        self.session = session
        self.account_id = account_id

    async def list_batches(
        self, *, after: UUID | None, limit: int
    ) -> tuple[list[Batch], UUID | None]:
        query = select(Batch).where(
            Batch.account_id == self.account_id, Batch.status != HIDDEN_BATCH_STATUS
        )
        if after is not None:
            query = query.where(Batch.id < after)
        rows = list(
            (await self.session.scalars(query.order_by(Batch.id.desc()).limit(limit + 1))).all()
        )
        return rows[:limit], rows[limit - 1].id if len(rows) > limit else None

    async def get(self, batch_id: UUID) -> Batch:
        batch = await self.session.scalar(
            select(Batch).where(
                Batch.id == batch_id,
                Batch.account_id == self.account_id,
                Batch.status != HIDDEN_BATCH_STATUS,
            )
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

        # One task per batch: it keeps the account's send_concurrency requests in flight.
        await queue.enqueue(SEND_BATCH_TASK, batch_id=str(batch.id))
        logger.info(
            "batch launched",
            extra={"batch_id": str(batch.id), "recipients": queued.rowcount},  # type: ignore[attr-defined]
        )
        return batch


class BatchControls:
    """Operator actions on a batch: pause, resume, cancel, retry failed recipients."""

    def __init__(
        self, session: AsyncSession, account_id: UUID, queue: TaskQueue, chunk_size: int
    ) -> None:
        self.session = session
        self.account_id = account_id
        self.queue = queue
        self.chunk_size = chunk_size
        self.batches = BatchService(session, account_id)

    async def pause(self, batch_id: UUID) -> Batch:
        batch = await self.batches.get(batch_id)
        await self._transition(
            batch, ("running",), "paused", "pause", pause_reason="Paused by the operator."
        )
        self._record(batch, "batch_paused", f"Paused batch '{batch.name}'.")
        await self.session.commit()
        return batch

    async def resume(self, batch_id: UUID) -> Batch:
        batch = await self.batches.get(batch_id)
        await self._transition(batch, ("paused",), "running", "resume", pause_reason="")
        self._record(batch, "batch_resumed", f"Resumed batch '{batch.name}'.")
        await self.session.commit()
        await self._enqueue(batch)
        return batch

    async def cancel(self, batch_id: UUID) -> Batch:
        batch = await self.batches.get(batch_id)
        await self._transition(batch, ("staged", "running", "paused"), "cancelled", "cancel")
        now = datetime.now(UTC)
        # Recipients already claimed by a worker finish their request and keep its outcome.
        cancelled = await self.session.execute(
            update(Recipient)
            .where(Recipient.batch_id == batch.id, Recipient.status.in_(("staged", "queued")))
            .values(status="cancelled", error="The batch was cancelled.", updated_at=now)
        )
        self._record(
            batch,
            "batch_cancelled",
            f"Cancelled batch '{batch.name}'; {cancelled.rowcount} recipients were not sent.",  # type: ignore[attr-defined]
        )
        await self.session.commit()
        return batch

    async def retry_failed(self, batch_id: UUID, recipient_ids: list[UUID] | None) -> Batch:
        batch = await self.batches.get(batch_id)
        if batch.status not in ("running", "paused", "completed"):
            raise ConflictError(
                f"Batch '{batch.name}' is {batch.status}; failed recipients can be retried "
                "only in a running, paused or completed batch."
            )
        now = datetime.now(UTC)
        # A retried recipient is claimed into a new group, whose key comes from that group's
        # recipients. NOTE: a group of exactly the same recipients gets the same key again,
        # which Brevo drops as a repeat if it accepted that key in the last 15 minutes.
        query = (
            update(Recipient)
            .where(Recipient.batch_id == batch.id, Recipient.status == "failed")
            .values(
                status="queued",
                error="",
                attempts=0,
                request_key=None,
                not_before=None,
                updated_at=now,
            )
        )
        if recipient_ids is not None:
            query = query.where(Recipient.id.in_(recipient_ids))
        requeued = (await self.session.execute(query)).rowcount  # type: ignore[attr-defined]
        if not requeued:
            raise ConflictError(
                f"Batch '{batch.name}' has no failed recipients matching the request to retry."
            )
        if batch.status == "completed":
            batch.status = "running"
            batch.completed_at = None
        self._record(
            batch,
            "batch_retried",
            f"Retrying {requeued} failed recipients of batch '{batch.name}'.",
        )
        await self.session.commit()
        if batch.status == "running":
            await self._enqueue(batch)
        return batch

    async def _transition(
        self, batch: Batch, allowed: tuple[str, ...], target: str, action: str, **values: str
    ) -> None:
        if batch.status not in allowed:
            raise ConflictError(
                f"Batch '{batch.name}' is {batch.status}; it can be {PAST_TENSE[action]} only "
                f"when {' or '.join(allowed)}."
            )
        now = datetime.now(UTC)
        result = await self.session.execute(
            update(Batch)
            .where(Batch.id == batch.id, Batch.status == batch.status)
            .values(status=target, updated_at=now, **values)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise ConflictError(
                f"Batch '{batch.name}' changed state meanwhile; reload and try again."
            )
        await self.session.refresh(batch)

    def _record(self, batch: Batch, kind: str, message: str) -> None:
        record_activity(
            self.session, self.account_id, kind, message, subject_type="batch", subject_id=batch.id
        )

    async def _enqueue(self, batch: Batch) -> None:
        await self.queue.enqueue(SEND_BATCH_TASK, batch_id=str(batch.id))
