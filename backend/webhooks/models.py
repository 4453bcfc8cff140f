from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from advanced_alchemy.base import UUIDv7AuditBase
from advanced_alchemy.types import DateTimeUTC, JsonB
from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column


class ProviderEvent(UUIDv7AuditBase):
    """One event Brevo reported by webhook, stored as received.

    Brevo events carry no id of their own, and retries and batches repeat them. The
    `dedupe_key` is a SHA-256 over message id, event name, event timestamp, link and email,
    and is unique per account. Hashing keeps click links of any length out of the index,
    because a Postgres B-tree entry must stay under about 2,700 bytes.
    """

    __tablename__ = "provider_events"
    __table_args__ = (
        UniqueConstraint("account_id", "dedupe_key", name="uq_provider_events_account_dedupe"),
        Index("ix_provider_events_recipient", "recipient_id"),
        Index("ix_provider_events_account", "account_id", "id"),
    )

    account_id: Mapped[UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    recipient_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("recipients.id", ondelete="SET NULL"), default=None
    )
    dedupe_key: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(40))
    email: Mapped[str] = mapped_column(String(320), default="")
    message_id: Mapped[str] = mapped_column(String(255), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(Text, default="")
    event_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    raw: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)
