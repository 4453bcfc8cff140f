"""Sends interrupted by a stopped process resume when the next process starts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import update

from backend.batches.models import Batch, Recipient
from backend.core.config import Settings
from backend.core.database import Database, create_engine
from backend.core.queue import TaskQueue, build_broker
from backend.delivery.recovery import recover_interrupted_sends
from tests.api.test_campaign_flow import stage_google_contacts, wait_for_status
from tests.conftest import signup

# Imports are validated and staged by a job: in production mode a worker process runs it.
pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture
async def database(settings: Settings) -> AsyncIterator[Database]:
    # The app's own engine belongs to the test client's event loop; asyncpg connections
    # cannot cross loops, so the test opens its own.
    database = Database(create_engine(settings))
    yield database
    await database.dispose()


@pytest.fixture
async def queue(settings: Settings, app: Litestar) -> AsyncIterator[TaskQueue]:
    if settings.inline_queue:
        yield app.state.services.queue
        return
    broker = build_broker(settings)
    await broker.startup()
    yield TaskQueue(broker)
    await broker.shutdown()


async def test_expired_claims_are_resent_after_restart(
    client: AsyncTestClient[Any], database: Database, queue: TaskQueue, worker: object
) -> None:
    await signup(client)
    batch = await stage_google_contacts(client, "Recovery")
    expired = datetime.now(UTC) - timedelta(minutes=10)
    # What a process killed mid-send leaves: a running batch, claimed recipients, no task.
    async with database.session() as session:
        await session.execute(
            update(Batch)
            .where(Batch.id == UUID(batch["id"]))
            .values(status="running", launched_at=expired)
        )
        await session.execute(
            update(Recipient)
            .where(Recipient.batch_id == UUID(batch["id"]))
            .values(status="processing", lease_until=expired)
        )
        await session.commit()

    restarted = await recover_interrupted_sends(database, queue)
    done = await wait_for_status(client, batch["id"], "completed")

    assert restarted == 1
    assert done["counts"]["sent"] == batch["total"]
    assert done["counts"]["processing"] == 0


async def test_live_claims_are_left_alone(
    client: AsyncTestClient[Any], database: Database, queue: TaskQueue
) -> None:
    await signup(client)
    batch = await stage_google_contacts(client, "Recovery")
    lease = datetime.now(UTC) + timedelta(minutes=5)
    async with database.session() as session:
        await session.execute(
            update(Batch).where(Batch.id == UUID(batch["id"])).values(status="paused")
        )
        await session.execute(
            update(Recipient)
            .where(Recipient.batch_id == UUID(batch["id"]))
            .values(status="processing", lease_until=lease)
        )
        await session.commit()

    restarted = await recover_interrupted_sends(database, queue)
    current = (await client.get(f"/api/v1/batches/{batch['id']}")).json()

    assert restarted == 0
    assert current["counts"]["processing"] == batch["total"]


async def test_single_sender_releases_every_claim(
    client: AsyncTestClient[Any], database: Database, queue: TaskQueue
) -> None:
    await signup(client)
    batch = await stage_google_contacts(client, "Recovery")
    lease = datetime.now(UTC) + timedelta(minutes=5)
    async with database.session() as session:
        await session.execute(
            update(Batch).where(Batch.id == UUID(batch["id"])).values(status="paused")
        )
        await session.execute(
            update(Recipient)
            .where(Recipient.batch_id == UUID(batch["id"]))
            .values(status="processing", lease_until=lease)
        )
        await session.commit()

    await recover_interrupted_sends(database, queue, release_all=True)
    current = (await client.get(f"/api/v1/batches/{batch['id']}")).json()

    assert current["counts"]["processing"] == 0
    assert current["counts"]["queued"] == batch["total"]


async def mark_running_and_queued(database: Database, batch_id: str, updated_at: datetime) -> None:
    async with database.session() as session:
        await session.execute(
            update(Batch)
            .where(Batch.id == UUID(batch_id))
            .values(status="running", launched_at=updated_at)
        )
        await session.execute(
            update(Recipient)
            .where(Recipient.batch_id == UUID(batch_id))
            .values(status="queued", updated_at=updated_at)
        )
        await session.commit()


async def test_periodic_check_restarts_stalled_batch(
    client: AsyncTestClient[Any], database: Database, queue: TaskQueue, worker: object
) -> None:
    await signup(client)
    batch = await stage_google_contacts(client, "Recovery")
    await mark_running_and_queued(database, batch["id"], datetime.now(UTC) - timedelta(minutes=10))

    restarted = await recover_interrupted_sends(database, queue, stalled_for=timedelta(minutes=2))
    done = await wait_for_status(client, batch["id"], "completed")

    assert restarted == 1
    assert done["counts"]["sent"] == batch["total"]


async def test_periodic_check_leaves_active_batch(
    client: AsyncTestClient[Any], database: Database, queue: TaskQueue
) -> None:
    await signup(client)
    batch = await stage_google_contacts(client, "Recovery")
    await mark_running_and_queued(database, batch["id"], datetime.now(UTC))

    restarted = await recover_interrupted_sends(database, queue, stalled_for=timedelta(minutes=2))

    assert restarted == 0


async def test_periodic_check_completes_finished_batch(
    client: AsyncTestClient[Any], database: Database, queue: TaskQueue, worker: object
) -> None:
    # Every recipient was sent, but the task died before it marked the batch completed.
    await signup(client)
    batch = await stage_google_contacts(client, "Recovery")
    quiet_since = datetime.now(UTC) - timedelta(minutes=10)
    async with database.session() as session:
        await session.execute(
            update(Batch)
            .where(Batch.id == UUID(batch["id"]))
            .values(status="running", launched_at=quiet_since)
        )
        await session.execute(
            update(Recipient)
            .where(Recipient.batch_id == UUID(batch["id"]), Recipient.status == "staged")
            .values(status="sent", sent_at=quiet_since, updated_at=quiet_since)
        )
        await session.commit()

    restarted = await recover_interrupted_sends(database, queue, stalled_for=timedelta(minutes=2))
    done = await wait_for_status(client, batch["id"], "completed")

    assert restarted == 1
    assert done["counts"]["sent"] == batch["counts"]["staged"]
    assert done["completed_at"] is not None
