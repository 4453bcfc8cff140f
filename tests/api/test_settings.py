"""Account settings: sender, the stored Brevo key that is never returned, the env key, transport."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.conftest import Client, ClientFactory
from tests.conftest import signup

API_KEY = (
    "xkeysib-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef-Ab12Cd34Ef56Gh78"
)
ENV_KEY = (
    "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"
)
SMTP_KEY = "xsmtpsib-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef-Ab12Cd34"


@pytest.fixture
async def signed_in(client: Client) -> Client:
    await signup(client)
    return client


async def put_settings(client: Client, **change: Any) -> httpx.Response:
    return await client.put("/api/v1/settings", json=change)


async def get_settings(client: Client) -> httpx.Response:
    response = await client.get("/api/v1/settings")
    assert response.status_code == 200, response.text
    return response


async def test_settings_defaults(signed_in: Client) -> None:
    settings = (await get_settings(signed_in)).json()
    webhook_url = settings.pop("webhook_url")

    assert webhook_url.startswith("http://testserver.local/api/v1/webhooks/brevo/")
    assert settings == {
        "sender_email": "",
        "sender_name": "",
        "brevo_key": {"configured": False, "last4": None},
        "use_env_key": False,
        "use_env_sender": False,
        "env_key_available": False,
        "env_sender": None,
        "transport": "outbox",
        "hourly_limit": 0,
        "daily_limit": 0,
        "provider_rate_per_second": 10,
        "send_concurrency": 2,
        "brevo_account": None,
    }


async def test_settings_put_sender(signed_in: Client) -> None:
    response = await put_settings(
        signed_in, sender_email=" news@example.com ", sender_name=" Example News "
    )

    assert response.status_code == 200, response.text
    stored = (await get_settings(signed_in)).json()
    assert stored["sender_email"] == "news@example.com"
    assert stored["sender_name"] == "Example News"


async def test_settings_rejects_invalid_sender_email(signed_in: Client) -> None:
    response = await put_settings(signed_in, sender_email="news@example,com")

    assert response.status_code == 400
    assert response.json()["field"] == "sender_email"
    assert "news@example,com" in response.json()["message"]


async def test_settings_rejects_long_sender_name(signed_in: Client) -> None:
    response = await put_settings(signed_in, sender_name="N" * 71)

    assert response.status_code == 400
    assert response.json()["field"] == "sender_name"


async def test_settings_api_key_is_never_returned(signed_in: Client) -> None:
    put = await put_settings(signed_in, brevo_api_key=API_KEY)
    get = await get_settings(signed_in)
    activity = await signed_in.get("/api/v1/activity")

    assert put.status_code == 200, put.text
    assert put.json()["brevo_key"] == {"configured": True, "last4": "Gh78"}
    assert get.json()["brevo_key"] == {"configured": True, "last4": "Gh78"}
    for response in (put, get, activity):
        assert API_KEY not in response.text
        assert API_KEY[:40] not in response.text


async def test_settings_rejects_smtp_key(signed_in: Client) -> None:
    response = await put_settings(signed_in, brevo_api_key=SMTP_KEY)

    assert response.status_code == 400
    assert response.json()["field"] == "brevo_api_key"
    assert "SMTP key" in response.json()["message"]
    assert "xkeysib-" in response.json()["message"]
    assert SMTP_KEY not in response.text
    assert (await get_settings(signed_in)).json()["brevo_key"]["configured"] is False


async def test_settings_empty_key_removes_it(signed_in: Client) -> None:
    await put_settings(signed_in, brevo_api_key=API_KEY)

    response = await put_settings(signed_in, brevo_api_key="")

    assert response.json()["brevo_key"] == {"configured": False, "last4": None}
    assert response.json()["transport"] == "outbox"


async def test_settings_partial_put_keeps_key(signed_in: Client) -> None:
    await put_settings(signed_in, brevo_api_key=API_KEY)

    response = await put_settings(signed_in, sender_name="Example News")

    assert response.json()["brevo_key"]["configured"] is True


async def test_settings_transport_follows_key(signed_in: Client) -> None:
    before = (await get_settings(signed_in)).json()["transport"]
    with_key = (await put_settings(signed_in, brevo_api_key=API_KEY)).json()["transport"]
    without_key = (await put_settings(signed_in, brevo_api_key="")).json()["transport"]

    assert [before, with_key, without_key] == ["outbox", "brevo", "outbox"]


async def test_settings_env_key_is_never_returned(make_client: ClientFactory) -> None:
    client = await make_client(
        brevo_smtp_api_key=ENV_KEY, sender_email="ops@example.com", sender_name="Ops"
    )
    await signup(client)

    get = await get_settings(client)
    put = await put_settings(client, use_env_key=True)
    again = await get_settings(client)

    assert get.json()["env_key_available"] is True
    assert get.json()["env_sender"] == {"email": "ops@example.com", "name": "Ops"}
    assert put.json()["use_env_key"] is True
    assert put.json()["brevo_key"] == {"configured": False, "last4": None}
    for response in (get, put, again):
        assert ENV_KEY not in response.text
        assert ENV_KEY[-4:] not in response.text


async def test_settings_env_key_sets_brevo_transport(make_client: ClientFactory) -> None:
    client = await make_client(brevo_smtp_api_key=ENV_KEY)
    await signup(client)

    response = await get_settings(client)

    assert response.json()["transport"] == "brevo"


async def test_settings_use_env_key_without_env_key(signed_in: Client) -> None:
    response = await put_settings(signed_in, use_env_key=True)

    assert response.status_code == 200
    assert response.json()["use_env_key"] is False
    assert response.json()["transport"] == "outbox"


async def test_settings_stored_key_wins_over_env_key(make_client: ClientFactory) -> None:
    client = await make_client(brevo_smtp_api_key=ENV_KEY)
    await signup(client)

    response = await put_settings(client, brevo_api_key=API_KEY)

    assert response.json()["brevo_key"]["last4"] == "Gh78"
    assert response.json()["transport"] == "brevo"
    assert API_KEY not in response.text
    assert ENV_KEY not in response.text


async def test_settings_reject_line_break_in_sender_name(signed_in: Client) -> None:
    response = await signed_in.put(
        "/api/v1/settings", json={"sender_name": "Ops\r\nBcc: x@example.com"}
    )

    assert response.status_code == 400
    assert response.json()["field"] == "sender_name"
