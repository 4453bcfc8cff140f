"""Per-account delivery settings and the choice of transport and sender they imply."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import time
from uuid import UUID

import aiohttp
import msgspec
from cryptography.fernet import Fernet, InvalidToken
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.key_check import (
    clear_key_check,
    is_fresh,
    key_check_error,
    key_fingerprint,
    store_key_check,
)
from backend.accounts.models import AccountSettings
from backend.core.config import Settings
from backend.core.errors import ValidationError
from backend.delivery.brevo import check_api_key_format, get_account
from backend.delivery.transport import TransportError

logger = logging.getLogger(__name__)

# A batch staged with no sender configured, delivered to the local outbox, uses this address.
OUTBOX_SENDER_EMAIL = "campaigns@localhost.localdomain"


class DeliveryConfig(msgspec.Struct, frozen=True):
    """The transport and sender of a send: Brevo with this key, or the outbox if it is empty."""

    transport: str
    api_key: str
    sender_email: str
    sender_name: str


# Inclusive ranges of the delivery settings. The upper bound of the message limits only
# keeps values inside a 32-bit integer column.
LIMIT_RANGES = {
    "hourly_limit": (0, 1_000_000_000),
    "daily_limit": (0, 1_000_000_000),
    "provider_rate_per_second": (1, 1000),
    "send_concurrency": (1, 16),
}


class DeliveryLimits(msgspec.Struct, frozen=True):
    """Sending limits of an account. A message limit of 0 means no limit."""

    hourly_limit: int
    daily_limit: int
    provider_rate_per_second: int
    send_concurrency: int


class SettingsUpdate(msgspec.Struct, kw_only=True):
    sender_email: str | None = None
    sender_name: str | None = None
    brevo_api_key: str | None = None
    use_env_key: bool | None = None
    use_env_sender: bool | None = None
    hourly_limit: int | None = None
    daily_limit: int | None = None
    provider_rate_per_second: int | None = None
    send_concurrency: int | None = None


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
            if any(character in name for character in "\r\n"):
                raise ValidationError(
                    "The sender name contains a line break; write it on one line.",
                    field="sender_name",
                )
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
            clear_key_check(row)
        if change.use_env_key is not None:
            row.use_env_key = change.use_env_key and bool(self.settings.brevo_smtp_api_key)
        if change.use_env_sender is not None:
            row.use_env_sender = change.use_env_sender and bool(self.settings.sender_email)
        _apply_limits(row, change)
        await self.session.commit()
        return row

    async def delivery_limits(self) -> DeliveryLimits:
        row = await self.get()
        return DeliveryLimits(
            row.hourly_limit, row.daily_limit, row.provider_rate_per_second, row.send_concurrency
        )

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

    async def check_key(self, http: aiohttp.ClientSession) -> AccountSettings:
        """Check the effective API key with Brevo and store the result on the settings row.

        A result less than KEY_CHECK_CACHE old for the same key is returned without a request.
        Raises ValidationError when no key is configured or the key is an SMTP key.
        """
        row = await self.get()
        api_key = (await self.delivery_config()).api_key
        if not api_key:
            raise ValidationError(
                "No Brevo API key is configured. Save an API key (it starts with xkeysib-) "
                "in Settings, or set BREVO_SMTP_API_KEY in .env.",
                field="brevo_api_key",
            )
        check_api_key_format(api_key)
        fingerprint = key_fingerprint(self.settings.secret_key, api_key)
        if is_fresh(row, fingerprint):
            return row

        # The request takes up to 10 seconds; no transaction may hold a lock meanwhile.
        await self.session.commit()
        started = time.monotonic()
        try:
            account = await get_account(http, self.settings.brevo_api_base_url, api_key)
        except TransportError as error:
            store_key_check(row, fingerprint, None, key_check_error(error))
            logger.warning(
                "brevo key check failed",
                extra={"account_id": str(self.account_id), "error": row.brevo_account_error},
            )
        else:
            store_key_check(row, fingerprint, account, "")
            logger.info(
                "brevo key checked",
                extra={
                    "account_id": str(self.account_id),
                    "duration_ms": round((time.monotonic() - started) * 1000),
                },
            )
        await self.session.commit()
        return row

    async def key_check_for_current_key(self, row: AccountSettings) -> AccountSettings | None:
        """Return the row when its stored key check belongs to the key in effect now."""
        if row.brevo_account_checked_at is None:
            return None
        api_key = (await self.delivery_config()).api_key
        if not api_key or row.brevo_account_key_fingerprint != key_fingerprint(
            self.settings.secret_key, api_key
        ):
            return None
        return row

    async def webhook_token(self) -> str:
        """Return the account's webhook token, creating it on first use."""
        row = await self.get()
        if not row.webhook_token:
            row.webhook_token = _new_webhook_token(self.account_id)
            await self.session.flush()
        return row.webhook_token

    async def rotate_webhook_token(self) -> str:
        row = await self.get()
        row.webhook_token = _new_webhook_token(self.account_id)
        await self.session.commit()
        return row.webhook_token

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


def _apply_limits(row: AccountSettings, change: SettingsUpdate) -> None:
    for field, (low, high) in LIMIT_RANGES.items():
        value = getattr(change, field)
        if value is None:
            continue
        if not low <= value <= high:
            meaning = " (0 means no limit)" if low == 0 else ""
            raise ValidationError(
                f"{field} is {value}; it must be between {low} and {high:,}{meaning}.",
                field=field,
            )
        setattr(row, field, value)


def _new_webhook_token(account_id: UUID) -> str:
    # The account id selects the row; the random part is the secret, compared in constant time.
    return account_id.hex + secrets.token_urlsafe(32)


async def find_webhook_account(session: AsyncSession, token: str) -> UUID | None:
    """Return the account whose webhook token is `token`, or None."""
    try:
        account_id = UUID(hex=token[:32])
    except ValueError:
        return None
    stored = await session.scalar(
        select(AccountSettings.webhook_token).where(AccountSettings.account_id == account_id)
    )
    if not stored or not hmac.compare_digest(stored.encode(), token.encode()):
        return None
    return account_id
