"""Imports: upload, mapping, and starting, following and cancelling validation and staging.

Validation and staging run as background jobs (backend.imports.jobs). This service claims an
import for a job, and fails a job whose heartbeat stopped, when the import is next requested.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from uuid import UUID, uuid4

import msgspec
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.batches.models import Batch, Recipient
from backend.core.config import Settings
from backend.core.csv_export import csv_export, export_name, neutralize
from backend.core.errors import (
    ConflictError,
    NotFoundError,
    ServiceUnavailableError,
    ValidationError,
)
from backend.core.queue import IMPORT_JOB_TASK, TaskQueue
from backend.imports.mapping import suggest_mapping
from backend.imports.models import Import, ImportRowError
from backend.imports.presets import apply_saved_mapping
from backend.imports.reading import FileAnalysis, analyze_file, iter_rows
from backend.imports.validation import FieldRule, RowValidator
from backend.templates.models import TemplateVersion
from backend.templates.service import fields_from_json

logger = logging.getLogger(__name__)

DEFAULT_FIELD_NAMES = ["email", "first_name", "last_name"]
ERRORS_IN_SUMMARY = 20
RUNNING_STATUSES = ("validating", "staging")
# A running job writes its heartbeat every HEARTBEAT_INTERVAL_SECONDS, even while a thread
# loads a large workbook. Missing several in a row means its process stopped.
HEARTBEAT_INTERVAL_SECONDS = 10
# NOTE: the claim writes the first heartbeat, so a job still waiting in the queue after this
# long (every worker slot busy) is marked failed too, and skipped when it finally starts.
STALE_AFTER_SECONDS = 90


class Validation(msgspec.Struct):
    total_rows: int
    valid_rows: int
    invalid_rows: int
    duplicate_rows: int
    suppressed_rows: int
    reasons: dict[str, int]
    errors: list[dict[str, Any]]
    mapping_hash: str = ""


class ErrorReport(msgspec.Struct):
    """A CSV of an import's problem rows, ready to send as a download."""

    filename: str
    content: bytes


def problem_rows(
    path: Path, analysis: FileAnalysis, messages: dict[int, str]
) -> Iterator[list[str]]:
    """Yield the original cells of each row in `messages`, then its row number and message.

    The file is read once, as a stream, and reading stops after the last problem row.
    """
    last_row = max(messages, default=0)
    for row_number, cells in iter_rows(path, analysis):
        if row_number > last_row:
            break
        message = messages.get(row_number)
        if message is not None:
            yield [*cells, str(row_number), message]


def start_progress(phase: str, import_: Import) -> dict[str, Any]:
    return {
        "phase": phase,
        "rows_read": 0,
        "valid": 0,
        "invalid": 0,
        "bytes_read": 0,
        "size_bytes": import_.size_bytes,
        "staged": 0,
    }


def field_rules(version: TemplateVersion) -> list[FieldRule]:
    return [
        FieldRule(name=spec.name, required=spec.required, default=spec.default)
        for spec in fields_from_json(version.fields)
        if spec.name != "email"
    ]


def file_analysis(import_: Import) -> FileAnalysis:
    """Rebuild the stored layout of the upload, enough for iter_rows to read it again."""
    return FileAnalysis(
        format=import_.format,  # type: ignore[arg-type]
        encoding=import_.encoding,
        delimiter=import_.delimiter,
        sheets=import_.sheets,
        sheet=import_.sheet,
        header_row=import_.header_row,
        columns=import_.columns,
        sample_rows=[],
    )


async def delete_hidden_batches(session: AsyncSession, import_id: UUID) -> None:
    """Delete the batches of an import still in the hidden "staging" status, with recipients."""
    hidden = select(Batch.id).where(Batch.import_id == import_id, Batch.status == "staging")
    await session.execute(delete(Recipient).where(Recipient.batch_id.in_(hidden)))
    await session.execute(
        delete(Batch).where(Batch.import_id == import_id, Batch.status == "staging")
    )


async def fail_if_stale(session: AsyncSession, import_: Import) -> None:
    """Mark a running job failed when its heartbeat is older than STALE_AFTER_SECONDS.

    Its process was killed or stopped, so nothing else would ever end it.
    """
    if import_.status not in RUNNING_STATUSES:
        return
    now = datetime.now(UTC)
    limit = now - timedelta(seconds=STALE_AFTER_SECONDS)
    if import_.heartbeat_at is not None and import_.heartbeat_at >= limit:
        return

    action = "validation" if import_.status == "validating" else "staging"
    message = (
        f"The {action} stopped: the process running it reported nothing for more than "
        f"{STALE_AFTER_SECONDS} seconds (it was stopped, or no worker is running). Start the "
        f"{action} again."
    )
    failed = await session.execute(
        update(Import)
        .where(
            Import.id == import_.id,
            Import.job_id == import_.job_id,
            Import.status == import_.status,
            (Import.heartbeat_at.is_(None)) | (Import.heartbeat_at < limit),
        )
        .values(status="failed", error=message, updated_at=now)
    )
    if failed.rowcount == 1:  # type: ignore[attr-defined]
        await delete_hidden_batches(session, import_.id)
        logger.warning(
            "stale import job failed",
            extra={"import_id": str(import_.id), "phase": import_.status},
        )
    await session.commit()
    await session.refresh(import_)


def mapping_hash_of(import_: Import) -> str:
    key = msgspec.json.encode(
        [
            str(import_.template_version_id),
            import_.mapping,
            import_.sheet,
            import_.header_row,
            import_.encoding,
        ]
    )
    return hashlib.sha256(key).hexdigest()


class ImportService:
    def __init__(self, session: AsyncSession, settings: Settings, account_id: UUID) -> None:
        self.session = session
        self.settings = settings
        self.account_id = account_id

    async def get(self, import_id: UUID) -> Import:
        row = await self.session.scalar(
            select(Import).where(Import.id == import_id, Import.account_id == self.account_id)
        )
        if row is None:
            raise NotFoundError(f"Import {import_id} was not found.")
        await fail_if_stale(self.session, row)
        return row

    async def create(
        self, path: Path, filename: str, size: int, template_version_id: UUID | None
    ) -> Import:
        analysis = await asyncio.to_thread(analyze_file, path, filename)
        version = await self._version(template_version_id) if template_version_id else None
        field_names = self._field_names(version)
        import_ = Import(
            account_id=self.account_id,
            filename=filename[:255],
            stored_path=str(path),
            size_bytes=size,
            template_version_id=version.id if version else None,
        )
        self._apply_analysis(import_, analysis)
        import_.suggested_mapping = suggest_mapping(analysis.columns, field_names)
        await apply_saved_mapping(self.session, import_, field_names if version else None)
        self.session.add(import_)
        await self.session.commit()
        return import_

    async def set_mapping(
        self,
        import_id: UUID,
        *,
        template_version_id: UUID,
        mapping: dict[str, str | None] | None,
        sheet: str | None,
        header_row: int | None,
        encoding: str | None,
        keep_unmapped: bool = False,
    ) -> Import:
        import_ = await self.get(import_id)
        self._check_not_staged(import_)
        version = await self._version(template_version_id)
        reread = (
            (sheet is not None and sheet != import_.sheet)
            or (header_row is not None and header_row != import_.header_row)
            or (encoding is not None and encoding != import_.encoding)
        )
        if reread:
            analysis = await asyncio.to_thread(
                analyze_file,
                Path(import_.stored_path),
                import_.filename,
                sheet=sheet or import_.sheet,
                header_row=header_row or import_.header_row,
                encoding=encoding or import_.encoding,
            )
            self._apply_analysis(import_, analysis)
        if reread or version.id != import_.template_version_id:
            import_.suggested_mapping = suggest_mapping(import_.columns, self._field_names(version))
        if mapping is None:
            # No mapping given: take the suggestion for this template version.
            mapping = dict(import_.suggested_mapping)

        allowed = set(self._field_names(version))
        for column, field in mapping.items():
            if column not in import_.columns:
                raise ValidationError(
                    f"The mapping names column '{column}', which the file does not have "
                    f"(columns: {', '.join(import_.columns)}).",
                    field="mapping",
                )
            if field is not None and field not in allowed:
                raise ValidationError(
                    f"Column '{column}' is mapped to '{field}', which is not a field of template "
                    f"version {version.number}; use one of {', '.join(sorted(allowed))} or null.",
                    field="mapping",
                )
        targets = [field for field in mapping.values() if field is not None]
        duplicates = sorted({field for field in targets if targets.count(field) > 1})
        if duplicates:
            raise ValidationError(
                f"Several columns are mapped to {', '.join(duplicates)}; "
                "map each field from one column.",
                field="mapping",
            )
        import_.template_version_id = version.id
        import_.mapping = {column: mapping.get(column) for column in import_.columns}
        import_.keep_unmapped = keep_unmapped
        import_.status = "mapped"
        import_.validation = None
        import_.progress = None
        import_.error = ""
        await self.session.commit()
        return import_

    async def start_validation(self, import_id: UUID, queue: TaskQueue) -> Import:
        """Claim the import for a validation job and queue the job.

        The mapping is checked here, so a mapping error is a 400 on the request instead of a
        failed job.
        """
        import_ = await self.get(import_id)
        if import_.status in RUNNING_STATUSES or import_.status == "staged":
            raise ConflictError(
                f"Import {import_.filename} is {import_.status}; it can be validated again only "
                "when it is not being validated or staged and has no batch yet.",
                field="import",
            )
        version = await self._checked_version(import_)
        await self._check_file(import_)

        await self._start_job(import_, "validating", queue, validation=None)
        logger.info(
            "import validation queued",
            extra={"import_id": str(import_.id), "template_version": version.number},
        )
        # The claim's UPDATE set these attributes on import_. Reading the row again could
        # return the status of a job that already ended, and the response is "validating".
        return import_

    async def validation(self, import_id: UUID) -> Validation:
        import_ = await self.get(import_id)
        if import_.validation is None:
            raise ConflictError(
                f"Import {import_.filename} is {import_.status} and has no validation result "
                "yet. Validate it and wait until its status is 'validated'.",
                field="import",
            )
        return msgspec.convert(import_.validation, Validation)

    async def cancel(self, import_id: UUID) -> Import:
        """Mark a running validation or staging cancelled; its job stops at its next chunk."""
        import_ = await self.get(import_id)
        if import_.status not in RUNNING_STATUSES:
            raise ConflictError(
                f"Import {import_.filename} is {import_.status}; only a validation or staging "
                "in progress can be cancelled.",
                field="import",
            )
        cancelled = await self.session.execute(
            update(Import)
            .where(Import.id == import_.id, Import.status.in_(RUNNING_STATUSES))
            .values(status="cancelled", error="")
        )
        await self.session.commit()
        await self.session.refresh(import_)
        if cancelled.rowcount == 1:  # type: ignore[attr-defined]
            logger.info("import job cancelled", extra={"import_id": str(import_.id)})
        # Otherwise the job finished first, and the import shows how it ended.
        return import_

    async def errors(
        self, import_id: UUID, *, page: int, page_size: int, reason: str | None
    ) -> tuple[list[ImportRowError], int]:
        import_ = await self.get(import_id)
        query = select(ImportRowError).where(ImportRowError.import_id == import_.id)
        if reason:
            query = query.where(ImportRowError.reason == reason)
        total = await self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = await self.session.scalars(
            query.order_by(ImportRowError.row_number)
            .offset((page - 1) * page_size)
            .limit(page_size)
        )
        return list(rows.all()), total

    async def error_report(self, import_id: UUID, reason: str | None) -> ErrorReport:
        """Build a CSV of the problem rows with their original cells, to fix and upload again.

        The columns are the file's own columns, then `row_number` and `reason` (the message).
        NOTE: csv_export puts "'" before formula-like cells, a phone number such as "+1 512..."
        too, so the operator removes it before uploading the fixed file.
        """
        import_ = await self.get(import_id)
        if import_.validation is None:
            raise ConflictError(
                f"Import {import_.filename} has not been validated with its current mapping. "
                "Validate it before downloading the error report.",
                field="import",
            )
        path = Path(import_.stored_path)
        if not await asyncio.to_thread(path.is_file):
            logger.warning(
                "import file missing", extra={"import_id": str(import_.id), "path": str(path)}
            )
            raise ConflictError(
                f"The uploaded file of import {import_.filename} is no longer stored. "
                "Upload the file again."
            )

        messages = await self._problem_messages(import_.id, reason)
        header = [neutralize(column) for column in import_.columns] + ["row_number", "reason"]
        rows = problem_rows(path, file_analysis(import_), messages)
        # csv_export consumes the generator, so the file is read in the worker thread.
        content = await asyncio.to_thread(csv_export, header, rows)
        return ErrorReport(f"errors-{export_name(import_.filename)}.csv", content)

    async def start_staging(self, import_id: UUID, name: str, queue: TaskQueue) -> Import:
        """Claim a validated import for a staging job and queue the job.

        A cancelled or failed staging keeps its validation, so it can be started again.
        """
        import_ = await self.get(import_id)
        stageable = import_.status == "validated" or (
            import_.status in ("cancelled", "failed") and import_.validation is not None
        )
        if not stageable:
            raise ConflictError(
                f"Import {import_.filename} is {import_.status}; only a validated import can be "
                "staged. Validate it and wait until its status is 'validated'.",
                field="import",
            )
        validation = import_.validation or {}
        if validation.get("mapping_hash") != mapping_hash_of(import_):
            raise ConflictError(
                "Validate the import with its current mapping before staging it.", field="import"
            )
        if not validation.get("valid_rows"):
            raise ConflictError(
                "The import has no valid rows to stage; fix the file and upload it again."
            )
        name = name.strip() or import_.filename
        if len(name) > 200:
            raise ValidationError(
                f"The batch name has {len(name)} characters; use at most 200.", field="name"
            )
        await self._check_file(import_)

        await self._start_job(import_, "staging", queue, batch_name=name[:200])
        logger.info("import staging queued", extra={"import_id": str(import_.id)})
        return import_

    async def _start_job(
        self,
        import_: Import,
        status: Literal["validating", "staging"],
        queue: TaskQueue,
        *,
        batch_name: str = "",
        **values: Any,
    ) -> None:
        """Move the import into `status` under a new job id, then enqueue that job.

        Of two requests racing (a double click on Stage), only one moves the import out of
        its current status. The other gets 409 instead of a second batch that would mail
        everyone again.
        """
        job_id = uuid4()
        claimed = await self.session.execute(
            update(Import)
            .where(Import.id == import_.id, Import.status == import_.status)
            .values(
                status=status,
                job_id=job_id,
                heartbeat_at=datetime.now(UTC),
                progress=start_progress(status, import_),
                error="",
                **values,
            )
        )
        await self._check_claim(claimed.rowcount, import_)  # type: ignore[attr-defined]
        await self.session.commit()
        await self._enqueue(queue, import_, job_id, batch_name=batch_name)

    async def _check_claim(self, rowcount: int, import_: Import) -> None:
        if rowcount == 1:
            return
        import_id, filename = import_.id, import_.filename
        await self.session.rollback()
        current = await self.session.scalar(select(Import.status).where(Import.id == import_id))
        raise ConflictError(
            f"Import {filename} changed to {current} meanwhile, by another request; reload it "
            "before starting again.",
            field="import",
        )

    async def _enqueue(
        self, queue: TaskQueue, import_: Import, job_id: UUID, batch_name: str = ""
    ) -> None:
        try:
            await queue.enqueue(
                IMPORT_JOB_TASK,
                import_id=str(import_.id),
                job_id=str(job_id),
                batch_name=batch_name,
            )
        except Exception as error:
            logger.exception("import job not queued", extra={"import_id": str(import_.id)})
            await self.session.execute(
                update(Import)
                .where(Import.id == import_.id, Import.job_id == job_id)
                .values(
                    status="failed",
                    error="The job could not be queued because the task queue is unreachable. "
                    "Check that Redis is running, then start it again.",
                )
            )
            await self.session.commit()
            raise ServiceUnavailableError(
                "The task queue is unreachable, so the job was not started. Check that Redis "
                "is running and try again."
            ) from error

    async def _check_file(self, import_: Import) -> None:
        if not await asyncio.to_thread(Path(import_.stored_path).is_file):
            logger.warning(
                "import file missing",
                extra={"import_id": str(import_.id), "path": import_.stored_path},
            )
            raise ConflictError(
                f"The uploaded file of import {import_.filename} is no longer stored. "
                "Upload the file again."
            )

    async def _checked_version(self, import_: Import) -> TemplateVersion:
        """Return the import's template version after checking the mapping against it."""
        if import_.template_version_id is None or import_.mapping is None:
            raise ConflictError(
                "Choose a template version and map the columns first.", field="mapping"
            )
        version = await self._version(import_.template_version_id)
        RowValidator(import_.columns, dict(import_.mapping), field_rules(version))
        return version

    async def _problem_messages(self, import_id: UUID, reason: str | None) -> dict[int, str]:
        """Map each problem row number to its message, joining several with "; "."""
        query = select(ImportRowError.row_number, ImportRowError.message).where(
            ImportRowError.import_id == import_id
        )
        if reason:
            query = query.where(ImportRowError.reason == reason)
        rows = await self.session.execute(query.order_by(ImportRowError.id))
        messages: dict[int, str] = {}
        for row_number, message in rows.tuples():
            known = messages.get(row_number)
            messages[row_number] = message if known is None else f"{known}; {message}"
        return messages

    async def _version(self, version_id: UUID) -> TemplateVersion:
        version = await self.session.scalar(
            select(TemplateVersion).where(
                TemplateVersion.id == version_id, TemplateVersion.account_id == self.account_id
            )
        )
        if version is None:
            raise NotFoundError(
                f"Template version {version_id} was not found.", field="template_version_id"
            )
        return version

    @staticmethod
    def _field_names(version: TemplateVersion | None) -> list[str]:
        if version is None:
            return DEFAULT_FIELD_NAMES
        names = [spec.name for spec in fields_from_json(version.fields)]
        return ["email", *[name for name in names if name != "email"]]

    @staticmethod
    def _apply_analysis(import_: Import, analysis: FileAnalysis) -> None:
        import_.format = analysis.format
        import_.encoding = analysis.encoding
        import_.delimiter = analysis.delimiter
        import_.sheets = analysis.sheets
        import_.sheet = analysis.sheet
        import_.header_row = analysis.header_row
        import_.columns = analysis.columns
        import_.sample_rows = analysis.sample_rows

    @staticmethod
    def _check_not_staged(import_: Import) -> None:
        if import_.status == "staged":
            raise ConflictError(
                f"Import {import_.filename} was already staged as a batch; upload the file again "
                "to stage it once more."
            )
        if import_.status in RUNNING_STATUSES:
            raise ConflictError(
                f"Import {import_.filename} is {import_.status}; cancel it or wait until it "
                "ends before changing its mapping.",
                field="import",
            )
