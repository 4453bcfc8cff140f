"""Delivery through the Brevo transport against the fake Brevo server, in both run modes."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from backend.core.config import Settings
from tests.api.test_campaign_flow import stage_google_contacts, wait_for_status
from tests.conftest import BREVO_API_KEY as API_KEY
from tests.conftest import signup
from tests.fakes.brevo import FakeBrevo

GOOGLE_VALID = 393


@pytest.fixture
def settings(settings: Settings, fake_brevo: FakeBrevo) -> Settings:
    return msgspec.structs.replace(settings, brevo_api_base_url=fake_brevo.base_url)


async def stage_batch(client: AsyncTestClient[Any]) -> dict[str, Any]:
    configured = await client.put(
        "/api/v1/settings",
        json={
            "brevo_api_key": API_KEY,
            "sender_email": "news@example.com",
            "sender_name": "Example News",
        },
    )
    assert configured.status_code == 200, configured.text
    assert configured.json()["transport"] == "brevo"
    batch = await stage_google_contacts(client, "Brevo")
    assert batch["transport"] == "brevo"
    return batch


async def test_brevo_batch_sends_each_recipient_once(
    client: AsyncTestClient[Any], fake_brevo: FakeBrevo, worker: object
) -> None:
    await signup(client)
    batch = await stage_batch(client)

    await client.post(f"/api/v1/batches/{batch['id']}/launch")
    done = await wait_for_status(client, batch["id"], "completed")

    assert done["counts"]["sent"] == GOOGLE_VALID
    recipients = [message.to[0].email for message in fake_brevo.messages]
    assert len(recipients) == GOOGLE_VALID
    assert len(set(recipients)) == GOOGLE_VALID
    assert max(fake_brevo.accepted_count(address) for address in recipients) == 1
    first = fake_brevo.messages[0]
    assert first.sender.email == "news@example.com"
    assert first.headers["List-Unsubscribe"].startswith("<http://testserver.local/unsubscribe/")
    assert first.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Idempotency-Key" in first.headers
    page = (await client.get(f"/api/v1/batches/{batch['id']}/recipients?limit=5")).json()
    assert all(item["provider_message_id"].startswith("<") for item in page["items"])


async def test_brevo_rejected_key_pauses_batch(
    client: AsyncTestClient[Any], fake_brevo: FakeBrevo, worker: object
) -> None:
    await signup(client)
    batch = await stage_batch(client)
    fake_brevo.faults.account_error = "unauthorized"

    await client.post(f"/api/v1/batches/{batch['id']}/launch")
    paused = await wait_for_status(client, batch["id"], "paused")
    # Pause lets requests already in flight finish; wait for their recipients to settle.
    for _ in range(100):
        if paused["counts"]["processing"] == 0:
            break
        await asyncio.sleep(0.1)
        paused = (await client.get(f"/api/v1/batches/{batch['id']}")).json()

    assert "Key not found" in paused["pause_reason"] or "key" in paused["pause_reason"].lower()
    assert paused["counts"]["failed"] == 0
    assert paused["counts"]["sent"] == 0
    assert paused["counts"]["processing"] == 0
    assert paused["counts"]["queued"] == GOOGLE_VALID
    assert fake_brevo.messages == []
