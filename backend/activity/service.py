from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from backend.activity.models import ActivityEvent


def record_activity(
    session: AsyncSession,
    account_id: UUID,
    kind: str,
    message: str,
    *,
    subject_type: str = "",
    subject_id: UUID | None = None,
    data: dict[str, Any] | None = None,
) -> ActivityEvent:
    """Add an event to the session; the caller's commit saves it with the change it describes."""
    event = ActivityEvent(
        account_id=account_id,
        kind=kind,
        message=message,
        subject_type=subject_type,
        subject_id=subject_id,
        data=data or {},
    )
    session.add(event)
    return event
