from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from advanced_alchemy.base import UUIDv7AuditBase
from advanced_alchemy.types import DateTimeUTC, JsonB
from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column


class Template(UUIDv7AuditBase):
    """A template and its single working draft; published versions live in TemplateVersion."""

    __tablename__ = "templates"
    __table_args__ = (Index("ix_templates_account", "account_id", "id"),)

    account_id: Mapped[UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    draft_subject: Mapped[str] = mapped_column(Text, default="")
    draft_html: Mapped[str] = mapped_column(Text, default="")
    draft_text: Mapped[str] = mapped_column(Text, default="")
    draft_fields: Mapped[list[dict[str, Any]]] = mapped_column(JsonB, default=list)
    draft_updated_at: Mapped[datetime | None] = mapped_column(
        DateTimeUTC(timezone=True), default=None
    )


class TemplateVersion(UUIDv7AuditBase):
    """An immutable, numbered snapshot of a draft. Batches lock one."""

    __tablename__ = "template_versions"
    __table_args__ = (UniqueConstraint("template_id", "number"),)

    template_id: Mapped[UUID] = mapped_column(ForeignKey("templates.id", ondelete="CASCADE"))
    account_id: Mapped[UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    subject: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text, default="")
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JsonB, default=list)
    published_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
