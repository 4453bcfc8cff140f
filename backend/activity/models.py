from __future__ import annotations

from typing import Any
from uuid import UUID

from advanced_alchemy.base import UUIDv7AuditBase
from advanced_alchemy.types import GUID, JsonB
from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column


class ActivityEvent(UUIDv7AuditBase):
    """Something an account did or that happened to its data, for the activity feed."""

    __tablename__ = "activity_events"
    __table_args__ = (Index("ix_activity_account", "account_id", "id"),)

    account_id: Mapped[UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    subject_type: Mapped[str] = mapped_column(String(30), default="")
    subject_id: Mapped[UUID | None] = mapped_column(GUID, default=None)
    data: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)
