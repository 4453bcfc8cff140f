from __future__ import annotations

import dataclasses

import pytest

from backend.core.errors import ValidationError
from backend.templates.rendering import (
    SYSTEM_FIELDS,
    TemplatePart,
    TemplateSyntaxError,
    compile_template,
    detect_fields,
)


def test_render_replaces_spaced_and_unspaced_fields() -> None:
    template = compile_template("Hi {{ first_name }} {{last_name}}!", part="text")

    assert template.render({"first_name": "Jane", "last_name": "Doe"}) == "Hi Jane Doe!"


@pytest.mark.parametrize(
    "source",
    [
        "{{name}}",
        "{{ name }}",
        "{{  name}}",
        "{{name  }}",
        "{{\tname\t}}",
        "{{\nname\n}}",
        "{{ \r\n name \r\n }}",
    ],
)
def test_compile_accepts_whitespace_variant(source: str) -> None:
    template = compile_template(f"<p>{source}</p>", part="html")

    assert template.fields == ("name",)
    assert template.render({"name": "Jane"}) == "<p>Jane</p>"


def test_compile_accepts_underscores_and_digits_in_names() -> None:
    template = compile_template("{{ _x }}{{ Field_2 }}{{ a1b2 }}", part="text")

    assert template.fields == ("_x", "Field_2", "a1b2")
    assert template.render({"_x": "1", "Field_2": "2", "a1b2": "3"}) == "123"


def test_fields_in_order_of_first_appearance() -> None:
    template = compile_template("{{ b }} {{ a }} {{b}} {{ c }} {{ a }}", part="text")

    assert template.fields == ("b", "a", "c")


def test_fields_include_system_fields() -> None:
    template = compile_template('<a href="{{ unsubscribe_url }}">{{ name }}</a>', part="html")

    assert template.fields == ("unsubscribe_url", "name")


def test_render_repeated_field_gets_same_value() -> None:
    template = compile_template("{{ a }}-{{a}}-{{ a }}", part="subject")

    assert template.render({"a": "x"}) == "x-x-x"


def test_render_missing_value_is_empty() -> None:
    template = compile_template("Hi {{ name }}, from {{ sender }}.", part="text")

    assert template.render({"name": "Jane"}) == "Hi Jane, from ."


def test_render_ignores_unused_values() -> None:
    template = compile_template("Hi {{ name }}", part="text")

    assert template.render({"name": "Jane", "other": "ignored"}) == "Hi Jane"


def test_render_without_fields_returns_source() -> None:
    source = "<p>No merge fields here.</p>"
    template = compile_template(source, part="html")

    assert template.fields == ()
    assert template.render({"name": "Jane"}) == source


def test_render_empty_source() -> None:
    template = compile_template("", part="subject")

    assert template.fields == ()
    assert template.render({}) == ""


def test_render_escapes_html_part() -> None:
    template = compile_template('<p title="{{ v }}">{{ v }}</p>', part="html")

    rendered = template.render({"v": '<script>alert("x")</script> O\'Brien & Co'})

    escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; O&#x27;Brien &amp; Co"
    assert rendered == f'<p title="{escaped}">{escaped}</p>'


def test_render_escapes_ampersand_in_url() -> None:
    template = compile_template('<a href="{{ unsubscribe_url }}">x</a>', part="html")

    rendered = template.render({"unsubscribe_url": "https://example.com/u?a=1&b=2"})

    assert rendered == '<a href="https://example.com/u?a=1&amp;b=2">x</a>'


@pytest.mark.parametrize("part", ["subject", "text"])
def test_render_does_not_escape_subject_or_text(part: TemplatePart) -> None:
    template = compile_template("Hello {{ v }}", part=part)
    value = '<script>alert("x")</script> O\'Brien & Co'

    assert template.render({"v": value}) == f"Hello {value}"


@pytest.mark.parametrize("part", ["subject", "html", "text"])
def test_render_does_not_expand_tags_in_values(part: TemplatePart) -> None:
    template = compile_template("{{ a }}|{{ b }}", part=part)

    rendered = template.render({"a": "{{ b }}", "b": "{{ unsubscribe_url }}"})

    assert rendered == "{{ b }}|{{ unsubscribe_url }}"


def test_render_does_not_expand_jinja_in_values() -> None:
    template = compile_template("{{ a }}", part="text")

    assert template.render({"a": "{% for x in y %}{{ 7 * 7 }}"}) == "{% for x in y %}{{ 7 * 7 }}"


def test_render_keeps_no_state_between_calls() -> None:
    template = compile_template("<b>{{ a }}</b>{{ b }}", part="html")

    first = template.render({"a": "1", "b": "2"})
    second = template.render({"a": "3"})

    assert first == "<b>1</b>2"
    assert second == "<b>3</b>"


@pytest.mark.parametrize(
    "source",
    [
        "@media only screen and (max-width: 620px) { table.body h1 { font-size: 28px; }}",
        "a { color: red } }} {{ name }}",
        "{ {name} } { {",
        "<!--[if mso]><table><tr><td><![endif]-->",
        "&nbsp;&amp;&#8203; \u00a0caf\u00e9 \u2014 \U0001f600",
        "line one\r\nline two\rline three\n",
        "{\n{ name }\n}",
        "100% {} %} }",
    ],
)
def test_render_keeps_literal_text_unchanged(source: str) -> None:
    template = compile_template(source, part="html")
    values = {name: f"{{{{ {name} }}}}" for name in template.fields}

    assert template.render(values) == source


def test_compiled_template_is_immutable() -> None:
    template = compile_template("{{ a }}", part="text")

    with pytest.raises(dataclasses.FrozenInstanceError):
        template.fields = ("b",)  # type: ignore[misc]


def test_compile_rejects_unknown_part() -> None:
    with pytest.raises(ValueError, match="'body'"):
        compile_template("x", part="body")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("tag", "syntax", "problem"),
    [
        ("{{#each items}}", "{{#each items}}", "is a Mustache section"),
        ("{{# items }}", "{{# items }}", "is a Mustache section"),
        ("{{#if vip}}", "{{#if vip}}", "is a Mustache section"),
        ("{{/each}}", "{{/each}}", "closes a Mustache section"),
        ("{{^items}}", "{{^items}}", "is a Mustache inverted section"),
        ("{{!note}}", "{{!note}}", "is a Mustache comment"),
        ("{{> footer}}", "{{> footer}}", "is a Mustache partial"),
        ("{{& name}}", "{{& name}}", "unescaped HTML"),
        ("{{=<% %>=}}", "{{=<% %>=}}", "changes the Mustache delimiters"),
        ("{{{name}}}", "{{{name}}}", "triple-brace tag"),
        ("{{{ name }}}", "{{{ name }}}", "triple-brace tag"),
        ("{{ user.name }}", "{{ user.name }}", "reads an attribute or item"),
        ("{{ user['name'] }}", "{{ user['name'] }}", "reads an attribute or item"),
        ("{{ name | upper }}", "{{ name | upper }}", "applies a filter"),
        ("{{name|e}}", "{{name|e}}", "applies a filter"),
        ("{{ lipsum() }}", "{{ lipsum() }}", "calls a function"),
        ("{{ 7 * 7 }}", "{{ 7 * 7 }}", "is not a valid merge field name"),
        ("{{ first-name }}", "{{ first-name }}", "is not a valid merge field name"),
        ("{{ first name }}", "{{ first name }}", "is not a valid merge field name"),
        ("{{ 1st }}", "{{ 1st }}", "is not a valid merge field name"),
        ("{{ café }}", "{{ café }}", "is not a valid merge field name"),
        ("{{}}", "{{}}", "is an empty merge field"),
        ("{{   }}", "{{   }}", "is an empty merge field"),
        ("{{\u00a0name}}", "{{\u00a0name}}", "Write it as {{ name }}"),
        ("{% if vip %}", "{% if vip %}", "is a Jinja statement"),
        ("{%- for x in items -%}", "{%- for x in items -%}", "is a Jinja statement"),
        ("{% raw", "{% raw </p>", "is a Jinja statement"),
        ("{{ name", "{{ name </p>", "is not closed"),
        ("{{ name }", "{{ name } </p>", "is not closed"),
        ("{{", "{{ </p>", "is not closed"),
        ("{{{name}}", "{{{name}} </p>", "is not closed"),
    ],
)
def test_compile_rejects_unsupported_syntax(tag: str, syntax: str, problem: str) -> None:
    source = f"<p>Hi {{{{ name }}}}</p>\n<p>\n  {tag} </p>\n{{{{ other }}}}\n"

    with pytest.raises(TemplateSyntaxError) as caught:
        compile_template(source, part="html")

    error = caught.value
    assert error.line == 3
    assert error.syntax == syntax
    assert error.part == "html"
    assert error.field == "html"
    assert error.message.startswith(f"Line 3 of the HTML: '{syntax}' ")
    assert problem in error.message


def test_syntax_error_is_validation_error() -> None:
    with pytest.raises(ValidationError) as caught:
        compile_template("{{#each x}}", part="html")

    assert caught.value.status_code == 400
    assert caught.value.details == {"part": "html", "line": 1, "syntax": "{{#each x}}"}


def test_syntax_error_message_for_section() -> None:
    with pytest.raises(TemplateSyntaxError) as caught:
        compile_template("a\nb\n{{#each receipt_details}}\n{{/each}}", part="html")

    assert str(caught.value) == (
        "Line 3 of the HTML: '{{#each receipt_details}}' is a Mustache section, which is not "
        "supported. Only {{ field_name }} merge fields are; write the rows out or remove the "
        "section."
    )


@pytest.mark.parametrize(
    ("part", "part_name"),
    [("subject", "the subject"), ("html", "the HTML"), ("text", "the plain-text part")],
)
def test_syntax_error_names_part(part: TemplatePart, part_name: str) -> None:
    with pytest.raises(TemplateSyntaxError) as caught:
        compile_template("Hi {{ user.name }}", part=part)

    assert caught.value.message.startswith(f"Line 1 of {part_name}: ")
    assert caught.value.part == part


def test_syntax_error_reports_first_problem() -> None:
    source = "ok {{ a }}\n{{ b | upper }}\n{{#each c}}\n{% if d %}"

    with pytest.raises(TemplateSyntaxError) as caught:
        compile_template(source, part="text")

    assert caught.value.line == 2
    assert caught.value.syntax == "{{ b | upper }}"


def test_syntax_error_line_counts_crlf_lines() -> None:
    source = "one\r\ntwo {{ a }}\r\nthree\r\n{{ a.b }}\r\n"

    with pytest.raises(TemplateSyntaxError) as caught:
        compile_template(source, part="text")

    assert caught.value.line == 4


def test_syntax_error_line_of_multiline_tag() -> None:
    source = "one\n{{#each\n  items}}\n"

    with pytest.raises(TemplateSyntaxError) as caught:
        compile_template(source, part="text")

    assert caught.value.line == 2
    assert caught.value.syntax == "{{#each\n  items}}"


def test_syntax_error_quotes_short_excerpt_of_unclosed_tag() -> None:
    source = "{{ name " + "x" * 500 + "}}"

    with pytest.raises(TemplateSyntaxError) as caught:
        compile_template(source, part="text")

    assert caught.value.syntax == "{{ name " + "x" * 32
    assert "is not closed" in caught.value.message


def test_syntax_error_excerpt_stops_at_line_end() -> None:
    source = "<p>{{ name }</p>\n<p>{{ other }}</p>"

    with pytest.raises(TemplateSyntaxError) as caught:
        compile_template(source, part="html")

    assert caught.value.syntax == "{{ name }</p>"
    assert caught.value.line == 1


def test_detect_fields_unions_parts_in_order() -> None:
    fields = detect_fields(
        ("subject", "Your order {{ order_id }}, {{ first_name }}"),
        ("html", "<p>{{ first_name }} {{ total }}</p>"),
        ("text", "{{ total }} {{ city }}"),
    )

    assert fields == ["order_id", "first_name", "total", "city"]


def test_detect_fields_excludes_system_fields() -> None:
    fields = detect_fields(
        ("html", '<a href="{{ unsubscribe_url }}">{{ name }}</a>'),
        ("text", "{{unsubscribe_url}}"),
    )

    assert fields == ["name"]
    assert "unsubscribe_url" in SYSTEM_FIELDS


def test_detect_fields_without_sources_is_empty() -> None:
    assert detect_fields() == []


def test_detect_fields_raises_for_part_with_error() -> None:
    with pytest.raises(TemplateSyntaxError) as caught:
        detect_fields(
            ("subject", "Hello {{ name }}"),
            ("html", "<p>{{ name }}</p>"),
            ("text", "ok\n{{ name | title }}"),
        )

    assert caught.value.part == "text"
    assert caught.value.field == "text"
    assert caught.value.line == 2


def test_syntax_error_unclosed_tag_before_next_tag() -> None:
    source = "{{ a {{ b }}"

    with pytest.raises(TemplateSyntaxError) as caught:
        compile_template(source, part="text")

    assert caught.value.syntax == "{{ a {{ b }}"
    assert "is not closed with '}}'" in caught.value.message


def test_compiled_version_folds_line_breaks_in_subject() -> None:
    from backend.templates.service import CompiledVersion

    version = CompiledVersion("Hi {{ name }}", "<p>{{ name }}</p>", "")

    rendered = version.render({"name": "Ada\r\nBcc: x@example.com"})

    assert rendered.subject == "Hi Ada Bcc: x@example.com"
    assert "\n" in rendered.html
