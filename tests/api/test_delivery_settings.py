"""Delivery limits in the settings, and the Brevo key check against the fake Brevo server."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import msgspec
import pytest
from sqlalchemy import update

from backend.accounts.models import AccountSettings
from backend.core.config import Settings
from backend.core.database import Database, create_engine
from tests.api.conftest import Client, ClientFactory
from tests.conftest import BREVO_API_KEY, signup
from tests.fakes.brevo import FakeBrevo

UNKNOWN_KEY = "xkeysib-" + "b" * 64 + "-NotKnownToBrevo1"
SMTP_KEY = "xsmtpsib-" + "c" * 64 + "-SmtpOnlyKey00001"


@pytest.fixture
def fake_brevo() -> Iterator[FakeBrevo]:
    """The fake Brevo server on its own thread and event loop.

    The test client blocks the test's event loop until the app returns its response, so a
    fake served by that loop could not respond to the request the app sends during a key
    check.
    """
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fake-brevo", daemon=True)
    thread.start()
    fake = FakeBrevo(api_keys=(BREVO_API_KEY,))
    asyncio.run_coroutine_threadsafe(fake.start(), loop).result(timeout=10)
    yield fake
    asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(timeout=10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)
    loop.close()


@pytest.fixture
def settings(settings: Settings, fake_brevo: FakeBrevo) -> Settings:
    return msgspec.structs.replace(settings, brevo_api_base_url=fake_brevo.base_url)


@pytest.fixture
async def signed_in(client: Client) -> Client:
    await signup(client)
    return client


@pytest.fixture
async def database(settings: Settings) -> AsyncIterator[Database]:
    # The app's engine belongs to the test client's event loop; asyncpg connections cannot
    # cross loops, so the test opens its own.
    database = Database(create_engine(settings))
    yield database
    await database.dispose()


async def put_settings(client: Client, **change: Any) -> httpx.Response:
    return await client.put("/api/v1/settings", json=change)


async def check_key(client: Client) -> httpx.Response:
    return await client.post("/api/v1/settings/check-key")


async def test_delivery_settings_defaults(signed_in: Client) -> None:
    settings = (await signed_in.get("/api/v1/settings")).json()

    assert settings["hourly_limit"] == 0
    assert settings["daily_limit"] == 0
    assert settings["provider_rate_per_second"] == 10
    assert settings["send_concurrency"] == 2


async def test_delivery_settings_put_saves_limits(signed_in: Client) -> None:
    response = await put_settings(
        signed_in,
        hourly_limit=500,
        daily_limit=3000,
        provider_rate_per_second=25,
        send_concurrency=4,
    )
    stored = (await signed_in.get("/api/v1/settings")).json()

    assert response.status_code == 200, response.text
    for body in (response.json(), stored):
        assert body["hourly_limit"] == 500
        assert body["daily_limit"] == 3000
        assert body["provider_rate_per_second"] == 25
        assert body["send_concurrency"] == 4


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("hourly_limit", -1, "between 0 and 1,000,000,000 (0 means no limit)"),
        ("daily_limit", -5, "between 0 and 1,000,000,000 (0 means no limit)"),
        ("daily_limit", 1_000_000_001, "between 0 and 1,000,000,000"),
        ("provider_rate_per_second", 0, "between 1 and 1,000"),
        ("provider_rate_per_second", 1001, "between 1 and 1,000"),
        ("send_concurrency", 0, "between 1 and 16"),
        ("send_concurrency", 17, "between 1 and 16"),
    ],
)
async def test_delivery_settings_rejects_out_of_range(
    signed_in: Client, field: str, value: int, expected: str
) -> None:
    response = await put_settings(signed_in, **{field: value})

    assert response.status_code == 400
    assert response.json()["field"] == field
    assert field in response.json()["message"]
    assert str(value) in response.json()["message"]
    assert expected in response.json()["message"]


async def test_delivery_settings_accepts_range_bounds(signed_in: Client) -> None:
    low = await put_settings(
        signed_in, hourly_limit=0, daily_limit=0, provider_rate_per_second=1, send_concurrency=1
    )
    high = await put_settings(signed_in, provider_rate_per_second=1000, send_concurrency=16)

    assert low.status_code == 200, low.text
    assert high.status_code == 200, high.text
    assert high.json()["provider_rate_per_second"] == 1000
    assert high.json()["send_concurrency"] == 16


async def test_delivery_settings_invalid_put_changes_nothing(signed_in: Client) -> None:
    response = await put_settings(signed_in, sender_name="Example News", send_concurrency=17)
    stored = (await signed_in.get("/api/v1/settings")).json()

    assert response.status_code == 400
    assert stored["sender_name"] == ""
    assert stored["send_concurrency"] == 2


async def test_delivery_settings_rejects_non_integer(signed_in: Client) -> None:
    response = await put_settings(signed_in, hourly_limit="many")

    assert response.status_code == 400
    assert "hourly_limit" in response.json()["message"]


async def test_check_key_stores_brevo_account(signed_in: Client, fake_brevo: FakeBrevo) -> None:
    await put_settings(signed_in, brevo_api_key=BREVO_API_KEY)

    response = await check_key(signed_in)
    settings_after = (await signed_in.get("/api/v1/settings")).json()

    assert response.status_code == 200, response.text
    account = response.json()["brevo_account"]
    assert account["email"] == "owner@relay.fake"
    assert account["credits"] == [{"type": "free", "credits": 300, "credits_type": "sendLimit"}]
    assert account["error"] is None
    assert account["checked_at"] is not None
    assert settings_after["brevo_account"] == account
    assert fake_brevo.request_count == 1
    assert BREVO_API_KEY not in response.text


async def test_check_key_repeat_uses_cache(signed_in: Client, fake_brevo: FakeBrevo) -> None:
    await put_settings(signed_in, brevo_api_key=BREVO_API_KEY)
    first = await check_key(signed_in)

    second = await check_key(signed_in)

    assert second.status_code == 200, second.text
    assert fake_brevo.request_count == 1
    assert second.json()["brevo_account"] == first.json()["brevo_account"]


async def test_check_key_calls_again_after_ten_minutes(
    signed_in: Client, fake_brevo: FakeBrevo, database: Database
) -> None:
    await put_settings(signed_in, brevo_api_key=BREVO_API_KEY)
    await check_key(signed_in)
    async with database.session() as session:
        await session.execute(
            update(AccountSettings).values(
                brevo_account_checked_at=datetime.now(UTC) - timedelta(minutes=11)
            )
        )
        await session.commit()

    response = await check_key(signed_in)

    assert fake_brevo.request_count == 2
    checked_at = datetime.fromisoformat(response.json()["brevo_account"]["checked_at"])
    assert datetime.now(UTC) - checked_at < timedelta(minutes=1)


async def test_check_key_invalid_key_caches_error(signed_in: Client, fake_brevo: FakeBrevo) -> None:
    await put_settings(signed_in, brevo_api_key=UNKNOWN_KEY)

    response = await check_key(signed_in)
    again = await check_key(signed_in)
    settings_after = (await signed_in.get("/api/v1/settings")).json()

    assert response.status_code == 200, response.text
    account = response.json()["brevo_account"]
    assert account["email"] is None
    assert account["credits"] == []
    assert "rejected this API key" in account["error"]
    assert "401" in account["error"]
    assert again.json()["brevo_account"] == account
    assert settings_after["brevo_account"] == account
    assert fake_brevo.request_count == 1


async def test_check_key_unreachable_brevo_caches_error(
    signed_in: Client, fake_brevo: FakeBrevo
) -> None:
    await put_settings(signed_in, brevo_api_key=BREVO_API_KEY)
    fake_brevo.faults.server_error_share = 1.0

    response = await check_key(signed_in)

    assert response.status_code == 200, response.text
    assert "server error" in response.json()["brevo_account"]["error"]
    assert response.json()["brevo_account"]["email"] is None


async def test_check_key_new_key_clears_cache(signed_in: Client, fake_brevo: FakeBrevo) -> None:
    await put_settings(signed_in, brevo_api_key=UNKNOWN_KEY)
    await check_key(signed_in)

    saved = await put_settings(signed_in, brevo_api_key=BREVO_API_KEY)
    checked = await check_key(signed_in)

    assert saved.json()["brevo_account"] is None
    assert fake_brevo.request_count == 2
    assert checked.json()["brevo_account"]["email"] == "owner@relay.fake"
    assert checked.json()["brevo_account"]["error"] is None


async def test_check_key_without_key_is_rejected(signed_in: Client, fake_brevo: FakeBrevo) -> None:
    response = await check_key(signed_in)

    assert response.status_code == 400
    assert response.json()["field"] == "brevo_api_key"
    assert "No Brevo API key" in response.json()["message"]
    assert fake_brevo.request_count == 0


async def test_check_key_uses_env_key(make_client: ClientFactory, fake_brevo: FakeBrevo) -> None:
    client = await make_client(brevo_smtp_api_key=BREVO_API_KEY)
    await signup(client)

    response = await check_key(client)

    assert response.status_code == 200, response.text
    assert response.json()["brevo_account"]["email"] == "owner@relay.fake"
    assert fake_brevo.request_count == 1
    assert BREVO_API_KEY not in response.text


async def test_check_key_rejects_smtp_env_key(
    make_client: ClientFactory, fake_brevo: FakeBrevo
) -> None:
    client = await make_client(brevo_smtp_api_key=SMTP_KEY)
    await signup(client)

    response = await check_key(client)

    assert response.status_code == 400
    assert response.json()["field"] == "brevo_api_key"
    assert "SMTP key" in response.json()["message"]
    assert "xkeysib-" in response.json()["message"]
    assert SMTP_KEY not in response.text
    assert fake_brevo.request_count == 0


async def test_check_key_rejects_saving_smtp_key(signed_in: Client) -> None:
    response = await put_settings(signed_in, brevo_api_key=SMTP_KEY)

    assert response.status_code == 400
    assert response.json()["field"] == "brevo_api_key"
    assert "SMTP key" in response.json()["message"]


async def test_check_key_needs_csrf_token(signed_in: Client, fake_brevo: FakeBrevo) -> None:
    await put_settings(signed_in, brevo_api_key=BREVO_API_KEY)

    response = await signed_in.post("/api/v1/settings/check-key", headers={"X-CSRF-Token": ""})

    assert response.status_code == 403
    assert fake_brevo.request_count == 0
