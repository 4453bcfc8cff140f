"""Merge-field rendering for email templates.

A template part (subject, HTML body or plain-text body) may contain merge fields written
``{{ field }}`` or ``{{field}}``: two opening braces, optional ASCII whitespace, a name
matching ``[A-Za-z_][A-Za-z0-9_]*``, optional whitespace and two closing braces. Rendering
replaces each field with its value and copies every other character of the source
unchanged, so CSS braces, MSO conditional comments and entities pass through as written.

Nothing else is evaluated. Any other ``{{ ... }}`` (Mustache sections, triple braces,
attribute access, filters, calls, an unclosed ``{{``) and any Jinja ``{% ... %}`` tag
raises TemplateSyntaxError, so a template imported from another tool fails at save time
instead of sending its raw markup to recipients.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from backend.core.errors import ValidationError

__all__ = [
    "SYSTEM_FIELDS",
    "CompiledTemplate",
    "TemplatePart",
    "TemplateSyntaxError",
    "compile_template",
    "detect_fields",
]

TemplatePart = Literal["subject", "html", "text"]

# Fields filled in by the delivery pipeline, not by the operator's contact fields.
SYSTEM_FIELDS: frozenset[str] = frozenset({"unsubscribe_url"})

_PART_NAMES: dict[str, str] = {
    "subject": "the subject",
    "html": "the HTML",
    "text": "the plain-text part",
}

_MERGE_FIELD = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}", re.ASCII)
_TAG_OPENING = re.compile(r"\{\{|\{%")
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)

# An opening "{{" whose closing braces are further away than this is reported as unclosed,
# so the error quotes one short excerpt instead of a stretch of CSS or HTML.
_MAX_TAG_LENGTH = 200
_EXCERPT_LENGTH = 40

_ONLY_MERGE_FIELDS = "Only {{ field_name }} merge fields are supported"


class TemplateSyntaxError(ValidationError):
    """A template construct other than a plain ``{{ field_name }}`` merge field.

    ``part`` is "subject", "html" or "text" (also passed as ``field``), ``line`` is the
    1-based line of the construct and ``syntax`` is its text as written.
    """

    def __init__(self, *, part: TemplatePart, line: int, syntax: str, problem: str) -> None:
        message = f"Line {line} of {_PART_NAMES[part]}: '{syntax}' {problem}"
        super().__init__(
            message,
            field=part,
            details={"part": part, "line": line, "syntax": syntax},
        )
        self.part = part
        self.line = line
        self.syntax = syntax


@dataclass(frozen=True, slots=True)
class CompiledTemplate:
    """One template part split into literal text and merge fields, ready to render.

    ``fields`` lists each field name once, in order of first appearance, including
    system fields such as ``unsubscribe_url``.
    """

    part: TemplatePart
    fields: tuple[str, ...]
    # Literal text with an empty string at each merge field's position, and the
    # (position, name) pairs that render() fills in.
    _pieces: tuple[str, ...]
    _slots: tuple[tuple[int, str], ...]

    def render(self, values: Mapping[str, str]) -> str:
        """Return the part with each merge field replaced by its value.

        A missing value renders as "". In the HTML part each value is escaped with
        ``html.escape(value, quote=True)``. Values are inserted once and never scanned
        for merge fields again.
        """
        pieces = list(self._pieces)

        if self.part == "html":
            for position, name in self._slots:
                pieces[position] = html.escape(values.get(name, ""), quote=True)
        else:
            for position, name in self._slots:
                pieces[position] = values.get(name, "")

        return "".join(pieces)


def compile_template(source: str, *, part: TemplatePart) -> CompiledTemplate:
    """Split ``source`` into literal text and merge fields.

    Raises TemplateSyntaxError for the first construct that is not a plain merge field.
    """
    if part not in _PART_NAMES:
        raise ValueError(f"Unknown template part {part!r}, expected subject, html or text.")

    pieces: list[str] = []
    slots: list[tuple[int, str]] = []
    literal_start = 0

    for opening in _TAG_OPENING.finditer(source):
        start = opening.start()
        merge_field = _MERGE_FIELD.match(source, start)
        if merge_field is None:
            raise _describe_invalid_tag(source, start, part)

        pieces.append(source[literal_start:start])
        slots.append((len(pieces), merge_field.group(1)))
        pieces.append("")
        literal_start = merge_field.end()

    pieces.append(source[literal_start:])
    fields = tuple(dict.fromkeys(name for _, name in slots))
    return CompiledTemplate(part=part, fields=fields, _pieces=tuple(pieces), _slots=tuple(slots))


def detect_fields(*sources_by_part: tuple[TemplatePart, str]) -> list[str]:
    """Return the merge fields used across the given ``(part, source)`` pairs.

    Names appear once, in order of first appearance, with SYSTEM_FIELDS left out.
    Raises TemplateSyntaxError for the first invalid construct.
    """
    names: dict[str, None] = {}

    for part, source in sources_by_part:
        for name in compile_template(source, part=part).fields:
            if name not in SYSTEM_FIELDS:
                names.setdefault(name, None)

    return list(names)


def _describe_invalid_tag(source: str, start: int, part: TemplatePart) -> TemplateSyntaxError:
    line = source.count("\n", 0, start) + 1

    if source.startswith("{%", start):
        end = _find_tag_end(source, start, "{%", "%}")
        syntax = _quote_excerpt(source, start) if end is None else source[start:end]
        problem = (
            "is a Jinja statement, which is not supported. "
            f"{_ONLY_MERGE_FIELDS}, so remove the statement."
        )
        return TemplateSyntaxError(part=part, line=line, syntax=syntax, problem=problem)

    opening, closing = ("{{{", "}}}") if source.startswith("{{{", start) else ("{{", "}}")
    end = _find_tag_end(source, start, opening, closing)
    if end is None:
        syntax = _quote_excerpt(source, start)
        problem = "is not closed with '}}'. Close the merge field as {{ field_name }}."
        return TemplateSyntaxError(part=part, line=line, syntax=syntax, problem=problem)

    syntax = source[start:end]
    return TemplateSyntaxError(part=part, line=line, syntax=syntax, problem=_classify_tag(syntax))


def _find_tag_end(source: str, start: int, opening: str, closing: str) -> int | None:
    """Return the index just past the tag's ``closing``, or None if the tag is unclosed.

    A tag counts as unclosed when another opening comes before its closing, so a typo such
    as "{{ name }" is not quoted together with the next merge field.
    """
    search_end = start + _MAX_TAG_LENGTH
    end = source.find(closing, start + len(opening), search_end)
    next_opening = source.find(opening[:2], start + len(opening), search_end)

    if end == -1 or (next_opening != -1 and next_opening < end):
        return None
    return end + len(closing)


def _quote_excerpt(source: str, start: int) -> str:
    line_end = source.find("\n", start)
    if line_end == -1:
        line_end = len(source)
    return source[start : min(line_end, start + _EXCERPT_LENGTH)].rstrip()


def _classify_tag(syntax: str) -> str:
    """Explain why a closed ``{{ ... }}`` tag is not a merge field, and give the fix."""
    content = syntax[2:-2].strip()
    sigil = content[:1]

    if sigil == "{":
        return (
            "is a triple-brace tag for unescaped HTML, which is not supported. "
            "Write {{ field_name }} instead. Its value is HTML-escaped in the HTML part."
        )
    if sigil == "#":
        return (
            "is a Mustache section, which is not supported. "
            "Only {{ field_name }} merge fields are; write the rows out or remove the section."
        )
    if sigil == "/":
        return (
            "closes a Mustache section, which is not supported. "
            f"{_ONLY_MERGE_FIELDS}, so write the rows out or remove the section."
        )
    if sigil == "^":
        return (
            "is a Mustache inverted section, which is not supported. "
            f"{_ONLY_MERGE_FIELDS}, so remove the section."
        )
    if sigil == "!":
        return "is a Mustache comment, which is not supported. Remove it."
    if sigil == ">":
        return "is a Mustache partial, which is not supported. Paste the partial's content in."
    if sigil == "&":
        return (
            "is a Mustache tag for unescaped HTML, which is not supported. "
            "Write {{ field_name }} instead."
        )
    if sigil == "=":
        return "changes the Mustache delimiters, which is not supported. Remove it."
    if not content:
        return "is an empty merge field. Write a field name between the braces or remove it."
    if "|" in content:
        return (
            "applies a filter, which is not supported. "
            f"{_ONLY_MERGE_FIELDS}, so write the plain field name instead."
        )
    if "(" in content:
        return (
            "calls a function, which is not supported. "
            f"{_ONLY_MERGE_FIELDS}, so write the plain field name instead."
        )
    if "." in content or "[" in content:
        return (
            "reads an attribute or item, which is not supported. "
            "Use a flat field name such as {{ user_name }} instead."
        )
    if _FIELD_NAME.fullmatch(content) is None:
        return (
            "is not a valid merge field name. A name starts with a letter or underscore "
            "and contains only letters, digits and underscores, as in {{ first_name }}."
        )
    return f"is not a valid merge field. Write it as {{{{ {content} }}}}."
