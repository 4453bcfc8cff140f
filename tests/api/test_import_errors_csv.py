"""The downloadable error report of an import: problem rows with their original cells."""

from __future__ import annotations

import csv
import io
import json

import httpx
import pytest

from backend.core.csv_export import neutralize
from tests.api.conftest import (
    CONTACTS,
    Client,
    starter_version_id,
    upload,
    upload_bytes,
    validate_import,
)
from tests.conftest import signup

# Imports are validated and staged by a job: in production mode a worker process runs it.
pytestmark = pytest.mark.usefixtures("worker")

EXPECTED = json.loads((CONTACTS / "expected.json").read_text())
MAILCHIMP = CONTACTS / "mailchimp-export.csv"
BOM = "\ufeff"


async def validated_import(client: Client, filename: str, content: bytes) -> str:
    """Upload a file, map it to the starter template version and validate it."""
    created = await upload_bytes(client, filename, content, "/api/v1/imports")
    assert created.status_code == 201, created.text
    import_id = str(created.json()["id"])
    mapped = await client.put(
        f"/api/v1/imports/{import_id}/mapping",
        json={"template_version_id": await starter_version_id(client)},
    )
    assert mapped.status_code == 200, mapped.text
    await validate_import(client, import_id)
    return import_id


def report_rows(response: httpx.Response) -> list[list[str]]:
    text = response.content.decode("utf-8")
    assert text.startswith(BOM)
    return list(csv.reader(io.StringIO(text.removeprefix(BOM))))


def original_rows() -> dict[int, list[str]]:
    """Map each row number of the Mailchimp export (header = row 1) to its cells."""
    with MAILCHIMP.open(encoding="utf-8", newline="") as handle:
        return dict(enumerate(csv.reader(handle), start=1))


async def test_errors_csv_lists_mailchimp_problem_rows(client: Client) -> None:
    await signup(client)
    expected = EXPECTED["mailchimp-export.csv"]
    import_id = await validated_import(client, MAILCHIMP.name, MAILCHIMP.read_bytes())

    response = await client.get(f"/api/v1/imports/{import_id}/errors.csv")

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == (
        'attachment; filename="errors-mailchimp-export-csv.csv"'
    )
    header, *rows = report_rows(response)
    originals = original_rows()
    assert header == [*originals[1], "row_number", "reason"]
    assert any(row[4].startswith("'+") for row in rows), "no phone number was neutralized"
    problem_count = (
        expected["invalid_email"] + expected["missing_required"] + expected["duplicates"]
    )
    assert len(rows) == problem_count
    numbers = [int(row[-2]) for row in rows]
    assert numbers == sorted(numbers)
    for row in rows:
        assert row[:-2] == [neutralize(cell) for cell in originals[int(row[-2])]]
        assert row[-1].startswith(f"Row {row[-2]}, column ")


async def test_errors_csv_matches_row_error_messages(client: Client) -> None:
    await signup(client)
    import_id = await validated_import(client, MAILCHIMP.name, MAILCHIMP.read_bytes())

    response = await client.get(f"/api/v1/imports/{import_id}/errors.csv")
    listed = await client.get(f"/api/v1/imports/{import_id}/errors?page_size=500")

    assert listed.status_code == 200, listed.text
    messages = {item["row_number"]: item["message"] for item in listed.json()["items"]}
    rows = report_rows(response)[1:]
    assert {int(row[-2]): row[-1] for row in rows} == messages


async def test_errors_csv_filters_by_reason(client: Client) -> None:
    await signup(client)
    expected = EXPECTED["mailchimp-export.csv"]
    import_id = await validated_import(client, MAILCHIMP.name, MAILCHIMP.read_bytes())

    response = await client.get(f"/api/v1/imports/{import_id}/errors.csv?reason=duplicate")
    listed = await client.get(f"/api/v1/imports/{import_id}/errors?reason=duplicate&page_size=500")

    assert response.status_code == 200, response.text
    rows = report_rows(response)[1:]
    assert len(rows) == expected["duplicates"]
    assert [int(row[-2]) for row in rows] == [item["row_number"] for item in listed.json()["items"]]
    assert all("is a duplicate of row" in row[-1] for row in rows)


@pytest.mark.parametrize("route", ["errors", "errors.csv"])
async def test_errors_reject_unknown_reason(client: Client, route: str) -> None:
    await signup(client)
    import_id = await validated_import(client, MAILCHIMP.name, MAILCHIMP.read_bytes())

    response = await client.get(f"/api/v1/imports/{import_id}/{route}?reason=bogus")

    assert response.status_code == 400, response.text
    assert response.json()["field"] == "reason"
    assert "'bogus' is not a problem reason" in response.json()["message"]


async def test_errors_csv_neutralizes_formula_cells(client: Client) -> None:
    await signup(client)
    content = (
        b"email,first_name,last_name,@notes\r\n"
        b"ann@example.com,Ann,Lee,fine\r\n"
        b"=HYPERLINK(\"http://evil\"),Bob,=cmd|' /C calc'!A0,+1\r\n"
        b"cem@example.com,Cem,-Kaya,ok\r\n"
    )
    import_id = await validated_import(client, "formulas.csv", content)

    response = await client.get(f"/api/v1/imports/{import_id}/errors.csv")

    assert response.status_code == 200, response.text
    header, *rows = report_rows(response)
    assert header == ["email", "first_name", "last_name", "'@notes", "row_number", "reason"]
    assert len(rows) == 1
    assert rows[0][:5] == ['\'=HYPERLINK("http://evil")', "Bob", "'=cmd|' /C calc'!A0", "'+1", "3"]
    assert rows[0][5].startswith("Row 3, column 'email'")


async def test_errors_csv_of_other_account_is_not_found(
    client: Client, other_client: Client
) -> None:
    await signup(client)
    import_id = await validated_import(client, MAILCHIMP.name, MAILCHIMP.read_bytes())
    await signup(other_client, "b@example.com")

    response = await other_client.get(f"/api/v1/imports/{import_id}/errors.csv")

    assert response.status_code == 404, response.text
    assert response.json()["code"] == "not_found"


async def test_errors_csv_before_validation_conflicts(client: Client) -> None:
    await signup(client)
    created = await upload(client, MAILCHIMP)
    assert created.status_code == 201, created.text
    import_id = created.json()["id"]

    response = await client.get(f"/api/v1/imports/{import_id}/errors.csv")

    assert response.status_code == 409, response.text
    assert response.json()["code"] == "conflict"
    assert "Validate it before downloading" in response.json()["message"]
