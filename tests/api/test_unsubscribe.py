"""Public unsubscribe links: the masked confirmation, RFC 8058 one-click POST, bad tokens."""

from __future__ import annotations

from uuid import UUID, uuid4

import msgspec
import pytest

from backend.contacts.unsubscribe import make_unsubscribe_token
from backend.core.config import Settings
from tests.api.conftest import Client, stage_google_contacts
from tests.conftest import signup

# Imports are validated and staged by a job: in production mode a worker process runs it.
pytestmark = pytest.mark.usefixtures("worker")

ONE_CLICK_BODY = {"List-Unsubscribe": "One-Click"}


class Reader(msgspec.Struct, kw_only=True):
    """A staged recipient, its contact and a valid unsubscribe token for them."""

    batch_id: str
    recipient_id: str
    contact_id: str
    email: str
    token: str


@pytest.fixture
async def reader(client: Client, settings: Settings) -> Reader:
    await signup(client)
    world = await stage_google_contacts(client)
    recipients = await client.get(f"/api/v1/batches/{world.batch_id}/recipients?limit=1")
    recipient = recipients.json()["items"][0]
    contacts = await client.get("/api/v1/contacts", params={"search": recipient["email"]})
    contact = next(item for item in contacts.json()["items"] if item["email"] == recipient["email"])
    token = make_unsubscribe_token(settings.secret_key, UUID(contact["id"]), UUID(recipient["id"]))
    return Reader(
        batch_id=world.batch_id,
        recipient_id=recipient["id"],
        contact_id=contact["id"],
        email=contact["email"],
        token=token,
    )


async def contact_status(client: Client, reader: Reader) -> str:
    contact = (await client.get(f"/api/v1/contacts/{reader.contact_id}")).json()
    return str(contact["status"])


def tampered(token: str) -> str:
    middle = len(token) // 2
    replacement = "A" if token[middle] != "A" else "B"
    return token[:middle] + replacement + token[middle + 1 :]


async def test_unsubscribe_page_masks_address(
    client: Client, other_client: Client, reader: Reader
) -> None:
    local, domain = reader.email.split("@")

    response = await other_client.get(f"/api/v1/public/unsubscribe/{reader.token}")

    assert response.status_code == 200
    masked = response.json()["email"]
    assert masked != reader.email
    assert local not in masked
    assert masked.startswith(local[:2])
    assert masked.endswith("@" + domain)
    assert response.json()["status"] == "subscribed"


async def test_unsubscribe_page_get_does_not_unsubscribe(
    client: Client, other_client: Client, reader: Reader
) -> None:
    await other_client.get(f"/api/v1/public/unsubscribe/{reader.token}")
    await other_client.get(f"/api/v1/public/unsubscribe/{reader.token}")

    assert await contact_status(client, reader) == "subscribed"


async def test_unsubscribe_one_click_post(
    client: Client, other_client: Client, reader: Reader
) -> None:
    response = await other_client.post(f"/unsubscribe/{reader.token}", data=ONE_CLICK_BODY)

    assert response.status_code == 200, response.text
    assert response.history == []
    assert response.headers["content-type"].startswith("text/plain")
    assert not other_client.cookies
    assert await contact_status(client, reader) == "unsubscribed"


async def test_unsubscribe_one_click_skips_staged_recipient(
    client: Client, other_client: Client, reader: Reader
) -> None:
    await other_client.post(f"/unsubscribe/{reader.token}", data=ONE_CLICK_BODY)

    recipients = (
        await client.get(
            f"/api/v1/batches/{reader.batch_id}/recipients",
            params={"status": "unsubscribed", "limit": 200},
        )
    ).json()["items"]

    assert reader.recipient_id in [item["id"] for item in recipients]


async def test_unsubscribe_one_click_is_idempotent(
    client: Client, other_client: Client, reader: Reader
) -> None:
    first = await other_client.post(f"/unsubscribe/{reader.token}", data=ONE_CLICK_BODY)
    second = await other_client.post(f"/unsubscribe/{reader.token}", data=ONE_CLICK_BODY)

    assert first.status_code == 200
    assert second.status_code == 200
    assert await contact_status(client, reader) == "unsubscribed"
    events = (await client.get("/api/v1/activity")).json()["items"]
    assert [event["kind"] for event in events].count("contact_unsubscribed") == 1


async def test_unsubscribe_one_click_records_activity(
    client: Client, other_client: Client, reader: Reader
) -> None:
    await other_client.post(f"/unsubscribe/{reader.token}", data=ONE_CLICK_BODY)

    event = (await client.get("/api/v1/activity")).json()["items"][0]

    assert event["kind"] == "contact_unsubscribed"
    assert event["subject_id"] == reader.contact_id
    assert event["data"]["source"] == "one-click"


async def test_unsubscribe_one_click_ignores_csrf(client: Client, reader: Reader) -> None:
    # A signed-in operator's browser also carries cookies, which must not trigger the
    # CSRF check on this public route.
    del client.headers["X-CSRF-Token"]

    response = await client.post(f"/unsubscribe/{reader.token}", data=ONE_CLICK_BODY)

    assert response.status_code == 200


async def test_unsubscribe_api_post(client: Client, other_client: Client, reader: Reader) -> None:
    response = await other_client.post(f"/api/v1/public/unsubscribe/{reader.token}")

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "unsubscribed"
    assert reader.email not in response.text
    assert await contact_status(client, reader) == "unsubscribed"


async def test_unsubscribe_tampered_token_not_found(
    client: Client, other_client: Client, reader: Reader
) -> None:
    bad = tampered(reader.token)

    one_click = await other_client.post(f"/unsubscribe/{bad}", data=ONE_CLICK_BODY)
    page = await other_client.get(f"/api/v1/public/unsubscribe/{bad}")
    confirm = await other_client.post(f"/api/v1/public/unsubscribe/{bad}")

    assert one_click.status_code == 404
    assert page.status_code == 404
    assert page.json()["code"] == "not_found"
    assert confirm.status_code == 404
    assert await contact_status(client, reader) == "subscribed"


async def test_unsubscribe_truncated_token_not_found(other_client: Client, reader: Reader) -> None:
    response = await other_client.get(f"/api/v1/public/unsubscribe/{reader.token[:-4]}")

    assert response.status_code == 404
    assert "whole link" in response.json()["message"]


async def test_unsubscribe_token_signed_with_other_key(
    client: Client, other_client: Client, reader: Reader
) -> None:
    forged = make_unsubscribe_token(
        "another-secret-key-0123456789-abcdefghijklmnop",
        UUID(reader.contact_id),
        UUID(reader.recipient_id),
    )

    response = await other_client.post(f"/unsubscribe/{forged}", data=ONE_CLICK_BODY)

    assert response.status_code == 404
    assert await contact_status(client, reader) == "subscribed"


async def test_unsubscribe_unknown_contact_not_found(
    other_client: Client, settings: Settings, reader: Reader
) -> None:
    token = make_unsubscribe_token(settings.secret_key, uuid4(), uuid4())

    response = await other_client.post(f"/unsubscribe/{token}", data=ONE_CLICK_BODY)

    assert response.status_code == 404
