"""Fixtures and small factories for the API tests: a second browser, settings variants, uploads."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.core.config import Settings
from tests.conftest import FIXTURES

BASE_URL = "http://testserver.local"
CONTACTS = FIXTURES / "contacts"
TEMPLATES = FIXTURES / "templates"

Client = AsyncTestClient[Litestar]
ClientFactory = Callable[..., Awaitable[Client]]


@pytest.fixture
async def other_client(app: Litestar, client: Client) -> AsyncIterator[Client]:
    """A second browser on the same running app, with its own cookies and no CSRF header."""
    second = AsyncTestClient(app=app, base_url=BASE_URL)
    # The app's lifespan (database engine, Redis client) runs on the first client's event
    # loop thread, so the second client sends its requests through that same thread.
    # Its transport holds nothing to close; only the portal reference is dropped.
    second.blocking_portal = client.blocking_portal
    yield second
    del second.blocking_portal


@pytest.fixture
async def make_client(settings: Settings, tmp_path: Path) -> AsyncIterator[ClientFactory]:
    """Build a client for an app whose settings differ from the default test settings.

    Use it instead of `client`, never together with it, so only one app runs per test.
    """
    async with AsyncExitStack() as stack:

        async def make(base_url: str = BASE_URL, **changes: Any) -> Client:
            variant = msgspec.structs.replace(settings, **changes)
            app = create_app(variant, frontend_dist=tmp_path / "no-frontend")
            return await stack.enter_async_context(AsyncTestClient(app=app, base_url=base_url))

        yield make


async def upload(client: Client, path: Path, url: str = "/api/v1/imports") -> Any:
    return await upload_bytes(client, path.name, path.read_bytes(), url)


async def upload_bytes(client: Client, filename: str, content: bytes, url: str) -> Any:
    return await client.post(url, files={"file": (filename, content, "application/octet-stream")})


async def starter_version_id(client: Client) -> str:
    templates = (await client.get("/api/v1/templates")).json()
    return str(templates[0]["latest_version"]["id"])


class StagedWorld(msgspec.Struct, kw_only=True):
    """The ids of one account's objects, each built through the API."""

    template_id: str
    version_id: str
    import_id: str
    batch_id: str
    contact_id: str
    contact_email: str


# Deadline for an import job in tests: generous, because the machine may be busy with other
# test runs. It is a guard against a hang, not a measurement.
IMPORT_DEADLINE_SECONDS = 180
FINAL_IMPORT_STATUSES = ("validated", "staged", "failed", "cancelled")


async def wait_for_import(
    client: Client, import_id: str, status: str, seconds: float = IMPORT_DEADLINE_SECONDS
) -> dict[str, Any]:
    """Poll the import until it has `status`; fail at once if its job ended otherwise."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        response = await client.get(f"/api/v1/imports/{import_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["status"] == status:
            return body
        assert body["status"] not in FINAL_IMPORT_STATUSES, (
            f"import ended {body['status']}, expected {status}: {body['error']}"
        )
        assert asyncio.get_running_loop().time() < deadline, (
            f"import still {body['status']} after {seconds} s: {body['progress']}"
        )
        await asyncio.sleep(0.1)


async def validate_import(client: Client, import_id: str) -> dict[str, Any]:
    """Start the validation, wait for it, and return the validation result."""
    started = await client.post(f"/api/v1/imports/{import_id}/validate")
    assert started.status_code == 202, started.text
    await wait_for_import(client, import_id, "validated")
    validation = await client.get(f"/api/v1/imports/{import_id}/validation")
    assert validation.status_code == 200, validation.text
    result: dict[str, Any] = validation.json()
    return result


async def stage_import(client: Client, import_id: str, name: str) -> dict[str, Any]:
    """Start the staging of a validated import, wait for it, and return the batch."""
    started = await client.post(f"/api/v1/imports/{import_id}/stage", json={"name": name})
    assert started.status_code == 202, started.text
    staged = await wait_for_import(client, import_id, "staged")
    batch = await client.get(f"/api/v1/batches/{staged['batch_id']}")
    assert batch.status_code == 200, batch.text
    body: dict[str, Any] = batch.json()
    return body


async def stage_google_contacts(client: Client) -> StagedWorld:
    """Upload the Google Contacts export, map, validate and stage it as a batch."""
    templates = (await client.get("/api/v1/templates")).json()
    template_id = templates[0]["id"]
    version_id = templates[0]["latest_version"]["id"]

    created = await upload(client, CONTACTS / "google-contacts.csv")
    assert created.status_code == 201, created.text
    import_id = created.json()["id"]
    mapped = await client.put(
        f"/api/v1/imports/{import_id}/mapping", json={"template_version_id": version_id}
    )
    assert mapped.status_code == 200, mapped.text
    await validate_import(client, import_id)
    batch = await stage_import(client, import_id, "A's batch")

    contacts = (await client.get("/api/v1/contacts?limit=1")).json()["items"]
    return StagedWorld(
        template_id=template_id,
        version_id=version_id,
        import_id=import_id,
        batch_id=batch["id"],
        contact_id=contacts[0]["id"],
        contact_email=contacts[0]["email"],
    )
