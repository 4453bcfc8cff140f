"""Validation and staging as background jobs: progress, cancel, hidden batches, recovery."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import aiohttp
import pytest
from sqlalchemy import func, select, update

from backend.batches.models import Batch, Recipient
from backend.contacts.models import Contact
from backend.core.config import Settings
from backend.core.database import Database, create_engine
from backend.imports.models import Import
from tests.api.conftest import (
    Client,
    stage_import,
    starter_version_id,
    upload_bytes,
    validate_import,
    wait_for_import,
)
from tests.api.test_live import sign_up, wait_for_import_over_http
from tests.conftest import signup

# Imports are validated and staged by a job: in production mode a worker process runs it.
pytestmark = pytest.mark.usefixtures("worker")

# Ten chunks of the job, so a cancel lands while it runs.
LARGE_ROWS = 50_000


@pytest.fixture
async def database(settings: Settings) -> AsyncIterator[Database]:
    # The app's engine belongs to the test client's event loop; asyncpg connections cannot
    # cross loops, so the test opens its own.
    database = Database(create_engine(settings))
    yield database
    await database.dispose()


def people_csv(rows: int, domain: str = "example.com") -> bytes:
    """A CSV of `rows` distinct people; every 100th row has an invalid address."""
    lines = ["email,first_name"]
    for number in range(rows):
        address = f"person{number}@{domain}" if number % 100 else f"person{number}.{domain}"
        lines.append(f"{address},Person{number}")
    return ("\n".join(lines) + "\n").encode()


async def mapped_import(
    client: Client, content: bytes, mapping: dict[str, Any] | None = None, **options: Any
) -> str:
    created = await upload_bytes(client, "people.csv", content, "/api/v1/imports")
    assert created.status_code == 201, created.text
    import_id = str(created.json()["id"])
    body = {"template_version_id": await starter_version_id(client), **options}
    if mapping is not None:
        body["mapping"] = mapping
    mapped = await client.put(f"/api/v1/imports/{import_id}/mapping", json=body)
    assert mapped.status_code == 200, mapped.text
    return import_id


async def batch_rows(database: Database, import_id: str) -> tuple[int, int]:
    """Count the batches, hidden ones included, and their recipients of an import."""
    async with database.session() as session:
        batches = await session.scalar(
            select(func.count()).select_from(Batch).where(Batch.import_id == UUID(import_id))
        )
        recipients = await session.scalar(
            select(func.count())
            .select_from(Recipient)
            .join(Batch, Batch.id == Recipient.batch_id)
            .where(Batch.import_id == UUID(import_id))
        )
    return batches or 0, recipients or 0


async def wait_for_no_batch(database: Database, import_id: str) -> None:
    """Wait until a stopped staging job has deleted its hidden batch."""
    deadline = asyncio.get_running_loop().time() + 120
    while await batch_rows(database, import_id) != (0, 0):
        assert asyncio.get_running_loop().time() < deadline, "the hidden batch was kept"
        await asyncio.sleep(0.1)


async def test_validate_returns_202_and_result(client: Client) -> None:
    await signup(client)
    import_id = await mapped_import(client, people_csv(300))

    started = await client.post(f"/api/v1/imports/{import_id}/validate")
    assert started.status_code == 202, started.text
    assert started.json()["status"] == "validating"
    done = await wait_for_import(client, import_id, "validated")
    validation = (await client.get(f"/api/v1/imports/{import_id}/validation")).json()

    assert validation["total_rows"] == 300
    assert validation["valid_rows"] == 297
    assert validation["invalid_rows"] == 3
    assert done["progress"]["phase"] == "validating"
    assert done["progress"]["rows_read"] == 300
    assert done["progress"]["bytes_read"] == done["progress"]["size_bytes"]
    assert done["error"] == ""


async def test_validation_route_conflicts_before_result(client: Client) -> None:
    await signup(client)
    import_id = await mapped_import(client, people_csv(10))

    response = await client.get(f"/api/v1/imports/{import_id}/validation")

    assert response.status_code == 409
    assert "mapped" in response.json()["message"]


async def test_stage_requires_validated_import(client: Client) -> None:
    await signup(client)
    import_id = await mapped_import(client, people_csv(10))

    response = await client.post(f"/api/v1/imports/{import_id}/stage", json={"name": "Early"})

    assert response.status_code == 409
    assert "is mapped" in response.json()["message"]


async def test_cancel_without_job_conflicts(client: Client) -> None:
    await signup(client)
    import_id = await mapped_import(client, people_csv(10))

    response = await client.post(f"/api/v1/imports/{import_id}/cancel")

    assert response.status_code == 409
    assert "mapped" in response.json()["message"]


async def test_second_validate_while_running_conflicts(client: Client) -> None:
    await signup(client)
    import_id = await mapped_import(client, people_csv(LARGE_ROWS))

    first = await client.post(f"/api/v1/imports/{import_id}/validate")
    second = await client.post(f"/api/v1/imports/{import_id}/validate")
    await wait_for_import(client, import_id, "validated")

    assert first.status_code == 202, first.text
    assert second.status_code == 409
    assert "validating" in second.json()["message"]


async def test_cancel_mid_validation(client: Client) -> None:
    await signup(client)
    import_id = await mapped_import(client, people_csv(LARGE_ROWS))

    started = await client.post(f"/api/v1/imports/{import_id}/validate")
    assert started.status_code == 202, started.text
    cancelled = await client.post(f"/api/v1/imports/{import_id}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"

    # The job stops at its next chunk and never marks the import validated.
    await asyncio.sleep(1)
    current = (await client.get(f"/api/v1/imports/{import_id}")).json()
    assert current["status"] == "cancelled"
    assert (await client.get(f"/api/v1/imports/{import_id}/validation")).status_code == 409
    assert (
        await client.post(f"/api/v1/imports/{import_id}/stage", json={"name": "X"})
    ).status_code == 409

    # A cancelled validation can be started again.
    validation = await validate_import(client, import_id)
    assert validation["total_rows"] == LARGE_ROWS
    assert validation["invalid_rows"] == LARGE_ROWS // 100


async def test_cancel_mid_staging_leaves_no_batch(client: Client, database: Database) -> None:
    await signup(client)
    import_id = await mapped_import(client, people_csv(LARGE_ROWS))
    await validate_import(client, import_id)

    started = await client.post(f"/api/v1/imports/{import_id}/stage", json={"name": "Big"})
    assert started.status_code == 202, started.text
    assert started.json()["status"] == "staging"
    cancelled = await client.post(f"/api/v1/imports/{import_id}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"

    await wait_for_no_batch(database, import_id)
    current = (await client.get(f"/api/v1/imports/{import_id}")).json()
    assert current["status"] == "cancelled"
    assert current["batch_id"] is None
    assert (await client.get("/api/v1/batches")).json()["items"] == []

    # A cancelled staging keeps its validation and can be started again.
    batch = await stage_import(client, import_id, "Big again")
    assert batch["total"] == LARGE_ROWS - LARGE_ROWS // 100
    assert batch["counts"]["staged"] == batch["total"]
    assert await batch_rows(database, import_id) == (1, batch["total"])


async def test_staging_batch_stays_hidden(client: Client, database: Database) -> None:
    await signup(client)
    import_id = await mapped_import(client, people_csv(LARGE_ROWS))
    await validate_import(client, import_id)

    started = await client.post(f"/api/v1/imports/{import_id}/stage", json={"name": "Hidden"})
    assert started.status_code == 202, started.text
    polls_while_staging = 0
    hidden_ids: set[UUID] = set()
    while True:
        current = (await client.get(f"/api/v1/imports/{import_id}")).json()
        if current["status"] != "staging":
            break
        polls_while_staging += 1
        listed = (await client.get("/api/v1/batches")).json()["items"]
        # Staging may end between the two requests; only a list read while it ran counts.
        still_staging = (await client.get(f"/api/v1/imports/{import_id}")).json()["status"]
        if still_staging == "staging":
            assert listed == []
        async with database.session() as session:
            hidden_ids.update(
                await session.scalars(
                    select(Batch.id).where(
                        Batch.import_id == UUID(import_id), Batch.status == "staging"
                    )
                )
            )
        for batch_id in hidden_ids:
            fetched = await client.get(f"/api/v1/batches/{batch_id}")
            after = (await client.get(f"/api/v1/imports/{import_id}")).json()
            if after["status"] == "staging":
                assert fetched.status_code == 404, fetched.text
        await asyncio.sleep(0.05)

    assert current["status"] == "staged", current["error"]
    assert polls_while_staging >= 1
    listed = (await client.get("/api/v1/batches")).json()["items"]
    assert [batch["id"] for batch in listed] == [current["batch_id"]]
    assert listed[0]["status"] == "staged"


async def test_hidden_batch_is_not_found(client: Client, database: Database) -> None:
    await signup(client)
    import_id = await mapped_import(client, people_csv(20))
    await validate_import(client, import_id)
    batch = await stage_import(client, import_id, "Flip")
    async with database.session() as session:
        await session.execute(
            update(Batch).where(Batch.id == UUID(batch["id"])).values(status="staging")
        )
        await session.commit()

    fetched = await client.get(f"/api/v1/batches/{batch['id']}")
    launched = await client.post(f"/api/v1/batches/{batch['id']}/launch")
    recipients = await client.get(f"/api/v1/batches/{batch['id']}/recipients")
    listed = (await client.get("/api/v1/batches")).json()["items"]

    assert fetched.status_code == 404
    assert launched.status_code == 404
    assert recipients.status_code == 404
    assert listed == []


async def test_two_accounts_import_at_once(client: Client, other_client: Client) -> None:
    await signup(client, "first@example.com")
    await signup(other_client, "second@example.com")
    first = await mapped_import(client, people_csv(12_000, "first.example.com"))
    second = await mapped_import(other_client, people_csv(8_000, "second.example.com"))

    started = await asyncio.gather(
        client.post(f"/api/v1/imports/{first}/validate"),
        other_client.post(f"/api/v1/imports/{second}/validate"),
    )
    assert [response.status_code for response in started] == [202, 202]
    await asyncio.gather(
        wait_for_import(client, first, "validated"),
        wait_for_import(other_client, second, "validated"),
    )
    staged = await asyncio.gather(
        client.post(f"/api/v1/imports/{first}/stage", json={"name": "First"}),
        other_client.post(f"/api/v1/imports/{second}/stage", json={"name": "Second"}),
    )
    assert [response.status_code for response in staged] == [202, 202], [r.text for r in staged]
    done = await asyncio.gather(
        wait_for_import(client, first, "staged"),
        wait_for_import(other_client, second, "staged"),
    )

    first_batches = (await client.get("/api/v1/batches")).json()["items"]
    second_batches = (await other_client.get("/api/v1/batches")).json()["items"]
    assert [batch["id"] for batch in first_batches] == [done[0]["batch_id"]]
    assert [batch["id"] for batch in second_batches] == [done[1]["batch_id"]]
    assert first_batches[0]["total"] == 12_000 - 120
    assert second_batches[0]["total"] == 8_000 - 80
    assert (await other_client.get(f"/api/v1/imports/{first}")).status_code == 404
    assert (await other_client.post(f"/api/v1/imports/{first}/cancel")).status_code == 404


async def test_two_imports_of_one_account_at_once(client: Client) -> None:
    await signup(client)
    # The files share half their addresses, so both jobs upsert the same contacts.
    first = await mapped_import(client, people_csv(10_000))
    second = await mapped_import(client, people_csv(5_000))
    await asyncio.gather(validate_import(client, first), validate_import(client, second))

    batches = await asyncio.gather(
        stage_import(client, first, "First"), stage_import(client, second, "Second")
    )

    assert [batch["total"] for batch in batches] == [9_900, 4_950]
    contacts = (await client.get("/api/v1/contacts?search=person4999@")).json()["items"]
    assert [contact["email"] for contact in contacts] == ["person4999@example.com"]


async def test_stale_validation_is_failed(client: Client, database: Database) -> None:
    await signup(client)
    import_id = await mapped_import(client, people_csv(10))
    # What a killed process leaves: a running status and a heartbeat that stopped.
    async with database.session() as session:
        await session.execute(
            update(Import)
            .where(Import.id == UUID(import_id))
            .values(status="validating", heartbeat_at=datetime.now(UTC) - timedelta(minutes=5))
        )
        await session.commit()

    current = (await client.get(f"/api/v1/imports/{import_id}")).json()

    assert current["status"] == "failed"
    assert "Start the validation again" in current["error"]
    # A failed validation can be started again.
    validation = await validate_import(client, import_id)
    assert validation["valid_rows"] == 9


async def test_stale_staging_deletes_hidden_batch(client: Client, database: Database) -> None:
    await signup(client)
    import_id = await mapped_import(client, people_csv(30))
    await validate_import(client, import_id)
    batch = await stage_import(client, import_id, "Left over")
    # A staging killed before its last step: the import still staging, its batch hidden.
    async with database.session() as session:
        await session.execute(
            update(Batch).where(Batch.id == UUID(batch["id"])).values(status="staging")
        )
        await session.execute(
            update(Import)
            .where(Import.id == UUID(import_id))
            .values(
                status="staging",
                batch_id=None,
                heartbeat_at=datetime.now(UTC) - timedelta(minutes=5),
            )
        )
        await session.commit()

    current = (await client.get(f"/api/v1/imports/{import_id}")).json()

    assert current["status"] == "failed"
    assert "Start the staging again" in current["error"]
    assert await batch_rows(database, import_id) == (0, 0)
    restaged = await stage_import(client, import_id, "Again")
    assert restaged["total"] == 29


async def test_fresh_heartbeat_is_not_failed(client: Client, database: Database) -> None:
    await signup(client)
    import_id = await mapped_import(client, people_csv(10))
    async with database.session() as session:
        await session.execute(
            update(Import)
            .where(Import.id == UUID(import_id))
            .values(status="validating", heartbeat_at=datetime.now(UTC))
        )
        await session.commit()

    current = (await client.get(f"/api/v1/imports/{import_id}")).json()

    assert current["status"] == "validating"


KEEP_CSV = (
    b"email,first_name,Company,Favourite colour\n"
    b"ann@example.com,Ann,Acme,green\n"
    b"bob@example.com,Bob,,\n"
)
KEEP_MAPPING = {
    "email": "email",
    "first_name": "first_name",
    "Company": None,
    "Favourite colour": None,
}


async def contact_by_email(client: Client, address: str) -> dict[str, Any]:
    items = (await client.get(f"/api/v1/contacts?search={address}")).json()["items"]
    assert len(items) == 1, items
    contact: dict[str, Any] = items[0]
    return contact


async def test_keep_unmapped_stores_attributes(client: Client) -> None:
    await signup(client)
    first = await mapped_import(client, KEEP_CSV, KEEP_MAPPING, keep_unmapped=True)
    assert (await client.get(f"/api/v1/imports/{first}")).json()["keep_unmapped"] is True
    await validate_import(client, first)
    await stage_import(client, first, "Kept")

    ann = await contact_by_email(client, "ann@example.com")
    bob = await contact_by_email(client, "bob@example.com")
    assert ann["attributes"] == {
        "first_name": "Ann",
        "Company": "Acme",
        "Favourite colour": "green",
    }
    assert bob["attributes"] == {"first_name": "Bob"}

    # An empty cell in a later import keeps the stored value.
    later = b"email,first_name,Company,Favourite colour\nann@example.com,Ann,,blue\n"
    second = await mapped_import(client, later, KEEP_MAPPING, keep_unmapped=True)
    await validate_import(client, second)
    await stage_import(client, second, "Later")

    ann = await contact_by_email(client, "ann@example.com")
    assert ann["attributes"]["Company"] == "Acme"
    assert ann["attributes"]["Favourite colour"] == "blue"


async def test_unmapped_columns_dropped_by_default(client: Client) -> None:
    await signup(client)
    import_id = await mapped_import(client, KEEP_CSV, KEEP_MAPPING)
    assert (await client.get(f"/api/v1/imports/{import_id}")).json()["keep_unmapped"] is False
    await validate_import(client, import_id)
    await stage_import(client, import_id, "Dropped")

    ann = await contact_by_email(client, "ann@example.com")
    assert ann["attributes"] == {"first_name": "Ann"}


async def test_staging_never_resubscribes(client: Client, database: Database) -> None:
    await signup(client)
    suppression = await upload_bytes(
        client,
        "suppressed.csv",
        b"email\nann@example.com\n",
        "/api/v1/contacts/suppressions",
    )
    assert suppression.status_code == 200, suppression.text
    import_id = await mapped_import(client, KEEP_CSV, KEEP_MAPPING, keep_unmapped=True)
    validation = await validate_import(client, import_id)
    assert validation["suppressed_rows"] == 1

    batch = await stage_import(client, import_id, "Suppressed")

    ann = await contact_by_email(client, "ann@example.com")
    assert ann["status"] == "unsubscribed"
    assert batch["counts"]["unsubscribed"] == 1
    assert batch["counts"]["staged"] == 1
    async with database.session() as session:
        status = await session.scalar(
            select(Contact.status).where(Contact.email_key == "ann@example.com")
        )
    assert status == "unsubscribed"


async def test_progress_events_on_live_socket(live_server: str) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        headers = await sign_up(http, live_server)
        templates = await (await http.get(f"{live_server}/api/v1/templates")).json()
        form = aiohttp.FormData()
        form.add_field("file", people_csv(20_000), filename="people.csv")
        created = await http.post(f"{live_server}/api/v1/imports", data=form, headers=headers)
        import_id = (await created.json())["id"]
        base = f"{live_server}/api/v1/imports/{import_id}"
        version_id = templates[0]["latest_version"]["id"]
        await http.put(f"{base}/mapping", json={"template_version_id": version_id}, headers=headers)

        events: list[dict[str, Any]] = []
        async with http.ws_connect(f"{live_server}/api/v1/live", origin=live_server) as socket:
            started = await http.post(f"{base}/validate", headers=headers)
            assert started.status == 202, await started.text()
            async with asyncio.timeout(180):
                while not any(event["type"] == "import.finished" for event in events):
                    frame = await socket.receive_json()
                    events.extend(event for event in frame if event["import_id"] == import_id)
        await wait_for_import_over_http(http, base, "validated")

    progress = [event for event in events if event["type"] == "import.progress"]
    finished = [event for event in events if event["type"] == "import.finished"]
    assert progress
    assert progress[0]["status"] == "validating"
    assert progress[0]["phase"] == "validating"
    assert set(progress[0]) >= {"rows_read", "valid", "invalid", "bytes_read", "size_bytes"}
    assert all(event["rows_read"] <= 20_000 for event in progress)
    assert finished == [
        {
            "type": "import.finished",
            "import_id": import_id,
            "status": "validated",
            "error": "",
            "batch_id": None,
        }
    ]
