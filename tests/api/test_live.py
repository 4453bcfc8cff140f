"""The /api/v1/live WebSocket, against a real uvicorn server."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from tests.conftest import FIXTURES

# Imports are validated and staged by a job: in production mode a worker process runs it.
pytestmark = pytest.mark.usefixtures("worker")

CONTACTS = FIXTURES / "contacts"


async def sign_up(http: aiohttp.ClientSession, base: str) -> dict[str, str]:
    response = await http.post(
        f"{base}/api/v1/auth/signup",
        json={"email": "live@example.com", "password": "correct horse battery"},
    )
    assert response.status == 201, await response.text()
    csrf = next(cookie.value for cookie in http.cookie_jar if cookie.key == "csrf_token")
    return {"X-CSRF-Token": csrf}


async def stage_google_contacts(
    http: aiohttp.ClientSession, base: str, headers: dict[str, str]
) -> str:
    templates = await (await http.get(f"{base}/api/v1/templates")).json()
    version_id = templates[0]["latest_version"]["id"]
    form = aiohttp.FormData()
    form.add_field(
        "file", (CONTACTS / "google-contacts.csv").read_bytes(), filename="google-contacts.csv"
    )
    created = await (await http.post(f"{base}/api/v1/imports", data=form, headers=headers)).json()
    import_id = created["id"]
    mapped = await http.put(
        f"{base}/api/v1/imports/{import_id}/mapping",
        json={"template_version_id": version_id},
        headers=headers,
    )
    assert mapped.status == 200, await mapped.text()
    validated = await http.post(f"{base}/api/v1/imports/{import_id}/validate", headers=headers)
    assert validated.status == 202, await validated.text()
    await wait_for_import_over_http(http, f"{base}/api/v1/imports/{import_id}", "validated")
    staged = await http.post(
        f"{base}/api/v1/imports/{import_id}/stage", json={"name": "Live"}, headers=headers
    )
    assert staged.status == 202, await staged.text()
    done = await wait_for_import_over_http(http, f"{base}/api/v1/imports/{import_id}", "staged")
    batch_id: str = done["batch_id"]
    return batch_id


async def wait_for_import_over_http(
    http: aiohttp.ClientSession, url: str, status: str, seconds: float = 180
) -> dict[str, Any]:
    """Poll the import at `url` until it has `status`; a deadline against a hang only."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        body: dict[str, Any] = await (await http.get(url)).json()
        if body["status"] == status:
            return body
        assert body["status"] not in ("validated", "staged", "failed", "cancelled"), (
            f"import ended {body['status']}, expected {status}: {body['error']}"
        )
        assert asyncio.get_running_loop().time() < deadline, f"import still {body['status']}"
        await asyncio.sleep(0.1)


async def test_live_socket_streams_batch_to_completion(live_server: str, worker: object) -> None:
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        headers = await sign_up(http, live_server)
        batch_id = await stage_google_contacts(http, live_server, headers)

        frames: list[list[dict[str, Any]]] = []
        async with http.ws_connect(f"{live_server}/api/v1/live", origin=live_server) as socket:
            launched = await http.post(
                f"{live_server}/api/v1/batches/{batch_id}/launch", headers=headers
            )
            assert launched.status == 200, await launched.text()
            progress: dict[str, Any] = {}
            async with asyncio.timeout(60):
                while progress.get("status") != "completed":
                    frame = await socket.receive_json()
                    frames.append(frame)
                    for event in frame:
                        if event["type"] == "batch.progress" and event["batch_id"] == batch_id:
                            progress = event

    assert progress["counts"]["sent"] == 393
    assert progress["counts"]["queued"] == 0
    recipient_events = [e for frame in frames for e in frame if e["type"] == "recipient.updated"]
    assert {e["status"] for e in recipient_events} >= {"processing", "sent"}
    assert all(isinstance(frame, list) for frame in frames)


@pytest.mark.parametrize("origin", ["http://evil.example", "null"])
async def test_live_socket_rejects_foreign_origin(live_server: str, origin: str) -> None:
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        await sign_up(http, live_server)
        with pytest.raises(aiohttp.WSServerHandshakeError) as rejected:
            await http.ws_connect(f"{live_server}/api/v1/live", origin=origin)
    assert rejected.value.status == 403


async def test_live_socket_requires_sign_in(live_server: str) -> None:
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as rejected:
            await http.ws_connect(f"{live_server}/api/v1/live", origin=live_server)
    assert rejected.value.status == 403
