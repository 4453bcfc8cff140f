"""The dashboard's totals, counted in the database for one account."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from tests.api.test_campaign_flow import CONTACTS, stage_google_contacts, upload, wait_for_status
from tests.conftest import signup


async def summary(client: AsyncTestClient[Any]) -> dict[str, Any]:
    response = await client.get("/api/v1/summary")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def count_contacts(client: AsyncTestClient[Any]) -> int:
    count, cursor = 0, ""
    while True:
        page = (
            await client.get("/api/v1/contacts", params={"limit": 200, "cursor": cursor})
        ).json()
        count += len(page["items"])
        if page["next_cursor"] is None:
            return count
        cursor = page["next_cursor"]


async def test_summary_starts_empty(client: AsyncTestClient[Any]) -> None:
    await signup(client)

    body = await summary(client)

    assert body == {
        "contacts": 0,
        "contacts_by_status": {},
        "batches": 0,
        "batches_by_status": {},
        "messages_sent": 0,
    }


async def test_summary_counts_contacts_batches_and_sent(
    client: AsyncTestClient[Any], worker: object
) -> None:
    await signup(client)
    suppressed = await upload(
        client, CONTACTS / "unsubscribed.csv", "/api/v1/contacts/suppressions"
    )
    assert suppressed.status_code == 200, suppressed.text
    batch = await stage_google_contacts(client, "Totals")
    await client.post(f"/api/v1/batches/{batch['id']}/launch")
    done = await wait_for_status(client, batch["id"], "completed", seconds=120)

    body = await summary(client)

    assert body["contacts"] == await count_contacts(client)
    assert body["contacts_by_status"]["unsubscribed"] >= 40
    assert body["batches"] == 1
    assert body["batches_by_status"] == {"completed": 1}
    assert body["messages_sent"] == done["counts"]["sent"]
    assert body["messages_sent"] > 0


async def test_summary_excludes_other_accounts(
    client: AsyncTestClient[Any], other_client: AsyncTestClient[Any]
) -> None:
    await signup(client)
    await upload(client, CONTACTS / "unsubscribed.csv", "/api/v1/contacts/suppressions")
    await signup(other_client, "second@example.com")

    body = await summary(other_client)

    assert body["contacts"] == 0
    assert body["batches"] == 0
