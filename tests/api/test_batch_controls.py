"""Operator controls on a batch: pause, resume, cancel, retry failed, failed export."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import msgspec
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select, update

from backend.batches.models import Recipient
from backend.core.config import Settings
from backend.core.database import Database, create_engine
from tests.api.test_brevo_delivery import GOOGLE_VALID, stage_batch
from tests.api.test_campaign_flow import wait_for_status
from tests.conftest import signup
from tests.fakes.brevo import FakeBrevo

# Imports are validated and staged by a job: in production mode a worker process runs it.
pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture
def settings(settings: Settings, fake_brevo: FakeBrevo) -> Settings:
    return msgspec.structs.replace(settings, brevo_api_base_url=fake_brevo.base_url)


@pytest.fixture
async def database(settings: Settings) -> AsyncIterator[Database]:
    database = Database(create_engine(settings))
    yield database
    await database.dispose()


async def settle(client: AsyncTestClient[Any], batch_id: str) -> dict[str, Any]:
    """Wait until no recipient is claimed by a worker, and return the batch."""
    for _ in range(200):
        batch: dict[str, Any] = (await client.get(f"/api/v1/batches/{batch_id}")).json()
        if batch["counts"]["processing"] == 0:
            return batch
        await asyncio.sleep(0.05)
    raise AssertionError(f"recipients still processing: {batch['counts']}")


async def test_pause_then_resume_sends_everyone_once(
    client: AsyncTestClient[Any], fake_brevo: FakeBrevo, worker: object
) -> None:
    await signup(client)
    batch = await stage_batch(client)
    fake_brevo.faults.latency = 0.3

    await client.post(f"/api/v1/batches/{batch['id']}/launch")
    paused = await client.post(f"/api/v1/batches/{batch['id']}/pause")
    assert paused.status_code == 200, paused.text
    assert paused.json()["status"] == "paused"
    held = await settle(client, batch["id"])
    assert held["counts"]["sent"] < GOOGLE_VALID
    assert held["counts"]["queued"] > 0

    fake_brevo.faults.latency = 0.0
    resumed = await client.post(f"/api/v1/batches/{batch['id']}/resume")
    assert resumed.status_code == 200, resumed.text
    done = await wait_for_status(client, batch["id"], "completed")

    assert done["counts"]["sent"] == GOOGLE_VALID
    addresses = [message.to[0].email for message in fake_brevo.messages]
    assert len(addresses) == len(set(addresses)) == GOOGLE_VALID


async def test_controls_reject_wrong_states(client: AsyncTestClient[Any]) -> None:
    await signup(client)
    batch = await stage_batch(client)

    for action in ("pause", "resume", "retry-failed"):
        response = await client.post(f"/api/v1/batches/{batch['id']}/{action}")
        assert response.status_code == 409, (action, response.text)
        assert "staged" in response.json()["message"]


async def test_cancel_stops_unsent_recipients(
    client: AsyncTestClient[Any], fake_brevo: FakeBrevo, worker: object
) -> None:
    await signup(client)
    batch = await stage_batch(client)
    fake_brevo.faults.latency = 0.3
    await client.post(f"/api/v1/batches/{batch['id']}/launch")

    cancelled = await client.post(f"/api/v1/batches/{batch['id']}/cancel")
    final = await settle(client, batch["id"])

    assert cancelled.status_code == 200, cancelled.text
    assert final["status"] == "cancelled"
    assert final["counts"]["queued"] == 0
    assert final["counts"]["cancelled"] > 0
    assert final["counts"]["sent"] + final["counts"]["cancelled"] == GOOGLE_VALID
    assert len(fake_brevo.messages) == final["counts"]["sent"]
    again = await client.post(f"/api/v1/batches/{batch['id']}/cancel")
    assert again.status_code == 409


async def test_retry_failed_and_export(
    client: AsyncTestClient[Any], database: Database, fake_brevo: FakeBrevo, worker: object
) -> None:
    await signup(client)
    batch = await stage_batch(client)
    await client.post(f"/api/v1/batches/{batch['id']}/launch")
    await wait_for_status(client, batch["id"], "completed")
    async with database.session() as session:
        ids = list(
            await session.scalars(
                select(Recipient.id).where(Recipient.batch_id == UUID(batch["id"])).limit(3)
            )
        )
        await session.execute(
            update(Recipient)
            .where(Recipient.id.in_(ids))
            .values(status="failed", error='=HYPERLINK("http://evil.example")')
        )
        await session.commit()

    export = await client.get(f"/api/v1/batches/{batch['id']}/failed.csv")
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert export.status_code == 200
    assert rows[0] == ["row", "email", "reason"]
    assert len(rows) == 4
    assert all(row[2].startswith("'=") for row in rows[1:])

    retried = await client.post(
        f"/api/v1/batches/{batch['id']}/retry-failed", json={"recipient_ids": [str(ids[0])]}
    )
    assert retried.status_code == 200, retried.text
    await wait_for_status(client, batch["id"], "completed")
    rest = await client.post(f"/api/v1/batches/{batch['id']}/retry-failed")
    assert rest.status_code == 200, rest.text
    done = await wait_for_status(client, batch["id"], "completed")

    assert done["counts"]["failed"] == 0
    assert done["counts"]["sent"] == GOOGLE_VALID
