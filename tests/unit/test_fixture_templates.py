"""Merge-field rendering against real email templates from leemunroe and Postmark."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from backend.templates.rendering import (
    TemplatePart,
    TemplateSyntaxError,
    compile_template,
    detect_fields,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "templates"

# Files where each field is always written with the same spacing, so one value per field
# restores every tag.
UNIFORM_SPELLING_FILES = [
    "leemunroe/email.html",
    "leemunroe/email-inlined.html",
    "postmark/password-reset.html",
    "postmark/trial-expiring.html",
    "postmark/trial-expiring.txt",
    "postmark/user-invitation.html",
    "postmark/welcome.html",
]

# Files that write the same field both as {{ name }} and {{name}}.
MIXED_SPELLING_FILES = [
    "postmark/password-reset.txt",
    "postmark/user-invitation.txt",
    "postmark/welcome.txt",
]

# A deliberately simple pattern, independent of the renderer's, for the fixtures' tags,
# which have either no space or one space inside each brace pair.
FIXTURE_TAG = re.compile(r"\{\{ ?([a-z_]+) ?\}\}")


def read_fixture(name: str) -> str:
    # Decoding the bytes keeps CRLF and every other byte exactly as stored.
    return (FIXTURES / name).read_bytes().decode("utf-8")


def part_of(name: str) -> TemplatePart:
    return "html" if name.endswith(".html") else "text"


def first_spellings(source: str) -> dict[str, str]:
    spellings: dict[str, str] = {}
    for tag in FIXTURE_TAG.finditer(source):
        spellings.setdefault(tag.group(1), tag.group(0))
    return spellings


@pytest.mark.parametrize("name", UNIFORM_SPELLING_FILES)
def test_fixture_round_trip_reproduces_source(name: str) -> None:
    source = read_fixture(name)
    template = compile_template(source, part=part_of(name))

    rendered = template.render(first_spellings(source))

    assert rendered.encode("utf-8") == source.encode("utf-8")


@pytest.mark.parametrize("name", MIXED_SPELLING_FILES)
def test_fixture_round_trip_with_mixed_spelling(name: str) -> None:
    source = read_fixture(name)
    spellings = first_spellings(source)
    template = compile_template(source, part=part_of(name))

    rendered = template.render(spellings)

    expected = FIXTURE_TAG.sub(lambda tag: spellings[tag.group(1)], source)
    assert expected != source
    assert rendered.encode("utf-8") == expected.encode("utf-8")


@pytest.mark.parametrize("name", UNIFORM_SPELLING_FILES + MIXED_SPELLING_FILES)
def test_fixture_fields_match_tags_in_order(name: str) -> None:
    source = read_fixture(name)

    template = compile_template(source, part=part_of(name))

    assert template.fields == tuple(first_spellings(source))


@pytest.mark.parametrize("name", UNIFORM_SPELLING_FILES + MIXED_SPELLING_FILES)
def test_fixture_render_replaces_every_tag(name: str) -> None:
    source = read_fixture(name)
    template = compile_template(source, part=part_of(name))
    tag_count = len(FIXTURE_TAG.findall(source))

    rendered = template.render(dict.fromkeys(template.fields, "<&>"))

    assert "{{" not in rendered
    if part_of(name) == "html":
        assert rendered.count("&lt;&amp;&gt;") == tag_count
    else:
        assert rendered.count("<&>") == tag_count


def test_fixture_leemunroe_has_no_fields() -> None:
    template = compile_template(read_fixture("leemunroe/email.html"), part="html")

    assert template.fields == ()


def test_fixture_welcome_detect_fields_unions_parts() -> None:
    fields = detect_fields(
        ("subject", "Welcome, {{ name }}"),
        ("html", read_fixture("postmark/welcome.html")),
        ("text", read_fixture("postmark/welcome.txt")),
    )

    assert fields == [
        "name",
        "action_url",
        "login_url",
        "username",
        "trial_length",
        "trial_start_date",
        "trial_end_date",
        "support_email",
        "live_chat_url",
        "help_url",
    ]


@pytest.mark.parametrize(
    ("name", "line", "syntax"),
    [
        ("postmark/invoice.html", 542, "{{#each invoice_details}}"),
        ("postmark/invoice.txt", 27, "{{#each invoice_details}}"),
        ("postmark/receipt.html", 521, "{{#each receipt_details}}"),
        ("postmark/receipt.txt", 31, "{{#each receipt_details}}"),
        ("postmark/comment-notification.html", 483, "{{#attachment_details}}"),
        ("postmark/comment-notification.txt", 5, "{{#attachment_details}}"),
    ],
)
def test_fixture_with_section_is_rejected(name: str, line: int, syntax: str) -> None:
    source = read_fixture(name)
    part = part_of(name)

    with pytest.raises(TemplateSyntaxError) as caught:
        compile_template(source, part=part)

    error = caught.value
    assert error.line == line
    assert error.syntax == syntax
    assert error.part == part
    assert syntax in source.splitlines()[line - 1]
    assert f"Line {line} of " in error.message
    assert f"'{syntax}' is a Mustache section, which is not supported." in error.message
