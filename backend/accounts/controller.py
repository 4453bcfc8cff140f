from __future__ import annotations

from datetime import datetime

import aiohttp
import msgspec
from litestar import Controller, get, post, put
from litestar.params import JSONBody

from backend.accounts.models import AccountSettings
from backend.accounts.service import AccountSettingsService, SettingsUpdate
from backend.auth.guards import Account
from backend.core.dependencies import DbSession, Services


class KeyStatus(msgspec.Struct):
    configured: bool
    last4: str | None


class EnvSender(msgspec.Struct):
    email: str
    name: str


class PlanCredits(msgspec.Struct):
    type: str
    credits: float | None
    credits_type: str | None


class BrevoAccountOut(msgspec.Struct):
    """The last key check of the key in effect: the Brevo account, or the error."""

    email: str | None
    credits: list[PlanCredits]
    checked_at: datetime
    error: str | None


class SettingsOut(msgspec.Struct):
    sender_email: str
    sender_name: str
    brevo_key: KeyStatus
    use_env_key: bool
    use_env_sender: bool
    env_key_available: bool
    env_sender: EnvSender | None
    transport: str
    hourly_limit: int
    daily_limit: int
    provider_rate_per_second: int
    send_concurrency: int
    brevo_account: BrevoAccountOut | None
    webhook_url: str


def _brevo_account_out(row: AccountSettings | None) -> BrevoAccountOut | None:
    if row is None or row.brevo_account_checked_at is None:
        return None
    return BrevoAccountOut(
        email=row.brevo_account_email or None,
        credits=msgspec.convert(row.brevo_account_credits, list[PlanCredits]),
        checked_at=row.brevo_account_checked_at,
        error=row.brevo_account_error or None,
    )


async def _settings_out(service: AccountSettingsService, services: Services) -> SettingsOut:
    row = await service.get()
    config = await service.delivery_config()
    token = await service.webhook_token()
    env = services.settings
    return SettingsOut(
        sender_email=row.sender_email,
        sender_name=row.sender_name,
        brevo_key=KeyStatus(bool(row.brevo_api_key_encrypted), row.brevo_api_key_last4 or None),
        use_env_key=row.use_env_key,
        use_env_sender=row.use_env_sender,
        env_key_available=bool(env.brevo_smtp_api_key),
        env_sender=EnvSender(env.sender_email, env.sender_name) if env.sender_email else None,
        transport=config.transport,
        hourly_limit=row.hourly_limit,
        daily_limit=row.daily_limit,
        provider_rate_per_second=row.provider_rate_per_second,
        send_concurrency=row.send_concurrency,
        brevo_account=_brevo_account_out(await service.key_check_for_current_key(row)),
        webhook_url=f"{env.public_base_url}/api/v1/webhooks/brevo/{token}",
    )


class SettingsController(Controller):
    path = "/api/v1/settings"
    tags = ["settings"]

    @get("/")
    async def get_settings(
        self, db_session: DbSession, services: Services, account: Account
    ) -> SettingsOut:
        service = AccountSettingsService(db_session, services.settings, account.id)
        out = await _settings_out(service, services)
        await db_session.commit()
        return out

    @put("/")
    async def update_settings(
        self,
        db_session: DbSession,
        services: Services,
        account: Account,
        data: JSONBody[SettingsUpdate],
    ) -> SettingsOut:
        service = AccountSettingsService(db_session, services.settings, account.id)
        await service.update(data)
        out = await _settings_out(service, services)
        await db_session.commit()
        return out

    @post("/check-key", status_code=200)
    async def check_key(
        self, db_session: DbSession, services: Services, account: Account
    ) -> SettingsOut:
        service = AccountSettingsService(db_session, services.settings, account.id)
        async with aiohttp.ClientSession() as http:
            await service.check_key(http)
        out = await _settings_out(service, services)
        await db_session.commit()
        return out

    @post("/rotate-webhook", status_code=200)
    async def rotate_webhook(
        self, db_session: DbSession, services: Services, account: Account
    ) -> SettingsOut:
        service = AccountSettingsService(db_session, services.settings, account.id)
        await service.rotate_webhook_token()
        return await _settings_out(service, services)
