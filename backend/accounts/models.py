from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from advanced_alchemy.base import UUIDv7AuditBase
from advanced_alchemy.types import DateTimeUTC, JsonB
from sqlalchemy import ForeignKey, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column


class AccountSettings(UUIDv7AuditBase):
    """Per-account delivery settings. `brevo_api_key` is Fernet-encrypted by the service.

    The `brevo_account_*` columns cache the last GET /v3/account result for the key whose
    fingerprint they store, because Brevo allows only 100 such requests per hour.
    """

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

    # Messages per hour and per day; 0 means no limit.
    hourly_limit: Mapped[int] = mapped_column(default=0, server_default="0")
    daily_limit: Mapped[int] = mapped_column(default=0, server_default="0")
    provider_rate_per_second: Mapped[int] = mapped_column(default=10, server_default="10")
    send_concurrency: Mapped[int] = mapped_column(default=2, server_default="2")

    brevo_account_key_fingerprint: Mapped[str] = mapped_column(
        String(64), default="", server_default=""
    )
    brevo_account_email: Mapped[str] = mapped_column(String(320), default="", server_default="")
    brevo_account_credits: Mapped[list[dict[str, Any]]] = mapped_column(
        JsonB, default=list, server_default=text("'[]'")
    )
    brevo_account_error: Mapped[str] = mapped_column(Text, default="", server_default="")
    brevo_account_checked_at: Mapped[datetime | None] = mapped_column(
        DateTimeUTC(timezone=True), default=None
    )

    # The secret part of the Brevo webhook URL; empty until the account first needs it.
    webhook_token: Mapped[str] = mapped_column(String(100), default="", server_default="")
