from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec
from litestar import Controller, Response, get, post, put
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from backend.auth.guards import Account
from backend.core.dependencies import DbSession
from backend.templates.models import Template, TemplateVersion
from backend.templates.service import (
    FieldSpec,
    RenderedMessage,
    TemplateService,
    fields_from_json,
)


class VersionSummary(msgspec.Struct):
    id: UUID
    number: int
    published_at: datetime


class VersionOut(msgspec.Struct):
    id: UUID
    template_id: UUID
    number: int
    subject: str
    html: str
    text: str
    fields: list[FieldSpec]
    published_at: datetime

    @classmethod
    def of(cls, version: TemplateVersion) -> VersionOut:
        return cls(
            version.id,
            version.template_id,
            version.number,
            version.subject,
            version.html,
            version.text,
            fields_from_json(version.fields),
            version.published_at,
        )


class DraftOut(msgspec.Struct):
    subject: str
    html: str
    text: str
    fields: list[FieldSpec]
    updated_at: datetime | None


class TemplateSummaryOut(msgspec.Struct):
    id: UUID
    name: str
    created_at: datetime
    updated_at: datetime
    latest_version: VersionSummary | None


class TemplateOut(msgspec.Struct):
    id: UUID
    name: str
    created_at: datetime
    updated_at: datetime
    draft: DraftOut | None
    latest_version: VersionSummary | None


class CreateTemplateBody(msgspec.Struct):
    name: str


class DraftBody(msgspec.Struct, kw_only=True):
    subject: str
    html: str
    text: str = ""
    fields: list[FieldSpec] | None = None
    name: str | None = None


class PreviewBody(msgspec.Struct, kw_only=True):
    version_id: UUID | None = None
    values: dict[str, str] = msgspec.field(default_factory=dict)


def _summary(version: TemplateVersion | None) -> VersionSummary | None:
    return VersionSummary(version.id, version.number, version.published_at) if version else None


def _template_out(template: Template, latest: TemplateVersion | None) -> TemplateOut:
    draft = DraftOut(
        template.draft_subject,
        template.draft_html,
        template.draft_text,
        fields_from_json(template.draft_fields),
        template.draft_updated_at,
    )
    return TemplateOut(
        template.id,
        template.name,
        template.created_at,
        template.updated_at,
        draft,
        _summary(latest),
    )


class TemplateController(Controller):
    path = "/api/v1/templates"
    tags = ["templates"]

    @get("/")
    async def list_templates(
        self, db_session: DbSession, account: Account
    ) -> list[TemplateSummaryOut]:
        rows = await TemplateService(db_session, account.id).list_templates()
        return [
            TemplateSummaryOut(t.id, t.name, t.created_at, t.updated_at, _summary(latest))
            for t, latest in rows
        ]

    @post("/", status_code=HTTP_201_CREATED)
    async def create_template(
        self, db_session: DbSession, account: Account, data: JSONBody[CreateTemplateBody]
    ) -> TemplateOut:
        template = await TemplateService(db_session, account.id).create(data.name)
        return _template_out(template, None)

    @get("/{template_id:uuid}")
    async def get_template(
        self, db_session: DbSession, account: Account, template_id: FromPath[UUID]
    ) -> TemplateOut:
        service = TemplateService(db_session, account.id)
        template = await service.get(template_id)
        return _template_out(template, await service.latest_version(template_id))

    @put("/{template_id:uuid}/draft")
    async def save_draft(
        self,
        db_session: DbSession,
        account: Account,
        template_id: FromPath[UUID],
        data: JSONBody[DraftBody],
    ) -> TemplateOut:
        service = TemplateService(db_session, account.id)
        template = await service.save_draft(
            template_id,
            subject=data.subject,
            html=data.html,
            text=data.text,
            fields=data.fields,
            name=data.name,
        )
        return _template_out(template, await service.latest_version(template_id))

    @post("/{template_id:uuid}/publish", status_code=HTTP_201_CREATED)
    async def publish(
        self, db_session: DbSession, account: Account, template_id: FromPath[UUID]
    ) -> Response[VersionOut]:
        version, created = await TemplateService(db_session, account.id).publish(template_id)
        status = HTTP_201_CREATED if created else HTTP_200_OK
        return Response(VersionOut.of(version), status_code=status)

    @get("/{template_id:uuid}/versions")
    async def list_versions(
        self, db_session: DbSession, account: Account, template_id: FromPath[UUID]
    ) -> list[VersionOut]:
        versions = await TemplateService(db_session, account.id).versions(template_id)
        return [VersionOut.of(version) for version in versions]

    @post("/{template_id:uuid}/preview", status_code=200)
    async def preview(
        self,
        db_session: DbSession,
        account: Account,
        template_id: FromPath[UUID],
        data: JSONBody[PreviewBody],
    ) -> RenderedMessage:
        return await TemplateService(db_session, account.id).preview(
            template_id, data.version_id, data.values
        )
