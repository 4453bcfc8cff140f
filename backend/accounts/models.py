from __future__ import annotations

from uuid import UUID

from advanced_alchemy.base import UUIDv7AuditBase
from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column


class AccountSettings(UUIDv7AuditBase):
    """Per-account delivery settings. `brevo_api_key` is Fernet-encrypted by the service."""

    __tablename__ = "account_settings"

    account_id: Mapped[UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    sender_email: Mapped[str] = mapped_column(String(320), default="")
    sender_name: Mapped[str] = mapped_column(String(70), default="")
    brevo_api_key_encrypted: Mapped[str] = mapped_column(Text, default="")
    brevo_api_key_last4: Mapped[str] = mapped_column(String(4), default="")
    use_env_key: Mapped[bool] = mapped_column(default=False)
    use_env_sender: Mapped[bool] = mapped_column(default=False)
