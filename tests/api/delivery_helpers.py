"""Helpers for the delivery engine tests: Brevo settings, staging, waiting."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import BREVO_API_KEY, FIXTURES

Client = AsyncTestClient[Litestar]

# Settings that a worker process must share with the test, passed as environment variables.
DELIVERY_FIELDS = (
    "send_lease_seconds",
    "send_max_attempts",
    "send_retry_base_seconds",
    "send_retry_max_seconds",
    "send_pause_after_failures",
    "reconcile_interval_seconds",
    "stalled_after_seconds",
)


async def configure_brevo(client: Client, **changes: Any) -> None:
    configured = await client.put(
        "/api/v1/settings",
        json={
            "brevo_api_key": BREVO_API_KEY,
            "sender_email": "news@example.com",
            "sender_name": "Example News",
            **changes,
        },
    )
    assert configured.status_code == 200, configured.text


async def wait_for_import(client: Client, import_id: str, status: str) -> dict[str, Any]:
    for _ in range(600):
        current: dict[str, Any] = (await client.get(f"/api/v1/imports/{import_id}")).json()
        if current["status"] == status:
            return current
        assert current["status"] != "failed", current
        await asyncio.sleep(0.05)
    raise AssertionError(f"import still {current['status']}, expected {status}")


async def stage_contacts(client: Client, name: str) -> dict[str, Any]:
    """Stage google-contacts.csv against the starter template and return the batch.

    Validation and staging may finish in the request (201) or run as a job (202).
    """
    templates = (await client.get("/api/v1/templates")).json()
    version_id = templates[0]["latest_version"]["id"]
    content = (FIXTURES / "contacts" / "google-contacts.csv").read_bytes()
    created = await client.post(
        "/api/v1/imports",
        files={"file": ("google-contacts.csv", content, "application/octet-stream")},
    )
    assert created.status_code == 201, created.text
    import_id = created.json()["id"]
    base = f"/api/v1/imports/{import_id}"
    mapped = await client.put(f"{base}/mapping", json={"template_version_id": version_id})
    assert mapped.status_code == 200, mapped.text
    validated = await client.post(f"{base}/validate")
    assert validated.status_code in (200, 202), validated.text
    await wait_for_import(client, import_id, "validated")
    staged = await client.post(f"{base}/stage", json={"name": name})
    assert staged.status_code in (201, 202), staged.text
    if staged.status_code == 201:
        batch: dict[str, Any] = staged.json()
        return batch
    done = await wait_for_import(client, import_id, "staged")
    batch = (await client.get(f"/api/v1/batches/{done['batch_id']}")).json()
    return batch


async def wait_for_batch(
    client: Client, batch_id: str, status: str, *, settled: bool = True
) -> dict[str, Any]:
    """Wait until the batch has `status` and, with `settled`, no recipient is processing."""
    for _ in range(1200):
        batch: dict[str, Any] = (await client.get(f"/api/v1/batches/{batch_id}")).json()
        if batch["status"] == status and (not settled or batch["counts"]["processing"] == 0):
            return batch
        await asyncio.sleep(0.05)
    raise AssertionError(f"batch is {batch['status']} with {batch['counts']}, expected {status}")
