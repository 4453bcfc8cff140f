"""Account isolation: another account's ids get 404 on every route, and never show in lists."""

from __future__ import annotations

import httpx
import msgspec
import pytest

from tests.api.conftest import CONTACTS, Client, StagedWorld, stage_google_contacts, upload
from tests.conftest import signup

# Imports are validated and staged by a job: in production mode a worker process runs it.
pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture
async def world_of_a(client: Client) -> StagedWorld:
    await signup(client, "a@example.com")
    return await stage_google_contacts(client)


@pytest.fixture
async def client_b(other_client: Client, world_of_a: StagedWorld) -> Client:
    await signup(other_client, "b@example.com")
    return other_client


def assert_not_found(response: httpx.Response, world: StagedWorld) -> None:
    assert response.status_code == 404, response.text
    assert response.json()["code"] == "not_found"
    assert world.contact_email not in response.text


# Every route that takes an id of account A, with a body B may send. Placeholders name
# fields of StagedWorld, or `own_version_id` for B's starter template version.
ROUTES_OF_A = [
    pytest.param("GET", "/templates/{template_id}", None, id="template-get"),
    pytest.param(
        "PUT",
        "/templates/{template_id}/draft",
        {"subject": "Taken over", "html": "<p>Taken over</p>", "text": ""},
        id="template-draft",
    ),
    pytest.param("POST", "/templates/{template_id}/publish", None, id="template-publish"),
    pytest.param("GET", "/templates/{template_id}/versions", None, id="template-versions"),
    pytest.param("POST", "/templates/{template_id}/preview", {}, id="template-preview"),
    pytest.param(
        "POST",
        "/templates/{template_id}/preview",
        {"version_id": "{version_id}"},
        id="template-preview-version",
    ),
    pytest.param("GET", "/imports/{import_id}", None, id="import-get"),
    pytest.param(
        "PUT",
        "/imports/{import_id}/mapping",
        {"template_version_id": "{own_version_id}"},
        id="import-mapping",
    ),
    pytest.param("POST", "/imports/{import_id}/validate", None, id="import-validate"),
    pytest.param("GET", "/imports/{import_id}/errors", None, id="import-errors"),
    pytest.param("POST", "/imports/{import_id}/stage", {"name": "Taken over"}, id="import-stage"),
    pytest.param("POST", "/imports/{import_id}/cancel", None, id="import-cancel"),
    pytest.param("GET", "/imports/{import_id}/validation", None, id="import-validation"),
    pytest.param("GET", "/contacts/{contact_id}", None, id="contact-get"),
    pytest.param("PATCH", "/contacts/{contact_id}", {"name": "Taken over"}, id="contact-patch"),
    pytest.param("POST", "/contacts/{contact_id}/unsubscribe", None, id="contact-unsubscribe"),
    pytest.param("POST", "/contacts/{contact_id}/resubscribe", None, id="contact-resubscribe"),
    pytest.param("GET", "/batches/{batch_id}", None, id="batch-get"),
    pytest.param("GET", "/batches/{batch_id}/recipients", None, id="batch-recipients"),
    pytest.param("POST", "/batches/{batch_id}/launch", None, id="batch-launch"),
]


async def request_route(
    client_b: Client, world_of_a: StagedWorld, route: tuple[str, str, dict[str, str] | None]
) -> httpx.Response:
    """Send one of ROUTES_OF_A as account B, with the placeholders filled in."""
    method, path, body = route
    own_version_id = (await client_b.get("/api/v1/templates")).json()[0]["latest_version"]["id"]
    names = {**msgspec.structs.asdict(world_of_a), "own_version_id": own_version_id}
    json = None
    if body is not None:
        json = {key: value.format(**names) for key, value in body.items()}
    return await client_b.request(method, "/api/v1" + path.format(**names), json=json)


@pytest.mark.parametrize(("method", "path", "body"), ROUTES_OF_A)
async def test_isolation_route_with_other_account_id(
    client_b: Client,
    world_of_a: StagedWorld,
    method: str,
    path: str,
    body: dict[str, str] | None,
) -> None:
    response = await request_route(client_b, world_of_a, (method, path, body))

    assert_not_found(response, world_of_a)


async def test_isolation_other_account_objects_unchanged(
    client: Client, client_b: Client, world_of_a: StagedWorld
) -> None:
    for route in ROUTES_OF_A:
        await request_route(client_b, world_of_a, route.values)  # type: ignore[arg-type]

    contact = (await client.get(f"/api/v1/contacts/{world_of_a.contact_id}")).json()
    batch = (await client.get(f"/api/v1/batches/{world_of_a.batch_id}")).json()
    template = (await client.get(f"/api/v1/templates/{world_of_a.template_id}")).json()
    versions = (await client.get(f"/api/v1/templates/{world_of_a.template_id}/versions")).json()
    import_ = (await client.get(f"/api/v1/imports/{world_of_a.import_id}")).json()
    assert contact["name"] != "Taken over"
    assert contact["status"] == "subscribed"
    assert batch["status"] == "staged"
    assert template["draft"]["subject"] != "Taken over"
    assert len(versions) == 1
    assert import_["status"] == "staged"


async def test_isolation_preview_with_a_version_in_own_template(
    client_b: Client, world_of_a: StagedWorld
) -> None:
    own_template = (await client_b.get("/api/v1/templates")).json()[0]["id"]

    response = await client_b.post(
        f"/api/v1/templates/{own_template}/preview", json={"version_id": world_of_a.version_id}
    )

    assert_not_found(response, world_of_a)


async def test_isolation_mapping_with_a_template_version(
    client_b: Client, world_of_a: StagedWorld
) -> None:
    created = await upload(client_b, CONTACTS / "google-contacts.csv")
    assert created.status_code == 201, created.text

    response = await client_b.put(
        f"/api/v1/imports/{created.json()['id']}/mapping",
        json={"template_version_id": world_of_a.version_id},
    )

    assert_not_found(response, world_of_a)


async def test_isolation_upload_with_a_template_version(
    client_b: Client, world_of_a: StagedWorld
) -> None:
    path = CONTACTS / "google-contacts.csv"

    response = await client_b.post(
        "/api/v1/imports",
        files={"file": (path.name, path.read_bytes(), "text/csv")},
        data={"template_version_id": world_of_a.version_id},
    )

    assert_not_found(response, world_of_a)


async def test_isolation_lists_hold_only_own_objects(
    client_b: Client, world_of_a: StagedWorld
) -> None:
    templates = (await client_b.get("/api/v1/templates")).json()
    contacts = (await client_b.get("/api/v1/contacts")).json()
    batches = (await client_b.get("/api/v1/batches")).json()
    activity = (await client_b.get("/api/v1/activity")).json()

    assert world_of_a.template_id not in [template["id"] for template in templates]
    assert len(templates) == 1
    assert contacts["items"] == []
    assert batches["items"] == []
    assert {event["kind"] for event in activity["items"]} == {"signed_in"}
    assert world_of_a.contact_email not in str(activity)


async def test_isolation_search_finds_no_other_contacts(
    client_b: Client, world_of_a: StagedWorld
) -> None:
    response = await client_b.get("/api/v1/contacts", params={"search": world_of_a.contact_email})

    assert response.json()["items"] == []


async def test_isolation_suppression_upload_keeps_accounts_apart(
    client: Client, client_b: Client, world_of_a: StagedWorld
) -> None:
    result = await upload(client_b, CONTACTS / "unsubscribed.csv", "/api/v1/contacts/suppressions")
    assert result.status_code == 200, result.text

    unsubscribed_of_a = (await client.get("/api/v1/contacts?status=unsubscribed")).json()

    assert result.json()["created"] == result.json()["suppressed"]
    assert unsubscribed_of_a["items"] == []
