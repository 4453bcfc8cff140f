"""Per-account delivery settings and the choice of transport and sender they imply."""

from __future__ import annotations

import base64
import hashlib
from uuid import UUID

import msgspec
from cryptography.fernet import Fernet, InvalidToken
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.models import AccountSettings
from backend.core.config import Settings
from backend.core.errors import ValidationError
from backend.delivery.brevo import check_api_key_format

# A batch staged with no sender configured, delivered to the local outbox, uses this address.
OUTBOX_SENDER_EMAIL = "campaigns@localhost.localdomain"


class DeliveryConfig(msgspec.Struct, frozen=True):
    """What a send uses: Brevo with this key, or the local outbox when the key is empty."""

    transport: str
    api_key: str
    sender_email: str
    sender_name: str


class SettingsUpdate(msgspec.Struct, kw_only=True):
    sender_email: str | None = None
    sender_name: str | None = None
    brevo_api_key: str | None = None
    use_env_key: bool | None = None
    use_env_sender: bool | None = None


def _fernet(secret_key: str) -> Fernet:
    digest = hashlib.sha256(("brevo-key:" + secret_key).encode("utf-8")).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


class AccountSettingsService:
    def __init__(self, session: AsyncSession, settings: Settings, account_id: UUID) -> None:
        self.session = session
        self.settings = settings
        self.account_id = account_id

    async def get(self) -> AccountSettings:
        row = await self.session.scalar(
            select(AccountSettings).where(AccountSettings.account_id == self.account_id)
        )
        if row is None:
            row = AccountSettings(account_id=self.account_id)
            self.session.add(row)
            await self.session.flush()
        return row

    async def update(self, change: SettingsUpdate) -> AccountSettings:
        row = await self.get()
        if change.sender_email is not None:
            row.sender_email = _check_sender_email(change.sender_email)
        if change.sender_name is not None:
            name = change.sender_name.strip()
            if len(name) > 70:
                raise ValidationError(
                    f"The sender name has {len(name)} characters; Brevo allows at most 70.",
                    field="sender_name",
                )
            row.sender_name = name
        if change.brevo_api_key is not None:
            key = change.brevo_api_key.strip()
            if key:
                check_api_key_format(key)
                row.brevo_api_key_encrypted = (
                    _fernet(self.settings.secret_key).encrypt(key.encode()).decode()
                )
                row.brevo_api_key_last4 = key[-4:]
            else:
                row.brevo_api_key_encrypted = ""
                row.brevo_api_key_last4 = ""
        if change.use_env_key is not None:
            row.use_env_key = change.use_env_key and bool(self.settings.brevo_smtp_api_key)
        if change.use_env_sender is not None:
            row.use_env_sender = change.use_env_sender and bool(self.settings.sender_email)
        await self.session.commit()
        return row

    async def delivery_config(self) -> DeliveryConfig:
        row = await self.get()
        api_key = self._stored_key(row)
        if row.use_env_key or not api_key:
            api_key = self.settings.brevo_smtp_api_key or api_key
        if row.use_env_sender or not row.sender_email:
            sender_email = self.settings.sender_email or row.sender_email
            sender_name = (
                self.settings.sender_name if self.settings.sender_email else row.sender_name
            )
        else:
            sender_email, sender_name = row.sender_email, row.sender_name
        transport = "brevo" if api_key else "outbox"
        if not sender_email and transport == "outbox":
            sender_email = OUTBOX_SENDER_EMAIL
        return DeliveryConfig(transport, api_key, sender_email, sender_name)

    def _stored_key(self, row: AccountSettings) -> str:
        if not row.brevo_api_key_encrypted:
            return ""
        try:
            return (
                _fernet(self.settings.secret_key)
                .decrypt(row.brevo_api_key_encrypted.encode())
                .decode()
            )
        except InvalidToken:
            # The key was encrypted under another SECRET_KEY; treat it as not configured.
            return ""


def _check_sender_email(raw: str) -> str:
    value = raw.strip()
    if not value:
        return ""
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise ValidationError(
            f"'{raw}' is not a valid sender email address: {error}", field="sender_email"
        ) from error
