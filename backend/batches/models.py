from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from advanced_alchemy.base import UUIDv7AuditBase
from advanced_alchemy.types import GUID, DateTimeUTC, JsonB
from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

BATCH_STATUSES = ("staged", "running", "paused", "completed", "cancelled")
RECIPIENT_STATUSES = (
    "staged",
    "queued",
    "processing",
    "sent",
    "failed",
    "unsubscribed",
    "cancelled",
)
# The predicate of ix_recipients_pending_request. Queries that should use the index repeat it
# word for word, because both Postgres and SQLite match a partial index by its predicate.
PENDING_REQUEST_SQL = "request_key IS NOT NULL AND status IN ('queued', 'processing')"
FINAL_RECIPIENT_STATUSES = frozenset({"sent", "failed", "unsubscribed", "cancelled"})
# The provider's report on a sent message, kept apart from `status`. It is "" until the
# provider reports.
DELIVERY_STATUSES = (
    "",
    "delivered",
    "soft_bounce",
    "hard_bounce",
    "blocked",
    "spam",
    "invalid_email",
    "deferred",
    "unsubscribed",
)


class Batch(UUIDv7AuditBase):
    """A staged send. Template version, subject and sender are fixed when it is staged."""

    __tablename__ = "batches"
    __table_args__ = (Index("ix_batches_account", "account_id", "id"),)

    account_id: Mapped[UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    import_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("imports.id", ondelete="SET NULL"), default=None
    )
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="staged")
    template_id: Mapped[UUID] = mapped_column(ForeignKey("templates.id"))
    template_version_id: Mapped[UUID] = mapped_column(ForeignKey("template_versions.id"))
    subject: Mapped[str] = mapped_column(Text)
    sender_email: Mapped[str] = mapped_column(String(320), default="")
    sender_name: Mapped[str] = mapped_column(String(70), default="")
    transport: Mapped[str] = mapped_column(String(10), default="outbox")
    total: Mapped[int] = mapped_column(default=0)
    pause_reason: Mapped[str] = mapped_column(Text, default="")
    launched_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    completed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    throttled_until: Mapped[datetime | None] = mapped_column(
        DateTimeUTC(timezone=True), default=None
    )


class Recipient(UUIDv7AuditBase):
    """One address in a batch and the state of its message."""

    __tablename__ = "recipients"
    __table_args__ = (
        Index("ix_recipients_batch_status", "batch_id", "status"),
        Index("ix_recipients_batch_id", "batch_id", "id"),
        # Webhook events that lack our X-Mailin-custom header are matched by message id.
        Index("ix_recipients_account_message", "account_id", "provider_message_id"),
        # Only recipients of requests in flight or waiting for a retry, so finding the next
        # keyed group never scans the batch's fresh (unkeyed) queue.
        Index(
            "ix_recipients_pending_request",
            "batch_id",
            "request_key",
            postgresql_where=text(PENDING_REQUEST_SQL),
            sqlite_where=text(PENDING_REQUEST_SQL),
        ),
    )

    batch_id: Mapped[UUID] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"))
    account_id: Mapped[UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    contact_id: Mapped[UUID] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320))
    row_number: Mapped[int] = mapped_column(default=0)
    fields: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="staged")
    error: Mapped[str] = mapped_column(Text, default="")
    provider_message_id: Mapped[str] = mapped_column(String(255), default="")
    attempts: Mapped[int] = mapped_column(default=0)
    lease_until: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    sent_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    # The earliest time the sender may try this recipient again.
    not_before: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    # The Idempotency-Key of the provider request this recipient was claimed into. It is set
    # in the claim's transaction, and a recipient that goes back to the queue keeps it, so
    # the whole group is sent again under the same key and the provider drops a repeat.
    # Only an operator's retry of failed recipients clears it.
    request_key: Mapped[UUID | None] = mapped_column(GUID(length=16), default=None)
    delivery_status: Mapped[str] = mapped_column(String(20), default="", server_default="")
    delivered_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    opened_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    clicked_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
