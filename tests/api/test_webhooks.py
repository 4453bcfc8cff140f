"""The Brevo webhook: token check, event storage, matching, delivery state, suppression."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email import message_from_bytes
from typing import Any
from uuid import UUID, uuid4

import httpx
import msgspec
import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from backend.batches.models import Recipient
from backend.core.config import Settings
from backend.core.database import Database, create_engine
from backend.delivery.outbox import OutboxTransport
from backend.webhooks.events import MAX_EVENTS, read_event
from backend.webhooks.models import ProviderEvent
from backend.webhooks.service import is_retryable
from tests.api.conftest import BASE_URL, Client, stage_import, upload_bytes, validate_import
from tests.api.test_campaign_flow import wait_for_status
from tests.conftest import signup

# Imports are validated and staged by a job: in production mode a worker process runs it.
pytestmark = pytest.mark.usefixtures("worker")

EMAILS = ("ann@example.com", "bob@example.com", "cem@example.com")
# 2026-03-01 12:00:00 UTC
TS = 1772366400


class SentBatch(msgspec.Struct):
    id: str
    recipients: dict[str, dict[str, Any]]


@pytest.fixture
async def database(settings: Settings) -> AsyncIterator[Database]:
    # The app's engine belongs to the test client's event loop; asyncpg connections cannot
    # cross loops, so the test opens its own.
    database = Database(create_engine(settings))
    yield database
    await database.dispose()


async def stage_batch(client: Client, emails: tuple[str, ...] = EMAILS) -> str:
    version_id = (await client.get("/api/v1/templates")).json()[0]["latest_version"]["id"]
    rows = "".join(f"{address},{address.split('@')[0].title()}\n" for address in emails)
    created = await upload_bytes(
        client, "people.csv", f"email,first_name\n{rows}".encode(), "/api/v1/imports"
    )
    assert created.status_code == 201, created.text
    import_id = created.json()["id"]
    await client.put(
        f"/api/v1/imports/{import_id}/mapping", json={"template_version_id": version_id}
    )
    await validate_import(client, import_id)
    batch_id: str = (await stage_import(client, import_id, "Hooks"))["id"]
    return batch_id


async def record_sent(database: Database, batch_id: str) -> SentBatch:
    """Mark every recipient of the batch sent with a Brevo-style message id, as the sender does."""
    async with database.session() as session:
        recipients = list(
            await session.scalars(select(Recipient).where(Recipient.batch_id == UUID(batch_id)))
        )
        for recipient in recipients:
            recipient.status = "sent"
            recipient.provider_message_id = f"<{uuid4()}@relay.test>"
            recipient.sent_at = datetime.now(UTC)
        await session.commit()
    return SentBatch(
        batch_id,
        {
            recipient.email: {
                "id": str(recipient.id),
                "email": recipient.email,
                "provider_message_id": recipient.provider_message_id,
            }
            for recipient in recipients
        },
    )


async def webhook_path(client: Client) -> str:
    url: str = (await client.get("/api/v1/settings")).json()["webhook_url"]
    assert url.startswith(BASE_URL)
    return url.removeprefix(BASE_URL)


def event(
    name: str,
    recipient: dict[str, Any] | None = None,
    batch_id: str | None = None,
    *,
    custom: bool = True,
    message_id: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    """A Brevo event payload for a recipient from the recipients list."""
    payload: dict[str, Any] = {
        "event": name,
        "id": 4711,
        "date": "2026-03-01 13:00:00",
        "ts": TS,
        "ts_event": TS,
        "ts_epoch": TS * 1000,
        "subject": "Hello",
        "tags": [],
    }
    if recipient is not None:
        payload["email"] = recipient["email"]
        if message_id:
            payload["message-id"] = recipient["provider_message_id"]
        if custom:
            payload["X-Mailin-custom"] = f"cca:{batch_id}:{recipient['id']}"
    payload.update(extra)
    return payload


async def post_events(client: Client, path: str, body: Any) -> httpx.Response:
    return await client.post(path, json=body)


async def delivery(client: Client, batch_id: str) -> dict[str, int]:
    batch = (await client.get(f"/api/v1/batches/{batch_id}")).json()
    counts: dict[str, int] = batch["delivery"]
    return counts


async def recipient_row(database: Database, recipient_id: str) -> Recipient:
    async with database.session() as session:
        return await session.get_one(Recipient, UUID(recipient_id))


async def stored_events(database: Database) -> list[ProviderEvent]:
    async with database.session() as session:
        return list(await session.scalars(select(ProviderEvent).order_by(ProviderEvent.id)))


async def contact_status(client: Client, email: str) -> str:
    items = (await client.get(f"/api/v1/contacts?search={email}")).json()["items"]
    assert len(items) == 1
    status: str = items[0]["status"]
    return status


@pytest.fixture
async def sent(client: Client, database: Database) -> SentBatch:
    await signup(client)
    return await record_sent(database, await stage_batch(client))


async def test_webhook_matches_outbox_message(
    client: Client, settings: Settings, database: Database, worker: object
) -> None:
    await signup(client)
    batch_id = await stage_batch(client)
    await client.post(f"/api/v1/batches/{batch_id}/launch")
    await wait_for_status(client, batch_id, "completed")
    page = (await client.get(f"/api/v1/batches/{batch_id}/recipients")).json()
    ann = next(item for item in page["items"] if item["email"] == "ann@example.com")
    outbox_file = OutboxTransport(settings.outbox_dir).path_for(UUID(ann["id"]))
    message = message_from_bytes(outbox_file.read_bytes())
    by_header = {
        "event": "delivered",
        "ts_event": TS,
        "X-Mailin-custom": message["X-Mailin-custom"],
    }
    by_message_id = {"event": "opened", "ts_event": TS, "message-id": message["Message-ID"]}

    response = await post_events(client, await webhook_path(client), [by_header, by_message_id])

    assert response.status_code == 200, response.text
    assert response.json()["unmatched"] == 0
    assert message["Message-ID"] == ann["provider_message_id"]
    counts = await delivery(client, batch_id)
    assert counts["delivered"] == 1
    assert counts["opened"] == 1
    assert (await recipient_row(database, ann["id"])).delivery_status == "delivered"


async def test_webhook_rejects_wrong_token(client: Client, other_client: Client) -> None:
    await signup(client)
    path = await webhook_path(client)
    token = path.rsplit("/", 1)[1]
    wrong_secret = token[:32] + ("A" if token[32] != "A" else "B") + token[33:]

    for bad in (wrong_secret, token[:32], "x" * len(token), token + "x"):
        response = await other_client.post(f"/api/v1/webhooks/brevo/{bad}", json=event("request"))
        assert response.status_code == 401, bad
        assert response.json()["code"] == "not_authenticated"


async def test_webhook_needs_no_cookie_or_csrf(
    client: Client, other_client: Client, database: Database
) -> None:
    await signup(client)
    path = await webhook_path(client)

    response = await other_client.post(path, json=event("request"))

    assert response.status_code == 200, response.text
    assert len(await stored_events(database)) == 1


async def test_webhook_rejects_malformed_body(client: Client, database: Database) -> None:
    await signup(client)
    path = await webhook_path(client)

    not_json = await client.post(
        path, content=b"event=delivered", headers={"Content-Type": "application/json"}
    )
    scalar = await client.post(path, json="delivered")
    number = await client.post(path, json=42)
    too_many = await client.post(path, json=[event("request")] * (MAX_EVENTS + 1))

    for response in (not_json, scalar, number, too_many):
        assert response.status_code == 400, response.text
        assert response.json()["code"] == "validation_error"
    assert "not valid JSON" in not_json.json()["message"]
    assert "JSON str" in scalar.json()["message"]
    assert str(MAX_EVENTS) in too_many.json()["message"]
    assert await stored_events(database) == []


async def test_webhook_maps_single_event_by_custom_header(
    client: Client, sent: SentBatch, database: Database
) -> None:
    ann = sent.recipients["ann@example.com"]
    payload = event("delivered", ann, sent.id, message_id=False)

    response = await post_events(client, await webhook_path(client), payload)

    assert response.status_code == 200, response.text
    assert response.json() == {
        "received": 1,
        "stored": 1,
        "duplicates": 0,
        "unmatched": 0,
        "ignored": 0,
    }
    row = await recipient_row(database, ann["id"])
    assert row.delivery_status == "delivered"
    assert row.delivered_at == datetime.fromtimestamp(TS, UTC)
    assert row.status == "sent"
    events = await stored_events(database)
    assert [stored.recipient_id for stored in events] == [UUID(ann["id"])]
    assert events[0].raw == payload
    assert await delivery(client, sent.id) == {
        "delivered": 1,
        "bounced": 0,
        "opened": 0,
        "clicked": 0,
        "complained": 0,
    }


async def test_webhook_maps_event_by_message_id(
    client: Client, sent: SentBatch, database: Database
) -> None:
    bob = sent.recipients["bob@example.com"]

    response = await post_events(
        client, await webhook_path(client), event("opened", bob, custom=False)
    )

    assert response.status_code == 200, response.text
    assert response.json()["unmatched"] == 0
    row = await recipient_row(database, bob["id"])
    assert row.opened_at == datetime.fromtimestamp(TS, UTC)
    assert row.delivery_status == ""
    assert (await delivery(client, sent.id))["opened"] == 1


async def test_webhook_custom_header_of_other_batch_falls_back(
    client: Client, sent: SentBatch, database: Database
) -> None:
    cem = sent.recipients["cem@example.com"]
    wrong_batch = event("click", cem, "00000000-0000-7000-8000-000000000000", link="https://x.test")

    response = await post_events(client, await webhook_path(client), wrong_batch)

    assert response.json()["unmatched"] == 0
    assert (await recipient_row(database, cem["id"])).clicked_at is not None


async def test_webhook_batched_events(client: Client, sent: SentBatch, database: Database) -> None:
    ann, bob, cem = (sent.recipients[email] for email in EMAILS)
    events = [
        event("request", ann, sent.id),
        event("delivered", ann, sent.id),
        event("delivered", bob, sent.id),
        event("unique_opened", bob, sent.id),
        event("opened", bob, sent.id, ts_epoch=TS * 1000 + 5000),
        event("click", bob, sent.id, link="https://example.com/offer"),
        event("soft_bounce", cem, sent.id, reason="mailbox full"),
        "not an event",
    ]

    response = await post_events(client, await webhook_path(client), events)

    assert response.status_code == 200, response.text
    assert response.json() == {
        "received": 8,
        "stored": 7,
        "duplicates": 0,
        "unmatched": 0,
        "ignored": 1,
    }
    assert await delivery(client, sent.id) == {
        "delivered": 2,
        "bounced": 1,
        "opened": 1,
        "clicked": 1,
        "complained": 0,
    }
    bob_row = await recipient_row(database, bob["id"])
    assert bob_row.opened_at == datetime.fromtimestamp(TS, UTC)
    cem_row = await recipient_row(database, cem["id"])
    assert cem_row.delivery_status == "soft_bounce"
    assert cem_row.status == "sent"
    assert await contact_status(client, "cem@example.com") == "subscribed"
    stored = {item.event: item for item in await stored_events(database)}
    assert stored["soft_bounce"].reason == "mailbox full"
    assert stored["click"].link == "https://example.com/offer"


async def test_webhook_repeat_is_stored_once(
    client: Client, sent: SentBatch, database: Database
) -> None:
    ann = sent.recipients["ann@example.com"]
    path = await webhook_path(client)
    events = [event("delivered", ann, sent.id), event("click", ann, sent.id, link="https://a.test")]
    first = await post_events(client, path, events)
    counts = await delivery(client, sent.id)

    again = await post_events(client, path, events)
    in_one_request = await post_events(client, path, [events[0], events[0]])

    assert first.json()["stored"] == 2
    assert again.status_code == 200, again.text
    assert again.json()["stored"] == 0
    assert again.json()["duplicates"] == 2
    assert in_one_request.json()["duplicates"] == 2
    assert len(await stored_events(database)) == 2
    assert await delivery(client, sent.id) == counts


async def test_webhook_same_event_other_link_is_new(
    client: Client, sent: SentBatch, database: Database
) -> None:
    ann = sent.recipients["ann@example.com"]
    path = await webhook_path(client)

    await post_events(client, path, event("click", ann, sent.id, link="https://a.test/1"))
    response = await post_events(
        client, path, event("click", ann, sent.id, link="https://a.test/2")
    )

    assert response.json()["stored"] == 1
    assert len(await stored_events(database)) == 2
    assert (await delivery(client, sent.id))["clicked"] == 1


async def test_webhook_foreign_token_leaves_recipient_alone(
    client: Client, other_client: Client, sent: SentBatch, database: Database
) -> None:
    await signup(other_client, email="other@example.com")
    foreign_path = await webhook_path(other_client)
    ann = sent.recipients["ann@example.com"]

    response = await post_events(
        other_client, foreign_path, event("hard_bounce", ann, sent.id, reason="no such user")
    )

    assert response.status_code == 200, response.text
    assert response.json()["unmatched"] == 1
    row = await recipient_row(database, ann["id"])
    assert row.delivery_status == ""
    assert await contact_status(client, "ann@example.com") == "subscribed"
    assert (await delivery(client, sent.id))["bounced"] == 0
    stored = await stored_events(database)
    assert len(stored) == 1
    assert stored[0].recipient_id is None
    assert stored[0].account_id != row.account_id


@pytest.mark.parametrize(
    ("name", "contact", "activity", "counted"),
    [
        ("hard_bounce", "bounced", "contact_bounced", "bounced"),
        ("invalid_email", "bounced", "contact_bounced", "bounced"),
        ("spam", "complained", "contact_complained", "complained"),
        ("unsubscribed", "unsubscribed", "contact_unsubscribed", None),
    ],
)
async def test_webhook_suppresses_contact(
    client: Client,
    sent: SentBatch,
    database: Database,
    name: str,
    contact: str,
    activity: str,
    counted: str | None,
) -> None:
    bob = sent.recipients["bob@example.com"]

    response = await post_events(
        client, await webhook_path(client), event(name, bob, sent.id, reason="550 5.1.1")
    )

    assert response.status_code == 200, response.text
    assert await contact_status(client, "bob@example.com") == contact
    assert await contact_status(client, "ann@example.com") == "subscribed"
    row = await recipient_row(database, bob["id"])
    assert row.delivery_status == name
    assert row.status == "sent"
    feed = (await client.get("/api/v1/activity")).json()["items"]
    suppressed = [item for item in feed if item["kind"] == activity]
    assert len(suppressed) == 1
    assert "bob@example.com" in suppressed[0]["message"]
    assert suppressed[0]["data"]["event"] == name
    assert suppressed[0]["data"]["reason"] == "550 5.1.1"
    counts = await delivery(client, sent.id)
    assert sum(counts.values()) == (1 if counted else 0)
    if counted:
        assert counts[counted] == 1


async def test_webhook_suppression_skips_staged_recipients(client: Client, sent: SentBatch) -> None:
    staged_id = await stage_batch(client, ("bob@example.com",))
    bob = sent.recipients["bob@example.com"]

    await post_events(client, await webhook_path(client), event("spam", bob, sent.id))

    page = (await client.get(f"/api/v1/batches/{staged_id}/recipients")).json()
    assert [item["status"] for item in page["items"]] == ["unsubscribed"]
    assert page["items"][0]["error"] == "The contact marked a message as spam."


async def test_webhook_out_of_order_events_keep_strongest_state(
    client: Client, sent: SentBatch, database: Database
) -> None:
    ann = sent.recipients["ann@example.com"]
    path = await webhook_path(client)

    await post_events(client, path, event("spam", ann, sent.id, ts_epoch=(TS + 60) * 1000))
    await post_events(client, path, event("delivered", ann, sent.id))
    await post_events(client, path, event("deferred", ann, sent.id, ts_epoch=(TS - 60) * 1000))

    row = await recipient_row(database, ann["id"])
    assert row.delivery_status == "spam"
    assert row.delivered_at == datetime.fromtimestamp(TS, UTC)
    assert await delivery(client, sent.id) == {
        "delivered": 1,
        "bounced": 0,
        "opened": 0,
        "clicked": 0,
        "complained": 1,
    }


async def test_webhook_unknown_event_is_stored(client: Client, database: Database) -> None:
    await signup(client)
    path = await webhook_path(client)
    unknown = {"event": "brand_new_event", "email": "nobody@example.com", "ts_event": TS}
    no_message = {"event": "unsubscribed", "email": "list@example.com", "ts_event": TS}
    unknown_message = {"event": "delivered", "message-id": "<nope@relay>", "ts_event": TS}

    response = await post_events(client, path, [unknown, no_message, unknown_message, {}])

    assert response.status_code == 200, response.text
    assert response.json()["stored"] == 4
    assert response.json()["unmatched"] == 4
    stored = await stored_events(database)
    assert sorted(item.event for item in stored) == [
        "",
        "brand_new_event",
        "delivered",
        "unsubscribed",
    ]
    assert all(item.recipient_id is None for item in stored)
    feed = (await client.get("/api/v1/activity")).json()["items"]
    assert [item["kind"] for item in feed if item["kind"].startswith("contact_")] == []


async def test_webhook_odd_field_types_are_stored(client: Client, database: Database) -> None:
    await signup(client)
    odd = {
        "event": ["delivered"],
        "email": 42,
        "message-id": None,
        "X-Mailin-custom": "cca:not-a-uuid:also-not",
        "ts_epoch": "soon",
        "ts_event": 10**30,
        "link": {"url": "x"},
    }

    response = await post_events(client, await webhook_path(client), odd)

    assert response.status_code == 200, response.text
    stored = await stored_events(database)
    assert stored[0].event == ""
    assert stored[0].email == "42"
    assert stored[0].event_at is None


async def test_webhook_rotate_replaces_token(client: Client) -> None:
    await signup(client)
    old_path = await webhook_path(client)

    rotated = await client.post("/api/v1/settings/rotate-webhook")
    new_path = rotated.json()["webhook_url"].removeprefix(BASE_URL)

    assert rotated.status_code == 200, rotated.text
    assert new_path != old_path
    assert await webhook_path(client) == new_path
    assert (await post_events(client, old_path, event("request"))).status_code == 401
    assert (await post_events(client, new_path, event("request"))).status_code == 200


async def test_webhook_url_is_stable(client: Client) -> None:
    await signup(client)

    first = await webhook_path(client)
    second = await webhook_path(client)

    assert first == second
    assert first.startswith("/api/v1/webhooks/brevo/")


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"ts_epoch": TS * 1000 + 250, "ts_event": 1}, datetime.fromtimestamp(TS + 0.25, UTC)),
        ({"ts_epoch": TS, "ts_event": 1}, datetime.fromtimestamp(TS, UTC)),
        ({"ts_event": TS, "ts": 1}, datetime.fromtimestamp(TS, UTC)),
        ({"ts": TS}, datetime.fromtimestamp(TS, UTC)),
        ({"ts_epoch": str(TS * 1000)}, datetime.fromtimestamp(TS, UTC)),
        ({"date": "2026-03-01 13:00:00"}, None),
        ({"ts_epoch": True}, None),
    ],
)
def test_read_event_time(fields: dict[str, Any], expected: datetime | None) -> None:
    assert read_event({"event": "delivered", **fields}).event_at == expected


def test_read_event_custom_header() -> None:
    batch_id = "0193a0a0-0000-7000-8000-000000000001"
    recipient_id = "0193a0a0-0000-7000-8000-000000000002"

    parsed = read_event({"X-Mailin-custom": f" cca:{batch_id}:{recipient_id} "})
    foreign = read_event({"X-Mailin-custom": f"other:{batch_id}:{recipient_id}"})

    assert parsed.batch_id == UUID(batch_id)
    assert parsed.recipient_id == UUID(recipient_id)
    assert foreign.recipient_id is None


def test_read_event_dedupe_key() -> None:
    base = {"event": "click", "message-id": "<m@relay>", "ts_event": TS, "link": "https://a"}

    same = read_event(dict(base)).dedupe_key
    other_link = read_event({**base, "link": "https://b"}).dedupe_key
    other_time = read_event({**base, "ts_event": TS + 1}).dedupe_key
    other_event = read_event({**base, "event": "opened"}).dedupe_key
    other_subject = read_event({**base, "subject": "changed", "id": 9}).dedupe_key

    assert read_event(base).dedupe_key == same
    assert len({same, other_link, other_time, other_event}) == 4
    assert other_subject == same


class _AsyncpgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (OperationalError("INSERT", {}, Exception("database is locked")), True),
        (DBAPIError("UPDATE", {}, _AsyncpgError("40P01")), True),
        (DBAPIError("UPDATE", {}, _AsyncpgError("40001")), True),
        (IntegrityError("INSERT", {}, _AsyncpgError("23503")), False),
        (DBAPIError("SELECT", {}, Exception("syntax error")), False),
    ],
)
def test_webhook_retryable_database_errors(error: DBAPIError, retryable: bool) -> None:
    assert is_retryable(error) is retryable
