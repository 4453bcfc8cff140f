"""Mapping presets and mapping reuse: saved mappings suggested again for the same headers."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Client, starter_version_id
from tests.conftest import signup

# Headers that the header-name suggestion does not map, so a suggestion that maps them can
# only come from a preset or an earlier import.
ODD_FILE = b"Contact,Given,Notes\nada@example.com,Ada,vip\nbob@example.com,Bob,\n"
ODD_MAPPING = {"Contact": "email", "Given": "first_name", "Notes": None}


async def upload_with_version(client: Client, content: bytes, filename: str = "list.csv") -> Any:
    """Upload a file with the starter template version chosen, as the dashboard does."""
    response = await client.post(
        "/api/v1/imports",
        files={"file": (filename, content, "text/csv")},
        data={"template_version_id": await starter_version_id(client)},
    )
    assert response.status_code == 201, response.text
    return response.json()


async def confirm_mapping(client: Client, import_id: str, mapping: dict[str, str | None]) -> Any:
    response = await client.put(
        f"/api/v1/imports/{import_id}/mapping",
        json={"template_version_id": await starter_version_id(client), "mapping": mapping},
    )
    assert response.status_code == 200, response.text
    return response.json()


async def save_preset(client: Client, name: str, import_id: str) -> Any:
    return await client.post("/api/v1/mapping-presets", json={"name": name, "import_id": import_id})


async def mapped_odd_import(client: Client) -> str:
    created = await upload_with_version(client, ODD_FILE)
    assert created["suggested_mapping"]["Given"] is None, "the header suggestion maps 'Given'"
    await confirm_mapping(client, created["id"], ODD_MAPPING)
    return str(created["id"])


async def test_preset_save_list_delete(client: Client) -> None:
    await signup(client)
    import_id = await mapped_odd_import(client)

    saved = await save_preset(client, "  Odd export  ", import_id)

    assert saved.status_code == 201, saved.text
    preset = saved.json()
    assert preset["name"] == "Odd export"
    assert preset["columns"] == ["Contact", "Given", "Notes"]
    assert preset["mapping"]["email"] == "Contact"
    assert preset["mapping"]["first_name"] == "Given"
    assert preset["keep_unmapped"] is False
    listed = (await client.get("/api/v1/mapping-presets")).json()["items"]
    assert [item["id"] for item in listed] == [preset["id"]]

    deleted = await client.delete(f"/api/v1/mapping-presets/{preset['id']}")

    assert deleted.status_code == 204, deleted.text
    assert (await client.get("/api/v1/mapping-presets")).json()["items"] == []
    again = await client.delete(f"/api/v1/mapping-presets/{preset['id']}")
    assert again.status_code == 404


async def test_preset_keeps_keep_unmapped(client: Client) -> None:
    await signup(client)
    created = await upload_with_version(client, ODD_FILE)
    response = await client.put(
        f"/api/v1/imports/{created['id']}/mapping",
        json={
            "template_version_id": await starter_version_id(client),
            "mapping": ODD_MAPPING,
            "keep_unmapped": True,
        },
    )
    assert response.status_code == 200, response.text

    preset = (await save_preset(client, "Keeps notes", created["id"])).json()
    again = await upload_with_version(client, ODD_FILE)

    assert preset["keep_unmapped"] is True
    assert again["keep_unmapped"] is True
    assert again["preset"] == {"id": preset["id"], "name": "Keeps notes"}


async def test_preset_name_rules(client: Client) -> None:
    await signup(client)
    import_id = await mapped_odd_import(client)
    assert (await save_preset(client, "Odd export", import_id)).status_code == 201

    empty = await save_preset(client, "   ", import_id)
    too_long = await save_preset(client, "x" * 101, import_id)
    taken = await save_preset(client, "ODD EXPORT", import_id)

    assert empty.status_code == 400, empty.text
    assert empty.json()["field"] == "name"
    assert "empty" in empty.json()["message"]
    assert too_long.status_code == 400, too_long.text
    assert "101 characters" in too_long.json()["message"]
    assert taken.status_code == 409, taken.text
    assert "'Odd export' already exists" in taken.json()["message"]
    assert (await save_preset(client, "x" * 100, import_id)).status_code == 201


async def test_preset_needs_confirmed_mapping(client: Client) -> None:
    await signup(client)
    created = await upload_with_version(client, ODD_FILE)

    response = await save_preset(client, "Too early", created["id"])

    assert response.status_code == 409, response.text
    assert "no confirmed mapping" in response.json()["message"]


async def test_presets_isolated_by_account(client: Client, other_client: Client) -> None:
    await signup(client, "a@example.com")
    import_of_a = await mapped_odd_import(client)
    preset_of_a = (await save_preset(client, "A's preset", import_of_a)).json()
    await signup(other_client, "b@example.com")

    listed = await other_client.get("/api/v1/mapping-presets")
    deleted = await other_client.delete(f"/api/v1/mapping-presets/{preset_of_a['id']}")
    saved = await save_preset(other_client, "From A's import", import_of_a)
    upload_of_b = await upload_with_version(other_client, ODD_FILE)

    assert listed.json()["items"] == []
    assert deleted.status_code == 404, deleted.text
    assert saved.status_code == 404, saved.text
    assert saved.json()["field"] == "import_id"
    assert upload_of_b["preset"] is None
    assert upload_of_b["reused_from"] is None
    assert upload_of_b["suggested_mapping"]["Given"] is None
    still_there = (await client.get("/api/v1/mapping-presets")).json()["items"]
    assert [item["id"] for item in still_there] == [preset_of_a["id"]]


async def test_preset_suggested_for_same_headers(client: Client) -> None:
    await signup(client)
    preset = (await save_preset(client, "Odd export", await mapped_odd_import(client))).json()
    reordered = b" notes ,GIVEN,contact\nvip,Cy,cy@example.com\n"

    created = await upload_with_version(client, reordered, "other.csv")

    assert created["preset"] == {"id": preset["id"], "name": "Odd export"}
    assert created["reused_from"] is None
    assert created["suggested_mapping"] == {
        "notes": None,
        "GIVEN": "first_name",
        "contact": "email",
    }
    fetched = (await client.get(f"/api/v1/imports/{created['id']}")).json()
    assert fetched["preset"] == {"id": preset["id"], "name": "Odd export"}


async def test_preset_not_suggested_for_other_headers(client: Client) -> None:
    await signup(client)
    await save_preset(client, "Odd export", await mapped_odd_import(client))

    created = await upload_with_version(client, b"Contact,Given\nada@example.com,Ada\n")

    assert created["preset"] is None
    assert created["suggested_mapping"]["Given"] is None


async def test_deleted_preset_leaves_import(client: Client) -> None:
    await signup(client)
    preset = (await save_preset(client, "Odd export", await mapped_odd_import(client))).json()
    created = await upload_with_version(client, ODD_FILE)
    assert created["preset"] is not None

    await client.delete(f"/api/v1/mapping-presets/{preset['id']}")
    fetched = await client.get(f"/api/v1/imports/{created['id']}")

    assert fetched.status_code == 200, fetched.text
    assert fetched.json()["preset"] is None
    assert fetched.json()["suggested_mapping"]["Given"] == "first_name"


async def test_fixed_file_reuses_mapping(client: Client) -> None:
    await signup(client)
    first_id = await mapped_odd_import(client)
    fixed = b"Contact,Given,Notes\nada@example.com,Ada,vip\nbob@example.com,Bob,fixed\n"

    created = await upload_with_version(client, fixed, "list-fixed.csv")

    assert created["reused_from"] == first_id
    assert created["preset"] is None
    assert created["suggested_mapping"] == ODD_MAPPING


async def test_reuse_takes_latest_mapping(client: Client) -> None:
    await signup(client)
    await mapped_odd_import(client)
    second = await upload_with_version(client, ODD_FILE)
    await confirm_mapping(client, second["id"], {"Contact": "email", "Given": None, "Notes": None})

    third = await upload_with_version(client, ODD_FILE)

    assert third["reused_from"] == second["id"]
    assert third["suggested_mapping"]["Given"] is None


async def test_reuse_skips_unconfirmed_import(client: Client) -> None:
    await signup(client)
    await upload_with_version(client, ODD_FILE)

    created = await upload_with_version(client, ODD_FILE)

    assert created["reused_from"] is None
    assert created["suggested_mapping"]["Given"] is None


async def test_preset_wins_over_reuse(client: Client) -> None:
    await signup(client)
    import_id = await mapped_odd_import(client)
    preset = (await save_preset(client, "Odd export", import_id)).json()
    later = await upload_with_version(client, ODD_FILE)
    await confirm_mapping(client, later["id"], {"Contact": "email", "Given": None, "Notes": None})

    created = await upload_with_version(client, ODD_FILE)

    assert created["preset"] == {"id": preset["id"], "name": "Odd export"}
    assert created["reused_from"] is None
    assert created["suggested_mapping"] == ODD_MAPPING


async def test_preset_applies_without_version(client: Client) -> None:
    """The dashboard uploads without a template version and picks it on the mapping step."""
    await signup(client)
    preset = (await save_preset(client, "Odd export", await mapped_odd_import(client))).json()

    response = await client.post(
        "/api/v1/imports", files={"file": ("list.csv", ODD_FILE, "text/csv")}
    )

    assert response.status_code == 201, response.text
    assert response.json()["preset"] == {"id": preset["id"], "name": "Odd export"}
    assert response.json()["suggested_mapping"] == ODD_MAPPING
