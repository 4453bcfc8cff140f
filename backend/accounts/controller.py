from __future__ import annotations

import msgspec
from litestar import Controller, get, put
from litestar.params import JSONBody

from backend.accounts.service import AccountSettingsService, SettingsUpdate
from backend.auth.guards import Account
from backend.core.dependencies import DbSession, Services


class KeyStatus(msgspec.Struct):
    configured: bool
    last4: str | None


class EnvSender(msgspec.Struct):
    email: str
    name: str


class SettingsOut(msgspec.Struct):
    sender_email: str
    sender_name: str
    brevo_key: KeyStatus
    use_env_key: bool
    use_env_sender: bool
    env_key_available: bool
    env_sender: EnvSender | None
    transport: str


async def _settings_out(service: AccountSettingsService, services: Services) -> SettingsOut:
    row = await service.get()
    config = await service.delivery_config()
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
        return await _settings_out(service, services)
