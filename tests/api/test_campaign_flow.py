"""The whole spine over the REST API: suppression list, import, validate, stage, launch."""

from __future__ import annotations

import asyncio
import email
import json
from pathlib import Path
from typing import Any

import aiohttp
from litestar.testing import AsyncTestClient

from backend.core.config import Settings
from tests.api.conftest import stage_import, validate_import
from tests.api.test_live import sign_up, wait_for_import_over_http
from tests.conftest import FIXTURES, signup

CONTACTS = FIXTURES / "contacts"
EXPECTED = json.loads((CONTACTS / "expected.json").read_text())


async def upload(client: AsyncTestClient[Any], path: Path, url: str = "/api/v1/imports") -> Any:
    with path.open("rb") as handle:
        return await client.post(
            url, files={"file": (path.name, handle.read(), "application/octet-stream")}
        )


async def starter_version(client: AsyncTestClient[Any]) -> dict[str, Any]:
    templates = (await client.get("/api/v1/templates")).json()
    assert len(templates) == 1
    return dict(templates[0]["latest_version"])


async def stage_google_contacts(client: AsyncTestClient[Any], name: str) -> dict[str, Any]:
    """Stage google-contacts.csv against the starter template and return the batch."""
    version = await starter_version(client)
    import_ = (await upload(client, CONTACTS / "google-contacts.csv")).json()
    base = f"/api/v1/imports/{import_['id']}"
    await client.put(f"{base}/mapping", json={"template_version_id": version["id"]})
    await validate_import(client, import_["id"])
    return await stage_import(client, import_["id"], name)


async def wait_for_status(
    client: AsyncTestClient[Any], batch_id: str, status: str, seconds: float = 60
) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        batch: dict[str, Any] = (await client.get(f"/api/v1/batches/{batch_id}")).json()
        if batch["status"] == status:
            return batch
        assert asyncio.get_running_loop().time() < deadline, (
            f"batch still {batch['status']}: {batch['counts']}"
        )
        await asyncio.sleep(0.2)


async def test_campaign_from_mailchimp_export_reaches_outbox(
    client: AsyncTestClient[Any], settings: Settings, worker: object
) -> None:
    await signup(client)
    expected = EXPECTED["mailchimp-export.csv"]

    suppression = await upload(
        client, CONTACTS / "unsubscribed.csv", "/api/v1/contacts/suppressions"
    )
    assert suppression.status_code == 200, suppression.text
    assert suppression.json()["suppressed"] == 40

    version = await starter_version(client)
    created = await upload(client, CONTACTS / "mailchimp-export.csv")
    assert created.status_code == 201, created.text
    import_ = created.json()
    assert import_["encoding"] == expected["encoding"]
    assert import_["suggested_mapping"][expected["email_column"]] == "email"
    assert import_["suggested_mapping"][expected["first_name_column"]] == "first_name"

    mapped = await client.put(
        f"/api/v1/imports/{import_['id']}/mapping",
        json={"template_version_id": version["id"]},
    )
    assert mapped.status_code == 200, mapped.text
    validation = await validate_import(client, import_["id"])
    assert validation["total_rows"] == expected["data_rows"]
    assert validation["valid_rows"] == expected["valid"]
    assert validation["invalid_rows"] == expected["invalid_email"] + expected["missing_required"]
    assert validation["duplicate_rows"] == expected["duplicates"]
    assert validation["suppressed_rows"] == expected["suppressed_among_valid"]

    errors = (await client.get(f"/api/v1/imports/{import_['id']}/errors?page_size=500")).json()
    assert (
        errors["total"]
        == expected["invalid_email"] + expected["missing_required"] + expected["duplicates"]
    )
    assert all(item["row_number"] >= 2 for item in errors["items"])

    batch = await stage_import(client, import_["id"], "October news")
    assert batch["status"] == "staged"
    assert batch["transport"] == "outbox"
    assert batch["counts"]["staged"] == expected["valid"] - expected["suppressed_among_valid"]
    assert batch["counts"]["unsubscribed"] == expected["suppressed_among_valid"]

    launched = await client.post(f"/api/v1/batches/{batch['id']}/launch")
    assert launched.status_code == 200, launched.text
    done = await wait_for_status(client, batch["id"], "completed", seconds=120)
    sent = expected["valid"] - expected["suppressed_among_valid"]
    assert done["counts"]["sent"] == sent
    assert done["counts"]["unsubscribed"] == expected["suppressed_among_valid"]
    assert done["counts"]["failed"] == 0

    outbox = sorted(Path(settings.data_dir, "outbox").glob("*.eml"))
    assert len(outbox) == sent
    message = email.message_from_bytes(outbox[0].read_bytes())
    assert message["List-Unsubscribe"].startswith("<http://testserver.local/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


async def test_concurrent_stage_requests_create_one_batch(live_server: str, worker: object) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        headers = await sign_up(http, live_server)
        templates = await (await http.get(f"{live_server}/api/v1/templates")).json()
        form = aiohttp.FormData()
        form.add_field(
            "file", (CONTACTS / "google-contacts.csv").read_bytes(), filename="google.csv"
        )
        import_ = await (
            await http.post(f"{live_server}/api/v1/imports", data=form, headers=headers)
        ).json()
        base = f"{live_server}/api/v1/imports/{import_['id']}"
        version_id = templates[0]["latest_version"]["id"]
        await http.put(f"{base}/mapping", json={"template_version_id": version_id}, headers=headers)
        await http.post(f"{base}/validate", headers=headers)
        await wait_for_import_over_http(http, base, "validated")

        # A double click: several stage requests in flight at once on a real server.
        responses = await asyncio.gather(
            *(
                http.post(f"{base}/stage", json={"name": f"Race {n}"}, headers=headers)
                for n in range(3)
            )
        )
        await wait_for_import_over_http(http, base, "staged")
        batches = await (await http.get(f"{live_server}/api/v1/batches")).json()

    assert sorted(response.status for response in responses) == [202, 409, 409]
    assert len(batches["items"]) == 1
