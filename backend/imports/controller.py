from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Response, get, post, put
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_202_ACCEPTED

from backend.auth.guards import Account
from backend.core.dependencies import DbSession, Services
from backend.core.errors import ValidationError
from backend.core.uploads import save_upload
from backend.imports.models import Import
from backend.imports.service import ImportService, Validation


class PresetRef(msgspec.Struct):
    id: UUID
    name: str


class ImportOut(msgspec.Struct):
    id: UUID
    filename: str
    status: str
    format: str
    encoding: str | None
    delimiter: str | None
    sheets: list[str]
    sheet: str | None
    header_row: int
    columns: list[str]
    sample_rows: list[list[str]]
    suggested_mapping: dict[str, str | None]
    template_version_id: UUID | None
    mapping: dict[str, str | None] | None
    validation: dict[str, Any] | None
    batch_id: UUID | None
    created_at: datetime
    preset: PresetRef | None = None
    reused_from: UUID | None = None
    progress: dict[str, Any] | None = None
    error: str = ""
    keep_unmapped: bool = False

    @classmethod
    def of(cls, row: Import) -> ImportOut:
        return cls(
            row.id,
            row.filename,
            row.status,
            row.format,
            row.encoding,
            row.delimiter,
            row.sheets,
            row.sheet,
            row.header_row,
            row.columns,
            row.sample_rows,
            row.suggested_mapping,
            row.template_version_id,
            row.mapping,
            row.validation,
            row.batch_id,
            row.created_at,
            preset=PresetRef(row.preset.id, row.preset.name) if row.preset else None,
            reused_from=row.reused_from,
            progress=row.progress,
            error=row.error,
            keep_unmapped=row.keep_unmapped,
        )


class UploadForm(msgspec.Struct):
    file: UploadFile
    template_version_id: str | None = None


class MappingBody(msgspec.Struct, kw_only=True):
    template_version_id: UUID
    mapping: dict[str, str | None] | None = None
    sheet: str | None = None
    header_row: int | None = None
    encoding: str | None = None
    keep_unmapped: bool = False


class StageBody(msgspec.Struct):
    name: str = ""


class RowErrorOut(msgspec.Struct):
    row_number: int
    column: str | None
    value: str
    reason: str
    message: str


class RowErrorPage(msgspec.Struct):
    items: list[RowErrorOut]
    total: int
    page: int
    page_size: int


def _version_id(raw: str | None) -> UUID | None:
    if not raw:
        return None
    try:
        return UUID(raw)
    except ValueError as error:
        raise ValidationError(
            f"'{raw}' is not a template version id.", field="template_version_id"
        ) from error


# The `reason` values of problem rows, in the order the validator checks them.
ROW_ERROR_REASONS = ("invalid_email", "invalid_value", "missing_required", "duplicate")


def _check_reason(reason: str | None) -> None:
    if reason and reason not in ROW_ERROR_REASONS:
        raise ValidationError(
            f"'{reason}' is not a problem reason; use one of {', '.join(ROW_ERROR_REASONS)}, "
            "or leave reason out for every problem row.",
            field="reason",
        )


class ImportController(Controller):
    path = "/api/v1/imports"
    tags = ["imports"]

    @post("/", status_code=HTTP_201_CREATED, request_max_body_size=None)
    async def upload(
        self,
        db_session: DbSession,
        services: Services,
        account: Account,
        data: Annotated[UploadForm, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> ImportOut:
        # NOTE: Litestar spools the whole multipart body to a temporary file before this
        # handler runs, so UPLOAD_MAX_MB is checked while copying it, not while receiving it.
        version_id = _version_id(data.template_version_id)
        path, filename, size = await save_upload(data.file, services.settings, account.id)
        try:
            row = await ImportService(db_session, services.settings, account.id).create(
                path, filename, size, version_id
            )
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return ImportOut.of(row)

    @get("/{import_id:uuid}")
    async def get_import(
        self, db_session: DbSession, services: Services, account: Account, import_id: FromPath[UUID]
    ) -> ImportOut:
        return ImportOut.of(
            await ImportService(db_session, services.settings, account.id).get(import_id)
        )

    @put("/{import_id:uuid}/mapping")
    async def set_mapping(
        self,
        db_session: DbSession,
        services: Services,
        account: Account,
        import_id: FromPath[UUID],
        data: JSONBody[MappingBody],
    ) -> ImportOut:
        row = await ImportService(db_session, services.settings, account.id).set_mapping(
            import_id,
            template_version_id=data.template_version_id,
            mapping=data.mapping,
            sheet=data.sheet,
            header_row=data.header_row,
            encoding=data.encoding,
            keep_unmapped=data.keep_unmapped,
        )
        return ImportOut.of(row)

    @post("/{import_id:uuid}/validate", status_code=HTTP_202_ACCEPTED)
    async def validate(
        self, db_session: DbSession, services: Services, account: Account, import_id: FromPath[UUID]
    ) -> ImportOut:
        service = ImportService(db_session, services.settings, account.id)
        return ImportOut.of(await service.start_validation(import_id, services.queue))

    @get("/{import_id:uuid}/validation")
    async def get_validation(
        self, db_session: DbSession, services: Services, account: Account, import_id: FromPath[UUID]
    ) -> Validation:
        service = ImportService(db_session, services.settings, account.id)
        return await service.validation(import_id)

    @post("/{import_id:uuid}/cancel", status_code=200)
    async def cancel(
        self, db_session: DbSession, services: Services, account: Account, import_id: FromPath[UUID]
    ) -> ImportOut:
        service = ImportService(db_session, services.settings, account.id)
        return ImportOut.of(await service.cancel(import_id))

    @get("/{import_id:uuid}/errors")
    async def errors(
        self,
        db_session: DbSession,
        services: Services,
        account: Account,
        import_id: FromPath[UUID],
        page: FromQuery[int] = 1,
        page_size: FromQuery[int] = 50,
        reason: FromQuery[str | None] = None,
    ) -> RowErrorPage:
        if page < 1 or not 1 <= page_size <= 500:
            raise ValidationError(
                "page must be 1 or more and page_size between 1 and 500 "
                f"(got {page} and {page_size}).",
                field="page",
            )
        _check_reason(reason)
        rows, total = await ImportService(db_session, services.settings, account.id).errors(
            import_id, page=page, page_size=page_size, reason=reason
        )
        items = [RowErrorOut(r.row_number, r.column, r.value, r.reason, r.message) for r in rows]
        return RowErrorPage(items, total, page, page_size)

    @get("/{import_id:uuid}/errors.csv", media_type="text/csv")
    async def export_errors(
        self,
        db_session: DbSession,
        services: Services,
        account: Account,
        import_id: FromPath[UUID],
        reason: FromQuery[str | None] = None,
    ) -> Response[bytes]:
        _check_reason(reason)
        report = await ImportService(db_session, services.settings, account.id).error_report(
            import_id, reason
        )
        return Response(
            report.content,
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{report.filename}"'},
        )

    @post("/{import_id:uuid}/stage", status_code=HTTP_202_ACCEPTED)
    async def stage(
        self,
        db_session: DbSession,
        services: Services,
        account: Account,
        import_id: FromPath[UUID],
        data: JSONBody[StageBody],
    ) -> ImportOut:
        service = ImportService(db_session, services.settings, account.id)
        return ImportOut.of(await service.start_staging(import_id, data.name, services.queue))
