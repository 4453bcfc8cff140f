"""Templates over the API: starter template, drafts, field schema, publishing, preview, fixtures."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.conftest import TEMPLATES, Client
from tests.conftest import signup

POSTMARK = TEMPLATES / "postmark"
POSTMARK_FIXTURES = sorted(path.stem for path in POSTMARK.glob("*.html"))
PLAIN_POSTMARK = ["password-reset", "trial-expiring", "user-invitation", "welcome"]
SECTION_POSTMARK = ["comment-notification", "invoice", "receipt"]

# The fixtures write merge fields with at most one space inside the braces.
FIXTURE_TAG = re.compile(r"\{\{ ?([a-z_]+) ?\}\}")
SECTION_OPENING = re.compile(r"\{\{[#/^]")

DRAFT = {
    "subject": "News for {{ first_name }}",
    "html": "<p>Hi {{ first_name }} from {{ city }}</p><a href='{{ unsubscribe_url }}'>x</a>",
    "text": "Hi {{first_name}}, {{ unsubscribe_url }}",
}


def read_fixture(path: Path) -> str:
    return path.read_bytes().decode("utf-8")


async def create_template(client: Client, name: str = "Newsletter") -> str:
    response = await client.post("/api/v1/templates", json={"name": name})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def save_draft(client: Client, template_id: str, **body: Any) -> httpx.Response:
    return await client.put(f"/api/v1/templates/{template_id}/draft", json=body)


async def publish(client: Client, template_id: str) -> dict[str, Any]:
    response = await client.post(f"/api/v1/templates/{template_id}/publish")
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def preview(client: Client, template_id: str, **body: Any) -> dict[str, Any]:
    response = await client.post(f"/api/v1/templates/{template_id}/preview", json=body)
    assert response.status_code == 200, response.text
    rendered: dict[str, Any] = response.json()
    return rendered


def fields_by_name(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {field["name"]: field for field in template["draft"]["fields"]}


@pytest.fixture
async def signed_in(client: Client) -> Client:
    await signup(client)
    return client


async def test_templates_new_account_has_starter(signed_in: Client) -> None:
    templates = (await signed_in.get("/api/v1/templates")).json()

    assert len(templates) == 1
    assert templates[0]["latest_version"]["number"] == 1
    versions = (await signed_in.get(f"/api/v1/templates/{templates[0]['id']}/versions")).json()
    assert [version["number"] for version in versions] == [1]
    assert "{{ unsubscribe_url }}" in versions[0]["html"]


async def test_templates_create_has_no_version(signed_in: Client) -> None:
    response = await signed_in.post("/api/v1/templates", json={"name": "  Newsletter  "})

    assert response.status_code == 201
    assert response.json()["name"] == "Newsletter"
    assert response.json()["latest_version"] is None
    assert len((await signed_in.get("/api/v1/templates")).json()) == 2


async def test_templates_create_rejects_empty_name(signed_in: Client) -> None:
    response = await signed_in.post("/api/v1/templates", json={"name": "  "})

    assert response.status_code == 400
    assert response.json()["field"] == "name"


async def test_templates_draft_detects_required_fields(signed_in: Client) -> None:
    template_id = await create_template(signed_in)

    response = await save_draft(signed_in, template_id, **DRAFT)

    assert response.status_code == 200, response.text
    fields = fields_by_name(response.json())
    assert list(fields) == ["first_name", "city"]
    assert fields["first_name"]["required"] is True
    assert fields["city"]["required"] is True
    assert fields["city"]["default"] is None


async def test_templates_draft_marks_field_optional(signed_in: Client) -> None:
    template_id = await create_template(signed_in)
    optional = [{"name": "city", "required": False, "default": "Berlin"}]

    response = await save_draft(signed_in, template_id, **DRAFT, fields=optional)

    fields = fields_by_name(response.json())
    assert fields["city"]["required"] is False
    assert fields["city"]["default"] == "Berlin"
    assert fields["first_name"]["required"] is True


async def test_templates_draft_keeps_field_settings_when_omitted(signed_in: Client) -> None:
    template_id = await create_template(signed_in)
    optional = [{"name": "city", "required": False, "default": "Berlin"}]
    await save_draft(signed_in, template_id, **DRAFT, fields=optional)

    response = await save_draft(signed_in, template_id, **{**DRAFT, "subject": "Changed"})

    assert fields_by_name(response.json())["city"]["default"] == "Berlin"


async def test_templates_required_field_drops_default(signed_in: Client) -> None:
    template_id = await create_template(signed_in)
    fields = [{"name": "city", "required": True, "default": "Berlin"}]

    response = await save_draft(signed_in, template_id, **DRAFT, fields=fields)

    assert fields_by_name(response.json())["city"]["default"] is None


async def test_templates_publish_freezes_version(signed_in: Client) -> None:
    template_id = await create_template(signed_in)
    await save_draft(signed_in, template_id, **DRAFT)
    first = await publish(signed_in, template_id)

    second_html = '<p>Second {{ city }} <a href="{{ unsubscribe_url }}">Unsubscribe</a></p>'
    await save_draft(signed_in, template_id, **{**DRAFT, "html": second_html})
    second = await publish(signed_in, template_id)

    versions = (await signed_in.get(f"/api/v1/templates/{template_id}/versions")).json()
    assert first["number"] == 1
    assert second["number"] == 2
    assert [version["number"] for version in versions] == [2, 1]
    assert versions[1]["html"] == DRAFT["html"]
    assert versions[0]["html"] == second_html


async def test_templates_publish_unchanged_draft_adds_nothing(signed_in: Client) -> None:
    template_id = await create_template(signed_in)
    await save_draft(signed_in, template_id, **DRAFT)
    first = await publish(signed_in, template_id)

    again = await signed_in.post(f"/api/v1/templates/{template_id}/publish")

    versions = (await signed_in.get(f"/api/v1/templates/{template_id}/versions")).json()
    assert again.status_code == 200, again.text
    assert again.json()["id"] == first["id"]
    assert [version["number"] for version in versions] == [1]


async def test_templates_publish_snapshot_ignores_later_draft(signed_in: Client) -> None:
    template_id = await create_template(signed_in)
    await save_draft(signed_in, template_id, **DRAFT)
    version = await publish(signed_in, template_id)

    await save_draft(signed_in, template_id, subject="Other", html="<p>Other</p>", text="")

    rendered = await preview(signed_in, template_id, version_id=version["id"])
    assert rendered["subject"] == "News for Ada"
    assert "Other" not in rendered["html"]
    template = (await signed_in.get(f"/api/v1/templates/{template_id}")).json()
    assert template["latest_version"]["number"] == 1


async def test_templates_publish_rejects_empty_draft(signed_in: Client) -> None:
    template_id = await create_template(signed_in)

    response = await signed_in.post(f"/api/v1/templates/{template_id}/publish")

    assert response.status_code == 400
    assert response.json()["field"] == "subject"


async def test_templates_publish_records_activity(signed_in: Client) -> None:
    template_id = await create_template(signed_in)
    await save_draft(signed_in, template_id, **DRAFT)

    await publish(signed_in, template_id)

    events = (await signed_in.get("/api/v1/activity")).json()["items"]
    assert events[0]["kind"] == "template_published"
    assert events[0]["subject_id"] == template_id


async def test_templates_preview_draft_fills_values(signed_in: Client) -> None:
    template_id = await create_template(signed_in)
    optional = [{"name": "city", "required": False, "default": "Berlin"}]
    await save_draft(signed_in, template_id, **DRAFT, fields=optional)

    rendered = await preview(signed_in, template_id, values={"first_name": "Grace"})

    assert rendered["subject"] == "News for Grace"
    assert "<p>Hi Grace from Berlin</p>" in rendered["html"]
    assert rendered["text"].startswith("Hi Grace, ")
    assert "{{" not in rendered["html"] + rendered["text"]


async def test_templates_preview_uses_samples_then_names(signed_in: Client) -> None:
    template_id = await create_template(signed_in)
    await save_draft(signed_in, template_id, **DRAFT)

    rendered = await preview(signed_in, template_id)

    assert "<p>Hi Ada from [city]</p>" in rendered["html"]


async def test_templates_preview_escapes_html_values(signed_in: Client) -> None:
    template_id = await create_template(signed_in)
    await save_draft(signed_in, template_id, **DRAFT)

    rendered = await preview(
        signed_in, template_id, values={"first_name": "<script>alert(1)</script>"}
    )

    assert "<script>" not in rendered["html"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered["html"]
    assert rendered["subject"] == "News for <script>alert(1)</script>"


async def test_templates_preview_of_version(signed_in: Client) -> None:
    template_id = await create_template(signed_in)
    await save_draft(signed_in, template_id, **DRAFT)
    version = await publish(signed_in, template_id)
    await save_draft(signed_in, template_id, subject="Draft only", html="<p>Draft</p>", text="")

    rendered = await preview(
        signed_in, template_id, version_id=version["id"], values={"city": "Oslo"}
    )

    assert rendered["subject"] == "News for Ada"
    assert "<p>Hi Ada from Oslo</p>" in rendered["html"]


async def test_templates_preview_version_of_other_template(signed_in: Client) -> None:
    template_id = await create_template(signed_in)
    starter_version = (await signed_in.get("/api/v1/templates")).json()[-1]["latest_version"]

    response = await signed_in.post(
        f"/api/v1/templates/{template_id}/preview", json={"version_id": starter_version["id"]}
    )

    assert response.status_code == 404


async def test_templates_draft_rejects_attribute_access(signed_in: Client) -> None:
    template_id = await create_template(signed_in)

    response = await save_draft(
        signed_in, template_id, subject="Hi", html="<p>\n{{ user.name }}</p>", text=""
    )

    assert response.status_code == 400
    assert response.json()["field"] == "html"
    assert response.json()["message"].startswith("Line 2 of the HTML: '{{ user.name }}'")


def expected_render(source: str) -> str:
    """The source with each merge field replaced by the marker that the preview fills in."""
    return FIXTURE_TAG.sub(lambda tag: f"@@{tag.group(1)}@@", source)


def first_section(source: str) -> tuple[int, str]:
    """Return the line and the tag of the first Mustache section in a fixture."""
    opening = SECTION_OPENING.search(source)
    assert opening is not None
    line = source.count("\n", 0, opening.start()) + 1
    return line, source[opening.start() : source.index("}}", opening.start()) + 2]


@pytest.mark.parametrize("name", PLAIN_POSTMARK)
async def test_templates_postmark_renders_unchanged(signed_in: Client, name: str) -> None:
    html = read_fixture(POSTMARK / f"{name}.html")
    text = read_fixture(POSTMARK / f"{name}.txt")
    template_id = await create_template(signed_in, name)

    saved = await save_draft(signed_in, template_id, subject=name, html=html, text=text)

    assert saved.status_code == 200, saved.text
    fields = [field["name"] for field in saved.json()["draft"]["fields"]]
    markers = {field: f"@@{field}@@" for field in fields}
    rendered = await preview(signed_in, template_id, values=markers)
    assert rendered["html"] == expected_render(html)
    assert rendered["text"] == expected_render(text)


@pytest.mark.parametrize("name", SECTION_POSTMARK)
async def test_templates_postmark_section_is_rejected(signed_in: Client, name: str) -> None:
    html = read_fixture(POSTMARK / f"{name}.html")
    text = read_fixture(POSTMARK / f"{name}.txt")
    line, syntax = first_section(html)
    template_id = await create_template(signed_in, name)

    response = await save_draft(signed_in, template_id, subject=name, html=html, text=text)

    assert response.status_code == 400, response.text
    assert response.json()["field"] == "html"
    assert response.json()["details"]["line"] == line
    assert response.json()["details"]["syntax"] == syntax
    assert f"Line {line} of the HTML: '{syntax}'" in response.json()["message"]
    assert "Mustache section" in response.json()["message"]


def test_templates_postmark_lists_cover_fixtures() -> None:
    with_sections = [
        name
        for name in sorted(PLAIN_POSTMARK + SECTION_POSTMARK)
        if SECTION_OPENING.search(read_fixture(POSTMARK / f"{name}.html"))
    ]

    assert sorted(PLAIN_POSTMARK + SECTION_POSTMARK) == POSTMARK_FIXTURES
    assert with_sections == SECTION_POSTMARK


async def test_templates_leemunroe_with_fields_publishes(signed_in: Client) -> None:
    source = read_fixture(TEMPLATES / "leemunroe" / "email.html")
    greeting = "<p>Hi {{ first_name }},</p>"
    footer = '<a href="{{ unsubscribe_url }}">Unsubscribe</a>'
    html = source.replace("<body>", "<body>\n" + greeting, 1).replace(
        "</body>", footer + "\n</body>", 1
    )
    assert greeting in html
    assert footer in html
    template_id = await create_template(signed_in, "leemunroe")

    saved = await save_draft(signed_in, template_id, subject="Hi {{ first_name }}", html=html)
    version = await publish(signed_in, template_id)

    assert saved.status_code == 200, saved.text
    assert version["number"] == 1
    assert [field["name"] for field in version["fields"]] == ["first_name"]
    assert version["html"] == html
    rendered = await preview(signed_in, template_id, version_id=version["id"])
    assert "<p>Hi Ada,</p>" in rendered["html"]
    assert 'href="#unsubscribe-preview"' in rendered["html"]


async def test_templates_publish_activity_names_version(signed_in: Client) -> None:
    template_id = await create_template(signed_in)
    await save_draft(signed_in, template_id, **DRAFT)

    version = await publish(signed_in, template_id)

    event = (await signed_in.get("/api/v1/activity")).json()["items"][0]
    assert event["data"] == {"version_id": version["id"], "number": 1}


async def test_templates_publish_requires_unsubscribe_link(signed_in: Client) -> None:
    template_id = (await signed_in.post("/api/v1/templates", json={"name": "No link"})).json()["id"]
    await save_draft(
        signed_in, template_id, subject="Hi", html="<p>Hi {{ first_name }}</p>", text=""
    )

    response = await signed_in.post(f"/api/v1/templates/{template_id}/publish")

    assert response.status_code == 400
    assert "{{ unsubscribe_url }}" in response.json()["message"]


@pytest.mark.parametrize(
    ("subject", "expected"),
    [("Hello\r\nBcc: victim@example.com", "line break"), ("x" * 501, "at most 500")],
)
async def test_templates_draft_rejects_bad_subject(
    signed_in: Client, subject: str, expected: str
) -> None:
    template_id = (await signed_in.post("/api/v1/templates", json={"name": "Subject"})).json()["id"]

    response = await signed_in.put(
        f"/api/v1/templates/{template_id}/draft",
        json={"subject": subject, "html": "<p>x</p>", "text": ""},
    )

    assert response.status_code == 400
    assert response.json()["field"] == "subject"
    assert expected in response.json()["message"]


async def test_templates_reject_overlong_name(signed_in: Client) -> None:
    response = await signed_in.post("/api/v1/templates", json={"name": "n" * 201})

    assert response.status_code == 400
    assert response.json()["field"] == "name"
