"""Contacts, suppression uploads and the activity feed over the API."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import CONTACTS, Client, upload, upload_bytes
from tests.conftest import signup

SUPPRESSIONS_URL = "/api/v1/contacts/suppressions"
SUPPRESSED_ADDRESSES = 40


@pytest.fixture
async def signed_in(client: Client) -> Client:
    await signup(client)
    return client


@pytest.fixture
async def suppressed(signed_in: Client) -> Client:
    """An account whose 40 contacts all come from the unsubscribed.csv suppression list."""
    response = await upload(signed_in, CONTACTS / "unsubscribed.csv", SUPPRESSIONS_URL)
    assert response.status_code == 200, response.text
    return signed_in


async def list_contacts(client: Client, **params: Any) -> dict[str, Any]:
    response = await client.get("/api/v1/contacts", params=params)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def contact_by_email(client: Client, email: str) -> dict[str, Any]:
    items = (await list_contacts(client, search=email))["items"]
    assert len(items) == 1, items
    contact: dict[str, Any] = items[0]
    return contact


async def test_suppressions_upload_counts(signed_in: Client) -> None:
    response = await upload(signed_in, CONTACTS / "unsubscribed.csv", SUPPRESSIONS_URL)

    assert response.status_code == 200, response.text
    result = response.json()
    assert result["total_rows"] == SUPPRESSED_ADDRESSES
    assert result["suppressed"] == SUPPRESSED_ADDRESSES
    assert result["created"] == SUPPRESSED_ADDRESSES
    assert result["already_suppressed"] == 0
    assert result["invalid_rows"] == 0
    assert result["errors"] == []


async def test_suppressions_upload_twice_counts_already(suppressed: Client) -> None:
    response = await upload(suppressed, CONTACTS / "unsubscribed.csv", SUPPRESSIONS_URL)

    result = response.json()
    assert result["suppressed"] == 0
    assert result["already_suppressed"] == SUPPRESSED_ADDRESSES
    assert result["created"] == 0


async def test_suppressions_upload_counts_invalid_rows(signed_in: Client) -> None:
    content = b'email\nreader@example.com\n"jane@example,com"\n\n'

    response = await upload_bytes(signed_in, "list.csv", content, SUPPRESSIONS_URL)

    result = response.json()
    assert result["total_rows"] == 2
    assert result["suppressed"] == 1
    assert result["invalid_rows"] == 1
    assert result["errors"][0].startswith("Row 3: ")
    assert "jane@example,com" in result["errors"][0]


async def test_suppressions_upload_without_email_column(signed_in: Client) -> None:
    content = b"name,city\nAda,Berlin\nGrace,Arlington\n"

    response = await upload_bytes(signed_in, "people.csv", content, SUPPRESSIONS_URL)

    assert response.status_code == 400, response.text
    assert response.json()["field"] == "file"
    assert "people.csv" in response.json()["message"]
    assert "name, city" in response.json()["message"]
    assert "'email'" in response.json()["message"]


async def test_suppressions_upload_single_column_without_header_name(signed_in: Client) -> None:
    content = b"address\nreader@example.com\n"

    response = await upload_bytes(signed_in, "list.csv", content, SUPPRESSIONS_URL)

    assert response.status_code == 200, response.text
    assert response.json()["suppressed"] == 1


async def test_suppressions_upload_records_activity(suppressed: Client) -> None:
    events = (await suppressed.get("/api/v1/activity")).json()["items"]

    assert events[0]["kind"] == "suppressions_imported"
    assert events[0]["data"]["suppressed"] == SUPPRESSED_ADDRESSES


async def test_contacts_list_status_filter(suppressed: Client) -> None:
    first = await contact_by_email(suppressed, "fatima.demir0@example.com")
    await suppressed.post(f"/api/v1/contacts/{first['id']}/resubscribe")

    subscribed = await list_contacts(suppressed, status="subscribed")
    unsubscribed = await list_contacts(suppressed, status="unsubscribed", limit=200)

    assert [contact["email"] for contact in subscribed["items"]] == ["fatima.demir0@example.com"]
    assert len(unsubscribed["items"]) == SUPPRESSED_ADDRESSES - 1
    assert (await list_contacts(suppressed, status="bounced"))["items"] == []


async def test_contacts_list_rejects_unknown_status(signed_in: Client) -> None:
    response = await signed_in.get("/api/v1/contacts", params={"status": "gone"})

    assert response.status_code == 400
    assert response.json()["field"] == "status"
    assert "'gone'" in response.json()["message"]


async def test_contacts_list_search_matches_part_of_address(suppressed: Client) -> None:
    page = await list_contacts(suppressed, search="DEMIR0@")

    assert [contact["email"] for contact in page["items"]] == ["fatima.demir0@example.com"]


async def test_contacts_list_keyset_pagination(suppressed: Client) -> None:
    pages = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 15}
        if cursor:
            params["cursor"] = cursor
        page = await list_contacts(suppressed, **params)
        pages.append(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break

    ids = [contact["id"] for items in pages for contact in items]
    assert [len(items) for items in pages] == [15, 15, 10]
    assert len(set(ids)) == SUPPRESSED_ADDRESSES
    assert ids == sorted(ids, reverse=True)


async def test_contacts_list_exact_page_has_no_cursor(suppressed: Client) -> None:
    page = await list_contacts(suppressed, limit=SUPPRESSED_ADDRESSES)

    assert len(page["items"]) == SUPPRESSED_ADDRESSES
    assert page["next_cursor"] is None


async def test_contacts_list_rejects_bad_cursor(signed_in: Client) -> None:
    response = await signed_in.get("/api/v1/contacts", params={"cursor": "page-2"})

    assert response.status_code == 400
    assert response.json()["field"] == "cursor"


async def test_contacts_list_rejects_zero_limit(signed_in: Client) -> None:
    response = await signed_in.get("/api/v1/contacts", params={"limit": 0})

    assert response.status_code == 400
    assert response.json()["field"] == "limit"


async def test_contacts_get_returns_contact(suppressed: Client) -> None:
    listed = await contact_by_email(suppressed, "fatima.demir0@example.com")

    response = await suppressed.get(f"/api/v1/contacts/{listed['id']}")

    assert response.status_code == 200
    assert response.json() == listed


async def test_contacts_get_unknown_id_not_found(signed_in: Client) -> None:
    response = await signed_in.get("/api/v1/contacts/01900000-0000-7000-8000-000000000000")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


async def test_contacts_patch_updates_name_and_attributes(suppressed: Client) -> None:
    contact = await contact_by_email(suppressed, "fatima.demir0@example.com")
    url = f"/api/v1/contacts/{contact['id']}"

    response = await suppressed.patch(
        url, json={"name": "  Fatima Demir ", "attributes": {"city": "Izmir"}}
    )

    assert response.status_code == 200, response.text
    stored = (await suppressed.get(url)).json()
    assert stored["name"] == "Fatima Demir"
    assert stored["attributes"] == {"city": "Izmir"}
    assert stored["email"] == "fatima.demir0@example.com"


async def test_contacts_patch_without_fields_keeps_contact(suppressed: Client) -> None:
    contact = await contact_by_email(suppressed, "fatima.demir0@example.com")
    url = f"/api/v1/contacts/{contact['id']}"
    await suppressed.patch(url, json={"name": "Fatima", "attributes": {"city": "Izmir"}})

    response = await suppressed.patch(url, json={})

    assert response.json()["name"] == "Fatima"
    assert response.json()["attributes"] == {"city": "Izmir"}


async def test_contacts_resubscribe_then_unsubscribe(suppressed: Client) -> None:
    contact = await contact_by_email(suppressed, "fatima.demir0@example.com")
    url = f"/api/v1/contacts/{contact['id']}"

    resubscribed = (await suppressed.post(f"{url}/resubscribe")).json()
    unsubscribed = (await suppressed.post(f"{url}/unsubscribe")).json()

    assert contact["status"] == "unsubscribed"
    assert resubscribed["status"] == "subscribed"
    assert resubscribed["unsubscribed_at"] is None
    assert unsubscribed["status"] == "unsubscribed"
    assert unsubscribed["unsubscribed_at"] is not None


async def test_contacts_unsubscribe_twice_records_once(suppressed: Client) -> None:
    contact = await contact_by_email(suppressed, "fatima.demir0@example.com")
    url = f"/api/v1/contacts/{contact['id']}"
    await suppressed.post(f"{url}/resubscribe")

    first = await suppressed.post(f"{url}/unsubscribe")
    second = await suppressed.post(f"{url}/unsubscribe")

    assert first.status_code == 200
    assert second.status_code == 200
    assert second.json()["unsubscribed_at"] == first.json()["unsubscribed_at"]
    events = (await suppressed.get("/api/v1/activity")).json()["items"]
    assert [event["kind"] for event in events].count("contact_unsubscribed") == 1


async def create_activity(client: Client) -> None:
    """Publish a changed starter template and unsubscribe one contact."""
    template_id = (await client.get("/api/v1/templates")).json()[0]["id"]
    draft = (await client.get(f"/api/v1/templates/{template_id}")).json()["draft"]
    saved = await client.put(
        f"/api/v1/templates/{template_id}/draft",
        json={
            "subject": "Changed " + draft["subject"],
            "html": draft["html"],
            "text": draft["text"],
        },
    )
    assert saved.status_code == 200, saved.text
    published = await client.post(f"/api/v1/templates/{template_id}/publish")
    assert published.status_code == 201, published.text
    contact = await contact_by_email(client, "fatima.demir0@example.com")
    await client.post(f"/api/v1/contacts/{contact['id']}/resubscribe")
    unsubscribed = await client.post(f"/api/v1/contacts/{contact['id']}/unsubscribe")
    assert unsubscribed.status_code == 200, unsubscribed.text


async def test_activity_lists_kinds_newest_first(suppressed: Client) -> None:
    await create_activity(suppressed)

    events = (await suppressed.get("/api/v1/activity")).json()["items"]

    kinds = [event["kind"] for event in events]
    assert kinds == [
        "contact_unsubscribed",
        "contact_resubscribed",
        "template_published",
        "suppressions_imported",
        "signed_in",
    ]
    times = [event["created_at"] for event in events]
    assert times == sorted(times, reverse=True)


async def test_activity_paginates(suppressed: Client) -> None:
    await create_activity(suppressed)
    whole = (await suppressed.get("/api/v1/activity")).json()["items"]

    first = (await suppressed.get("/api/v1/activity", params={"limit": 2})).json()
    second = (
        await suppressed.get(
            "/api/v1/activity", params={"limit": 2, "cursor": first["next_cursor"]}
        )
    ).json()
    last = (
        await suppressed.get(
            "/api/v1/activity", params={"limit": 2, "cursor": second["next_cursor"]}
        )
    ).json()

    assert first["items"] + second["items"] + last["items"] == whole
    assert len(last["items"]) == 1
    assert last["next_cursor"] is None


async def test_activity_signed_in_on_login(client: Client, other_client: Client) -> None:
    await signup(client)
    await other_client.post(
        "/api/v1/auth/login",
        json={"email": "ops@example.com", "password": "correct horse battery"},
    )

    events = (await client.get("/api/v1/activity")).json()["items"]

    assert [event["kind"] for event in events] == ["signed_in", "signed_in"]
    assert events[0]["message"] == "Signed in as ops@example.com."


@pytest.mark.parametrize("search", ["%", "_", "fatima%", "\\", "fatima\\"])
async def test_contacts_list_search_wildcards_match_nothing(
    suppressed: Client, search: str
) -> None:
    response = await suppressed.get("/api/v1/contacts", params={"search": search})

    assert response.status_code == 200, response.text
    assert response.json()["items"] == []


async def test_contacts_list_search_finds_backslash(suppressed: Client) -> None:
    contact = await contact_by_email(suppressed, "fatima.demir0@example.com")
    await suppressed.patch(f"/api/v1/contacts/{contact['id']}", json={"name": "Back\\slash"})

    page = await list_contacts(suppressed, search="k\\s")

    assert [item["id"] for item in page["items"]] == [contact["id"]]
