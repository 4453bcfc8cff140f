"""The delivery engine: request keys across crashes, retries, pauses, concurrency."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import aiohttp
import msgspec
import pytest
from litestar import Litestar
from sqlalchemy import select, update

from backend.batches.models import Batch, Recipient
from backend.core.config import Settings
from backend.core.database import Database, create_engine
from backend.core.queue import TaskQueue, build_broker
from backend.delivery import claims
from backend.delivery.brevo import BrevoTransport
from backend.delivery.recovery import recover_interrupted_sends
from backend.delivery.transport import OutgoingMessage, Sender
from tests.api.delivery_helpers import (
    DELIVERY_FIELDS,
    Client,
    configure_brevo,
    stage_contacts,
    wait_for_batch,
)
from tests.conftest import BREVO_API_KEY, TEST_MODE, signup, start_worker, stop_process
from tests.fakes.brevo import FakeBrevo


@pytest.fixture
def settings_changes() -> dict[str, Any]:
    """Settings a test changes beyond the module's; tests parametrize this fixture."""
    return {}


@pytest.fixture
def settings(
    settings: Settings, fake_brevo: FakeBrevo, settings_changes: dict[str, Any]
) -> Settings:
    defaults: dict[str, Any] = {
        "brevo_api_base_url": fake_brevo.base_url,
        "send_retry_base_seconds": 0.01,
        "send_retry_max_seconds": 0.05,
        "send_max_attempts": 3,
        "send_pause_after_failures": 100,
    }
    return msgspec.structs.replace(settings, **(defaults | settings_changes))


@pytest.fixture
def worker(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """A worker process that reads the test's delivery settings (production mode only)."""
    if TEST_MODE != "production":
        yield None
        return
    for name in DELIVERY_FIELDS:
        monkeypatch.setenv(name.upper(), str(getattr(settings, name)))
    process = start_worker(settings, tmp_path / "worker.log")
    yield process
    stop_process(process)


@pytest.fixture
async def database(settings: Settings) -> AsyncIterator[Database]:
    # The app's engine belongs to the test client's event loop; the test opens its own.
    database = Database(create_engine(settings))
    yield database
    await database.dispose()


@pytest.fixture
async def queue(settings: Settings, app: Litestar) -> AsyncIterator[TaskQueue]:
    if settings.inline_queue:
        yield app.state.services.queue
        # A send task enqueued from the test runs in the test's event loop: let it finish
        # before that loop closes. NOTE: reads InMemoryBroker's private task set (taskiq 0.13).
        loop = asyncio.get_running_loop()
        running = getattr(app.state.services.queue.broker, "_running_tasks", ())
        ours = [task for task in running if task.get_loop() is loop]
        await asyncio.wait_for(asyncio.gather(*ours, return_exceptions=True), 60)
        return
    broker = build_broker(settings)
    await broker.startup()
    yield TaskQueue(broker)
    await broker.shutdown()


async def start_running(database: Database, batch_id: str) -> None:
    """Put a staged batch in the state a launch leaves, without starting a send task."""
    now = datetime.now(UTC)
    async with database.session() as session:
        await session.execute(
            update(Batch)
            .where(Batch.id == UUID(batch_id))
            .values(status="running", launched_at=now)
        )
        await session.execute(
            update(Recipient)
            .where(Recipient.batch_id == UUID(batch_id))
            .values(status="queued", updated_at=now)
        )
        await session.commit()


async def claim_now(
    database: Database, batch_id: str, limit: int, *, lease_seconds: float = 120
) -> claims.Claim | None:
    now = datetime.now(UTC)
    async with database.session() as session:
        claim = await claims.claim(
            session,
            UUID(batch_id),
            limit=limit,
            keyed_limit=None,
            now=now,
            lease_until=now + timedelta(seconds=lease_seconds),
            is_postgres=database.is_postgres,
        )
        await session.commit()
    return claim


async def recipient_rows(database: Database, batch_id: str) -> list[Recipient]:
    async with database.session() as session:
        rows = await session.scalars(select(Recipient).where(Recipient.batch_id == UUID(batch_id)))
        return list(rows)


def requests_by_key(fake: FakeBrevo) -> dict[str | None, list[list[str]]]:
    grouped: dict[str | None, list[list[str]]] = defaultdict(list)
    for key, emails in fake.send_requests:
        grouped[key].append(sorted(emails))
    return grouped


async def test_crashed_group_resent_whole_with_same_key(
    client: Client,
    database: Database,
    queue: TaskQueue,
    fake_brevo: FakeBrevo,
    worker: object,
) -> None:
    await signup(client)
    await configure_brevo(client)
    batch = await stage_contacts(client, "Crash")
    await start_running(database, batch["id"])
    # A worker claimed 7 recipients, Brevo accepted its request, and the worker died before
    # recording the outcome: the claim is left processing with an expired lease.
    claim = await claim_now(database, batch["id"], 7, lease_seconds=-1)
    assert claim is not None
    async with aiohttp.ClientSession() as http:
        transport = BrevoTransport(http, api_key=BREVO_API_KEY, base_url=fake_brevo.base_url)
        messages = [
            OutgoingMessage(r.id, r.email, None, "Hello", "<p>Hello</p>", None, {})
            for r in claim.recipients
        ]
        accepted = await transport.send(Sender("news@example.com"), messages, claim.request_key)
    assert all(result.message_id for result in accepted)

    restarted = await recover_interrupted_sends(database, queue)
    done = await wait_for_batch(client, batch["id"], "completed")

    crashed = sorted(r.email.lower() for r in claim.recipients)
    assert restarted == 1
    assert done["counts"]["sent"] == batch["total"]
    assert requests_by_key(fake_brevo)[str(claim.request_key)] == [crashed, crashed]
    assert max(fake_brevo.accepted_count(r.email) for r in claim.recipients) == 1
    rows = await recipient_rows(database, batch["id"])
    assert max(fake_brevo.accepted_count(row.email) for row in rows) == 1
    resent = [row for row in rows if row.id in {r.id for r in claim.recipients}]
    assert {row.request_key for row in resent} == {claim.request_key}
    assert {row.status for row in resent} == {"sent"}


async def test_transient_errors_resend_same_groups_then_fail(
    client: Client, database: Database, fake_brevo: FakeBrevo, worker: object
) -> None:
    await signup(client)
    await configure_brevo(client)
    batch = await stage_contacts(client, "Outage")
    fake_brevo.faults.server_error_share = 1.0

    await client.post(f"/api/v1/batches/{batch['id']}/launch")
    done = await wait_for_batch(client, batch["id"], "completed")

    assert done["counts"]["failed"] == batch["total"]
    grouped = requests_by_key(fake_brevo)
    assert None not in grouped
    # Each group was tried exactly SEND_MAX_ATTEMPTS times, always with the same recipients.
    for attempts in grouped.values():
        assert len(attempts) == 3
        assert attempts.count(attempts[0]) == 3
    emails = [email for attempts in grouped.values() for email in attempts[0]]
    assert len(emails) == len(set(emails)) == batch["total"]
    rows = await recipient_rows(database, batch["id"])
    for row in rows:
        assert row.email.lower() in grouped[str(row.request_key)][0]
        assert row.error.startswith("Gave up after 3 attempts: Brevo failed with a server error")


async def test_rate_limit_waits_without_using_attempts(
    client: Client, fake_brevo: FakeBrevo, worker: object
) -> None:
    await signup(client)
    await configure_brevo(client)
    batch = await stage_contacts(client, "Rate limited")
    fake_brevo.rate_limit_for(1.0)

    await client.post(f"/api/v1/batches/{batch['id']}/launch")
    done = await wait_for_batch(client, batch["id"], "completed")

    assert done["counts"]["sent"] == batch["total"]
    assert done["counts"]["failed"] == 0
    assert any(key is not None for key, _ in fake_brevo.send_requests)
    assert max(fake_brevo.accepted_count(m.to[0].email) for m in fake_brevo.messages) == 1


async def test_claim_honours_not_before(
    client: Client, database: Database, fake_brevo: FakeBrevo, worker: object
) -> None:
    await signup(client)
    await configure_brevo(client)
    batch = await stage_contacts(client, "Delayed")
    await start_running(database, batch["id"])
    later = datetime.now(UTC) + timedelta(hours=1)
    async with database.session() as session:
        await session.execute(
            update(Recipient)
            .where(Recipient.batch_id == UUID(batch["id"]))
            .values(not_before=later)
        )
        await session.commit()

    delayed = await claim_now(database, batch["id"], 10)
    async with database.session() as session:
        state = await claims.queue_state(session, UUID(batch["id"]), datetime.now(UTC))

    assert delayed is None
    assert state is not None
    assert state.ready == 0
    assert state.next_retry_at == later


async def test_keyed_group_waits_for_its_last_member(
    client: Client, database: Database, fake_brevo: FakeBrevo, worker: object
) -> None:
    await signup(client)
    await configure_brevo(client)
    batch = await stage_contacts(client, "Keyed")
    await start_running(database, batch["id"])
    first = await claim_now(database, batch["id"], 10)
    assert first is not None
    ids = [r.id for r in first.recipients]
    # The group went back to the queue; one member still waits for its retry time.
    async with database.session() as session:
        await session.execute(
            update(Recipient)
            .where(Recipient.id.in_(ids))
            .values(status="queued", lease_until=None, not_before=None)
        )
        await session.execute(
            update(Recipient)
            .where(Recipient.id == ids[0])
            .values(not_before=datetime.now(UTC) + timedelta(hours=1))
        )
        await session.commit()

    fresh = await claim_now(database, batch["id"], 10)
    async with database.session() as session:
        await session.execute(
            update(Recipient).where(Recipient.id == ids[0]).values(not_before=None)
        )
        await session.commit()
    again = await claim_now(database, batch["id"], 10)

    assert fresh is not None
    assert not {r.id for r in fresh.recipients} & set(ids)
    assert fresh.request_key != first.request_key
    assert again is not None
    assert [r.id for r in again.recipients] == ids
    assert again.request_key == first.request_key


async def test_concurrent_keyed_claims_split_no_group(
    client: Client, database: Database, fake_brevo: FakeBrevo, worker: object
) -> None:
    await signup(client)
    await configure_brevo(client)
    batch = await stage_contacts(client, "Race")
    await start_running(database, batch["id"])
    groups: dict[UUID, set[UUID]] = {}
    for _ in range(8):
        claim = await claim_now(database, batch["id"], 10)
        assert claim is not None
        groups[claim.request_key] = {r.id for r in claim.recipients}
    async with database.session() as session:
        await session.execute(
            update(Recipient)
            .where(Recipient.batch_id == UUID(batch["id"]), Recipient.status == "processing")
            .values(status="queued", lease_until=None)
        )
        await session.commit()

    results = await asyncio.gather(*(claim_now(database, batch["id"], 10) for _ in range(8)))

    claimed = [result for result in results if result is not None]
    assert len(claimed) == 8
    for result in claimed:
        assert {r.id for r in result.recipients} == groups[result.request_key]
    assert len({result.request_key for result in claimed}) == 8


@pytest.mark.parametrize(
    "settings_changes", [{"send_pause_after_failures": 4, "send_max_attempts": 10}]
)
async def test_consecutive_failures_pause_batch(
    client: Client, fake_brevo: FakeBrevo, worker: object
) -> None:
    await signup(client)
    await configure_brevo(client, send_concurrency=1)
    batch = await stage_contacts(client, "Failing")
    fake_brevo.faults.server_error_share = 1.0

    await client.post(f"/api/v1/batches/{batch['id']}/launch")
    paused = await wait_for_batch(client, batch["id"], "paused")
    activity = (await client.get("/api/v1/activity")).json()

    assert paused["pause_reason"].startswith(
        "Paused after 4 requests in a row failed; last error: Brevo failed with a server error"
    )
    assert paused["counts"]["failed"] == 0
    assert paused["counts"]["queued"] == batch["total"]
    items = activity["items"] if isinstance(activity, dict) else activity
    assert any("Paused after 4 requests in a row failed" in item["message"] for item in items)

    fake_brevo.faults.server_error_share = 0.0
    resumed = await client.post(f"/api/v1/batches/{batch['id']}/resume")
    assert resumed.status_code == 200, resumed.text
    done = await wait_for_batch(client, batch["id"], "completed")

    assert done["counts"]["sent"] == batch["total"]
    assert max(fake_brevo.accepted_count(m.to[0].email) for m in fake_brevo.messages) == 1


async def test_send_concurrency_keeps_requests_in_flight(
    client: Client, fake_brevo: FakeBrevo, worker: object
) -> None:
    await signup(client)
    await configure_brevo(client, send_concurrency=4, provider_rate_per_second=100)
    batch = await stage_contacts(client, "Parallel")
    fake_brevo.faults.latency = 0.3

    await client.post(f"/api/v1/batches/{batch['id']}/launch")
    done = await wait_for_batch(client, batch["id"], "completed")

    assert done["counts"]["sent"] == batch["total"]
    assert fake_brevo.max_in_flight == 4


async def test_retry_failed_clears_request_keys(
    client: Client, database: Database, fake_brevo: FakeBrevo, worker: object
) -> None:
    await signup(client)
    await configure_brevo(client)
    batch = await stage_contacts(client, "Retry")
    await start_running(database, batch["id"])
    claim = await claim_now(database, batch["id"], 5)
    assert claim is not None
    ids = [r.id for r in claim.recipients]
    async with database.session() as session:
        await session.execute(
            update(Recipient)
            .where(Recipient.id.in_(ids))
            .values(
                status="failed",
                error="Gave up after 5 attempts",
                lease_until=None,
                not_before=datetime.now(UTC) + timedelta(hours=1),
            )
        )
        await session.execute(
            update(Batch).where(Batch.id == UUID(batch["id"])).values(status="paused")
        )
        await session.commit()

    retried = await client.post(f"/api/v1/batches/{batch['id']}/retry-failed")
    rows = [row for row in await recipient_rows(database, batch["id"]) if row.id in ids]

    assert retried.status_code == 200, retried.text
    assert {row.status for row in rows} == {"queued"}
    assert {row.request_key for row in rows} == {None}
    assert {row.not_before for row in rows} == {None}
    assert {row.attempts for row in rows} == {0}


@pytest.mark.parametrize("error", ["not_enough_credits", "invalid_sender"])
async def test_account_error_pauses_with_reason(
    client: Client, fake_brevo: FakeBrevo, worker: object, error: Any
) -> None:
    await signup(client)
    await configure_brevo(client)
    batch = await stage_contacts(client, "Account")
    fake_brevo.faults.account_error = error

    await client.post(f"/api/v1/batches/{batch['id']}/launch")
    paused = await wait_for_batch(client, batch["id"], "paused")

    assert "resume the batch" in paused["pause_reason"]
    assert paused["counts"]["failed"] == 0
    assert paused["counts"]["sent"] == 0
    assert paused["counts"]["queued"] == batch["total"]
    assert fake_brevo.messages == []


async def test_starting_worker_keeps_live_claims(
    client: Client,
    database: Database,
    queue: TaskQueue,
    fake_brevo: FakeBrevo,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    worker: object,
) -> None:
    await signup(client)
    await configure_brevo(client)
    batch = await stage_contacts(client, "Live claims")
    await start_running(database, batch["id"])
    # Another worker is sending these 10 recipients; its lease has two minutes to run.
    claim = await claim_now(database, batch["id"], 10)
    assert claim is not None

    if TEST_MODE == "production":
        for name in DELIVERY_FIELDS:
            monkeypatch.setenv(name.upper(), str(getattr(settings, name)))
        # A second worker, started while the first one's claim is still leased.
        process = start_worker(settings, tmp_path / "second-worker.log")
    else:
        # The start-up step of a process that shares the database with other senders.
        await recover_interrupted_sends(database, queue)
    try:
        for _ in range(600):
            current = (await client.get(f"/api/v1/batches/{batch['id']}")).json()
            if current["counts"]["sent"] == batch["total"] - 10:
                break
            await asyncio.sleep(0.05)
    finally:
        if TEST_MODE == "production":
            stop_process(process)

    held = {r.id for r in claim.recipients}
    rows = [row for row in await recipient_rows(database, batch["id"]) if row.id in held]
    assert current["counts"]["sent"] == batch["total"] - 10
    assert current["status"] == "running"
    assert {row.status for row in rows} == {"processing"}
    assert {row.lease_until for row in rows} == {claim.lease_until}
    assert {row.request_key for row in rows} == {claim.request_key}


async def test_periodic_check_restarts_batch_with_expired_claim(
    client: Client,
    database: Database,
    queue: TaskQueue,
    fake_brevo: FakeBrevo,
    worker: object,
) -> None:
    await signup(client)
    await configure_brevo(client)
    batch = await stage_contacts(client, "Expired claim")
    await start_running(database, batch["id"])
    # The batch changed a moment ago, so it does not look stalled, but its task is gone.
    claim = await claim_now(database, batch["id"], 10, lease_seconds=-1)
    assert claim is not None

    restarted = await recover_interrupted_sends(database, queue, stalled_for=timedelta(minutes=2))
    done = await wait_for_batch(client, batch["id"], "completed")

    assert restarted == 1
    assert done["counts"]["sent"] == batch["total"]
    assert requests_by_key(fake_brevo)[str(claim.request_key)] == [
        sorted(r.email.lower() for r in claim.recipients)
    ]
