from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth.guards import Account
from backend.batches.models import Batch, Recipient
from backend.batches.service import BatchControls, BatchService, progress_event, recipient_counts
from backend.core.csv_export import csv_export, export_name
from backend.core.dependencies import DbSession, Services
from backend.core.pagination import Page, clamp_limit, parse_cursor
from backend.core.state import AppServices
from backend.templates.models import TemplateVersion
from backend.webhooks.service import DeliveryCounts, delivery_counts


class BatchOut(msgspec.Struct):
    id: UUID
    name: str
    status: str
    pause_reason: str
    throttled_until: datetime | None
    template_id: UUID
    template_version_id: UUID
    template_version_number: int
    subject: str
    sender_email: str
    sender_name: str
    transport: str
    total: int
    counts: dict[str, int]
    delivery: DeliveryCounts
    created_at: datetime
    launched_at: datetime | None
    completed_at: datetime | None


class RetryBody(msgspec.Struct, kw_only=True):
    recipient_ids: list[UUID] | None = None


class RecipientOut(msgspec.Struct):
    id: UUID
    email: str
    status: str
    row_number: int
    fields: dict[str, Any]
    error: str
    provider_message_id: str
    attempts: int
    sent_at: datetime | None
    updated_at: datetime


async def batch_out(session: AsyncSession, batch: Batch) -> BatchOut:
    number = await session.scalar(
        select(TemplateVersion.number).where(TemplateVersion.id == batch.template_version_id)
    )
    return BatchOut(
        id=batch.id,
        name=batch.name,
        status=batch.status,
        pause_reason=batch.pause_reason,
        throttled_until=batch.throttled_until,
        template_id=batch.template_id,
        template_version_id=batch.template_version_id,
        template_version_number=number or 0,
        subject=batch.subject,
        sender_email=batch.sender_email,
        sender_name=batch.sender_name,
        transport=batch.transport,
        total=batch.total,
        counts=await recipient_counts(session, batch.id),
        delivery=await delivery_counts(session, batch.id),
        created_at=batch.created_at,
        launched_at=batch.launched_at,
        completed_at=batch.completed_at,
    )


def recipient_out(recipient: Recipient) -> RecipientOut:
    return RecipientOut(
        recipient.id,
        recipient.email,
        recipient.status,
        recipient.row_number,
        recipient.fields,
        recipient.error,
        recipient.provider_message_id,
        recipient.attempts,
        recipient.sent_at,
        recipient.updated_at,
    )


class BatchController(Controller):
    path = "/api/v1/batches"
    tags = ["batches"]

    @get("/")
    async def list_batches(
        self,
        db_session: DbSession,
        account: Account,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> Page[BatchOut]:
        rows, next_id = await BatchService(db_session, account.id).list_batches(
            after=parse_cursor(cursor), limit=clamp_limit(limit)
        )
        items = [await batch_out(db_session, row) for row in rows]
        return Page(items, str(next_id) if next_id else None)

    @get("/{batch_id:uuid}")
    async def get_batch(
        self, db_session: DbSession, account: Account, batch_id: FromPath[UUID]
    ) -> BatchOut:
        return await batch_out(db_session, await BatchService(db_session, account.id).get(batch_id))

    @get("/{batch_id:uuid}/recipients")
    async def list_recipients(
        self,
        db_session: DbSession,
        account: Account,
        batch_id: FromPath[UUID],
        status: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> Page[RecipientOut]:
        rows, next_id = await BatchService(db_session, account.id).recipients(
            batch_id, status=status, after=parse_cursor(cursor), limit=clamp_limit(limit)
        )
        return Page([recipient_out(row) for row in rows], str(next_id) if next_id else None)

    @post("/{batch_id:uuid}/launch", status_code=200)
    async def launch(
        self, db_session: DbSession, services: Services, account: Account, batch_id: FromPath[UUID]
    ) -> BatchOut:
        batch = await BatchService(db_session, account.id).launch(
            batch_id, services.queue, services.settings.send_chunk_size
        )
        return await self._control_response(db_session, services, account.id, batch)

    async def _control_response(
        self, db_session: AsyncSession, services: AppServices, account_id: UUID, batch: Batch
    ) -> BatchOut:
        """Return the batch after a state change, and publish its progress to live views."""
        out = await batch_out(db_session, batch)
        await services.publisher.publish(account_id, [progress_event(batch, out.counts)])
        return out

    @post("/{batch_id:uuid}/pause", status_code=200)
    async def pause(
        self, db_session: DbSession, services: Services, account: Account, batch_id: FromPath[UUID]
    ) -> BatchOut:
        batch = await _controls(db_session, services, account.id).pause(batch_id)
        return await self._control_response(db_session, services, account.id, batch)

    @post("/{batch_id:uuid}/resume", status_code=200)
    async def resume(
        self, db_session: DbSession, services: Services, account: Account, batch_id: FromPath[UUID]
    ) -> BatchOut:
        batch = await _controls(db_session, services, account.id).resume(batch_id)
        return await self._control_response(db_session, services, account.id, batch)

    @post("/{batch_id:uuid}/cancel", status_code=200)
    async def cancel(
        self, db_session: DbSession, services: Services, account: Account, batch_id: FromPath[UUID]
    ) -> BatchOut:
        batch = await _controls(db_session, services, account.id).cancel(batch_id)
        return await self._control_response(db_session, services, account.id, batch)

    @post("/{batch_id:uuid}/retry-failed", status_code=200)
    async def retry_failed(
        self,
        db_session: DbSession,
        services: Services,
        account: Account,
        batch_id: FromPath[UUID],
        data: JSONBody[RetryBody | None] = None,
    ) -> BatchOut:
        ids = data.recipient_ids if data else None
        batch = await _controls(db_session, services, account.id).retry_failed(batch_id, ids)
        return await self._control_response(db_session, services, account.id, batch)

    @get("/{batch_id:uuid}/failed.csv", media_type="text/csv")
    async def export_failed(
        self, db_session: DbSession, account: Account, batch_id: FromPath[UUID]
    ) -> Response[bytes]:
        batch = await BatchService(db_session, account.id).get(batch_id)
        rows = await db_session.execute(
            select(Recipient.row_number, Recipient.email, Recipient.error)
            .where(Recipient.batch_id == batch.id, Recipient.status == "failed")
            .order_by(Recipient.row_number)
        )
        content = csv_export(["row", "email", "reason"], rows.tuples())
        filename = f"failed-{export_name(batch.name)}.csv"
        return Response(
            content,
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )


def _controls(session: AsyncSession, services: AppServices, account_id: UUID) -> BatchControls:
    return BatchControls(session, account_id, services.queue, services.settings.send_chunk_size)
