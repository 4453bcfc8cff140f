from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, get
from litestar.params import FromQuery
from sqlalchemy import select

from backend.activity.models import ActivityEvent
from backend.auth.guards import Account
from backend.core.dependencies import DbSession
from backend.core.pagination import Page, clamp_limit, parse_cursor


class ActivityOut(msgspec.Struct):
    id: UUID
    kind: str
    message: str
    subject_type: str
    subject_id: UUID | None
    data: dict[str, Any]
    created_at: datetime


class ActivityController(Controller):
    path = "/api/v1/activity"
    tags = ["activity"]

    @get("/")
    async def list_activity(
        self,
        db_session: DbSession,
        account: Account,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> Page[ActivityOut]:
        size = clamp_limit(limit)
        query = select(ActivityEvent).where(ActivityEvent.account_id == account.id)
        after = parse_cursor(cursor)
        if after is not None:
            query = query.where(ActivityEvent.id < after)
        rows = list(
            (
                await db_session.scalars(query.order_by(ActivityEvent.id.desc()).limit(size + 1))
            ).all()
        )
        items = [
            ActivityOut(e.id, e.kind, e.message, e.subject_type, e.subject_id, e.data, e.created_at)
            for e in rows[:size]
        ]
        next_cursor = str(rows[size - 1].id) if len(rows) > size else None
        return Page(items, next_cursor)
