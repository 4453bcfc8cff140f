from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from advanced_alchemy.base import UUIDv7AuditBase
from advanced_alchemy.types import DateTimeUTC, JsonB
from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

SUBSCRIBED = "subscribed"
UNSUBSCRIBED = "unsubscribed"
BOUNCED = "bounced"
COMPLAINED = "complained"
CONTACT_STATUSES = (SUBSCRIBED, UNSUBSCRIBED, BOUNCED, COMPLAINED)


class Contact(UUIDv7AuditBase):
    """One address of an account. `email_key` is the lowercase form used for uniqueness."""

    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("account_id", "email_key", name="uq_contacts_account_email"),
        Index("ix_contacts_account_id", "account_id", "id"),
    )

    account_id: Mapped[UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320))
    email_key: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200), default="")
    attributes: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)
    status: Mapped[str] = mapped_column(String(20), default=SUBSCRIBED)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(
        DateTimeUTC(timezone=True), default=None
    )
    last_sent_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    last_status: Mapped[str] = mapped_column(String(20), default="")
    send_count: Mapped[int] = mapped_column(default=0)
