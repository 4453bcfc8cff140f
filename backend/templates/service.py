"""Templates, their drafts and published versions, and rendering a version for one recipient."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.activity.service import record_activity
from backend.core.errors import NotFoundError, ValidationError
from backend.templates.models import Template, TemplateVersion
from backend.templates.rendering import CompiledTemplate, compile_template, detect_fields


class FieldSpec(msgspec.Struct, kw_only=True):
    """One merge field of a template's schema."""

    name: str
    required: bool = True
    default: str | None = None
    sample: str | None = None


class RenderedMessage(msgspec.Struct, frozen=True):
    subject: str
    html: str
    text: str


DEFAULT_SUBJECT = "Hello {{ first_name }}"
DEFAULT_HTML = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{{ first_name }}</title></head>
<body style="margin:0;padding:24px;background:#f3f4f6;font-family:Arial,sans-serif;color:#111827">
  <table role="presentation" width="100%" cellpadding="0" cellspacing="0">
    <tr><td style="max-width:560px;margin:0 auto;background:#ffffff;padding:32px;border-radius:8px">
      <p>Hi {{ first_name }},</p>
      <p>Thanks for being with us. This is the starter template of your account: edit it,
      publish a new version, and use it for your first batch.</p>
      <p style="font-size:12px;color:#6b7280">
        <a href="{{ unsubscribe_url }}">Unsubscribe</a> from these emails.
      </p>
    </td></tr>
  </table>
</body>
</html>
"""
DEFAULT_TEXT = """Hi {{ first_name }},

Thanks for being with us.

Unsubscribe: {{ unsubscribe_url }}
"""
DEFAULT_FIELD_SAMPLES = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"}


def build_field_schema(
    subject: str, html: str, text: str, overrides: Sequence[FieldSpec] | None
) -> list[FieldSpec]:
    """Detect the merge fields of the three parts and apply the operator's settings to them.

    Detected fields start required. An override for a field that the parts no longer use is
    dropped. An optional field keeps its default; a required one never has a default.
    """
    names = detect_fields(("subject", subject), ("html", html), ("text", text))
    by_name = {spec.name: spec for spec in overrides or ()}
    schema = []
    for name in names:
        given = by_name.get(name)
        required = given.required if given else True
        schema.append(
            FieldSpec(
                name=name,
                required=required,
                default=None if required or given is None else given.default,
                sample=(
                    given.sample if given and given.sample else DEFAULT_FIELD_SAMPLES.get(name)
                ),
            )
        )
    return schema


def fields_from_json(raw: Sequence[Mapping[str, Any]]) -> list[FieldSpec]:
    return msgspec.convert(list(raw), list[FieldSpec])


def fields_to_json(fields: Sequence[FieldSpec]) -> list[dict[str, Any]]:
    return [msgspec.to_builtins(spec) for spec in fields]


class CompiledVersion:
    """A published version compiled once and rendered for many recipients."""

    def __init__(self, subject: str, html: str, text: str) -> None:
        self.subject = compile_template(subject, part="subject")
        self.html = compile_template(html, part="html")
        self.text: CompiledTemplate | None = compile_template(text, part="text") if text else None

    def render(self, values: Mapping[str, str]) -> RenderedMessage:
        return RenderedMessage(
            # A merge value with a line break would end the Subject header; fold it.
            subject=" ".join(self.subject.render(values).splitlines()),
            html=self.html.render(values),
            text=self.text.render(values) if self.text else "",
        )


def merge_values(fields: Sequence[FieldSpec], values: Mapping[str, str]) -> dict[str, str]:
    """Fill each field from `values`, then its default; system fields pass through."""
    merged = dict(values)
    for spec in fields:
        if not merged.get(spec.name) and spec.default is not None:
            merged[spec.name] = spec.default
    return merged


MAX_NAME_LENGTH = 200
# RFC 5322 limits a header line to 998 characters; a subject is far shorter in practice.
MAX_SUBJECT_LENGTH = 500


def check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise ValidationError("The template name is empty; give it a name.", field="name")
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationError(
            f"The template name has {len(name):,} characters; use at most {MAX_NAME_LENGTH}.",
            field="name",
        )
    return name


def check_subject(subject: str) -> None:
    if "\r" in subject or "\n" in subject:
        raise ValidationError(
            "The subject contains a line break; write it on one line.", field="subject"
        )
    if len(subject) > MAX_SUBJECT_LENGTH:
        raise ValidationError(
            f"The subject has {len(subject):,} characters; use at most {MAX_SUBJECT_LENGTH}.",
            field="subject",
        )


def detect_fields_with_system(html: str) -> tuple[str, ...]:
    return compile_template(html, part="html").fields


class TemplateService:
    def __init__(self, session: AsyncSession, account_id: UUID) -> None:
        self.session = session
        self.account_id = account_id

    async def list_templates(self) -> list[tuple[Template, TemplateVersion | None]]:
        templates = (
            await self.session.scalars(
                select(Template)
                .where(Template.account_id == self.account_id)
                .order_by(Template.id.desc())
            )
        ).all()
        latest = await self._latest_versions([template.id for template in templates])
        return [(template, latest.get(template.id)) for template in templates]

    async def get(self, template_id: UUID) -> Template:
        template = await self.session.scalar(
            select(Template).where(
                Template.id == template_id, Template.account_id == self.account_id
            )
        )
        if template is None:
            raise NotFoundError(f"Template {template_id} was not found.")
        return template

    async def latest_version(self, template_id: UUID) -> TemplateVersion | None:
        return (await self._latest_versions([template_id])).get(template_id)

    async def create(self, name: str) -> Template:
        template = Template(account_id=self.account_id, name=check_name(name))
        self.session.add(template)
        await self.session.commit()
        return template

    async def save_draft(
        self,
        template_id: UUID,
        *,
        subject: str,
        html: str,
        text: str,
        fields: Sequence[FieldSpec] | None,
        name: str | None = None,
    ) -> Template:
        template = await self.get(template_id)
        check_subject(subject)
        if name is not None:
            name = check_name(name)
        if fields is None:
            fields = fields_from_json(template.draft_fields)
        schema = build_field_schema(subject, html, text, fields)
        template.draft_subject = subject
        template.draft_html = html
        template.draft_text = text
        template.draft_fields = fields_to_json(schema)
        template.draft_updated_at = datetime.now(UTC)
        if name:
            template.name = name
        await self.session.commit()
        return template

    async def publish(self, template_id: UUID) -> tuple[TemplateVersion, bool]:
        """Publish the draft as the next version; return it and whether it is new.

        A draft identical to the latest version returns that version instead of a copy, so a
        repeated click or a retried request adds nothing.
        """
        template = await self.get(template_id)
        _check_publishable(template)
        schema = build_field_schema(
            template.draft_subject,
            template.draft_html,
            template.draft_text,
            fields_from_json(template.draft_fields),
        )
        fields = fields_to_json(schema)
        latest = await self.session.scalar(
            select(TemplateVersion)
            .where(TemplateVersion.template_id == template.id)
            .order_by(TemplateVersion.number.desc())
            .limit(1)
        )
        if latest is not None and (latest.subject, latest.html, latest.text, latest.fields) == (
            template.draft_subject,
            template.draft_html,
            template.draft_text,
            fields,
        ):
            return latest, False

        number = (latest.number if latest else 0) + 1
        version = TemplateVersion(
            template_id=template.id,
            account_id=self.account_id,
            number=number,
            subject=template.draft_subject,
            html=template.draft_html,
            text=template.draft_text,
            fields=fields,
            published_at=datetime.now(UTC),
        )
        self.session.add(version)
        # The flush assigns the version id that the activity event records.
        await self.session.flush()
        record_activity(
            self.session,
            self.account_id,
            "template_published",
            f"Published version {number} of template '{template.name}'.",
            subject_type="template",
            subject_id=template.id,
            data={"version_id": str(version.id), "number": number},
        )
        await self.session.commit()
        return version, True

    async def versions(self, template_id: UUID) -> list[TemplateVersion]:
        await self.get(template_id)
        return list(
            (
                await self.session.scalars(
                    select(TemplateVersion)
                    .where(TemplateVersion.template_id == template_id)
                    .order_by(TemplateVersion.number.desc())
                )
            ).all()
        )

    async def get_version(self, version_id: UUID) -> TemplateVersion:
        version = await self.session.scalar(
            select(TemplateVersion).where(
                TemplateVersion.id == version_id, TemplateVersion.account_id == self.account_id
            )
        )
        if version is None:
            raise NotFoundError(f"Template version {version_id} was not found.")
        return version

    async def preview(
        self, template_id: UUID, version_id: UUID | None, values: Mapping[str, str]
    ) -> RenderedMessage:
        template = await self.get(template_id)
        if version_id is not None:
            version = await self.get_version(version_id)
            if version.template_id != template.id:
                raise NotFoundError(f"Template version {version_id} was not found.")
            subject, html, text = version.subject, version.html, version.text
            fields = fields_from_json(version.fields)
        else:
            subject, html, text = template.draft_subject, template.draft_html, template.draft_text
            fields = build_field_schema(
                subject, html, text, fields_from_json(template.draft_fields)
            )
        sample_values: dict[str, str] = {"unsubscribe_url": "#unsubscribe-preview"}
        for spec in fields:
            sample_values[spec.name] = (
                values.get(spec.name) or spec.sample or spec.default or f"[{spec.name}]"
            )
        return CompiledVersion(subject, html, text).render(sample_values)

    async def _latest_versions(self, template_ids: list[UUID]) -> dict[UUID, TemplateVersion]:
        if not template_ids:
            return {}
        newest = (
            select(TemplateVersion.template_id, func.max(TemplateVersion.number).label("number"))
            .where(TemplateVersion.template_id.in_(template_ids))
            .group_by(TemplateVersion.template_id)
            .subquery()
        )
        rows = await self.session.scalars(
            select(TemplateVersion).join(
                newest,
                (TemplateVersion.template_id == newest.c.template_id)
                & (TemplateVersion.number == newest.c.number),
            )
        )
        return {version.template_id: version for version in rows}


async def create_default_template(session: AsyncSession, account_id: UUID) -> TemplateVersion:
    """Give a new account a starter template with one published version."""
    schema = build_field_schema(DEFAULT_SUBJECT, DEFAULT_HTML, DEFAULT_TEXT, None)
    now = datetime.now(UTC)
    template = Template(
        account_id=account_id,
        name="Starter template",
        draft_subject=DEFAULT_SUBJECT,
        draft_html=DEFAULT_HTML,
        draft_text=DEFAULT_TEXT,
        draft_fields=fields_to_json(schema),
        draft_updated_at=now,
    )
    session.add(template)
    await session.flush()
    version = TemplateVersion(
        template_id=template.id,
        account_id=account_id,
        number=1,
        subject=DEFAULT_SUBJECT,
        html=DEFAULT_HTML,
        text=DEFAULT_TEXT,
        fields=fields_to_json(schema),
        published_at=now,
    )
    session.add(version)
    return version


def _check_publishable(template: Template) -> None:
    if not template.draft_subject.strip():
        raise ValidationError(
            "The draft has no subject; add one before publishing.", field="subject"
        )
    if not template.draft_html.strip():
        raise ValidationError("The draft has no HTML; add it before publishing.", field="html")
    if "unsubscribe_url" not in detect_fields_with_system(template.draft_html):
        # Mailbox providers and anti-spam laws (CAN-SPAM, the EU's ePrivacy rules)
        # expect a visible way to opt out in the message itself, besides the header.
        raise ValidationError(
            "The HTML has no {{ unsubscribe_url }} link; add one, for example "
            '<a href="{{ unsubscribe_url }}">Unsubscribe</a>, before publishing.',
            field="html",
        )
