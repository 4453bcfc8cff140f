"""Imports: upload, mapping, validation against a template version, and staging a batch."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.service import AccountSettingsService
from backend.activity.service import record_activity
from backend.batches.models import Batch, Recipient
from backend.contacts.models import SUBSCRIBED, Contact
from backend.core.config import Settings
from backend.core.csv_export import csv_export, export_name, neutralize
from backend.core.errors import ConflictError, NotFoundError, ValidationError
from backend.imports.mapping import suggest_mapping
from backend.imports.models import Import, ImportRowError
from backend.imports.reading import FileAnalysis, analyze_file, iter_rows
from backend.imports.validation import FieldRule, RowProblem, RowValidator, ValidRow
from backend.templates.models import TemplateVersion
from backend.templates.service import fields_from_json

logger = logging.getLogger(__name__)

DEFAULT_FIELD_NAMES = ["email", "first_name", "last_name"]
ERRORS_IN_SUMMARY = 20
INSERT_CHUNK = 1000


class Validation(msgspec.Struct):
    total_rows: int
    valid_rows: int
    invalid_rows: int
    duplicate_rows: int
    suppressed_rows: int
    reasons: dict[str, int]
    errors: list[dict[str, Any]]
    mapping_hash: str = ""


class ScanResult(msgspec.Struct):
    total_rows: int
    valid: list[ValidRow]
    problems: list[RowProblem]


def scan_file(
    path: Path, analysis: FileAnalysis, mapping: dict[str, str | None], rules: list[FieldRule]
) -> ScanResult:
    """Check every row; CPU-bound, so callers run it in a thread."""
    validator = RowValidator(analysis.columns, mapping, rules)
    valid: list[ValidRow] = []
    problems: list[RowProblem] = []
    total = 0
    for row_number, cells in iter_rows(path, analysis):
        outcome = validator.check(row_number, cells)
        if outcome is None:
            continue
        total += 1
        if isinstance(outcome, RowProblem):
            problems.append(outcome)
        else:
            valid.append(outcome)
    return ScanResult(total, valid, problems)


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


def _mapping_hash(import_: Import) -> str:
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


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


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
        import_.status = "mapped"
        import_.validation = None
        await self.session.commit()
        return import_

    async def validate(self, import_id: UUID) -> Validation:
        import_ = await self.get(import_id)
        self._check_not_staged(import_)
        version, scan = await self._scan(import_)
        suppressed_keys = await self._suppressed_keys([row.email_key for row in scan.valid])

        await self.session.execute(
            delete(ImportRowError).where(ImportRowError.import_id == import_.id)
        )
        for chunk in _chunks(scan.problems, INSERT_CHUNK):
            await self.session.execute(
                insert(ImportRowError),
                [
                    {
                        "import_id": import_.id,
                        "row_number": problem.row_number,
                        "column": problem.column,
                        "value": problem.value[:1000],
                        "reason": problem.reason,
                        "message": problem.message,
                    }
                    for problem in chunk
                ],
            )
        reasons = {"invalid_email": 0, "missing_required": 0, "invalid_value": 0, "duplicate": 0}
        for problem in scan.problems:
            reasons[problem.reason] = reasons.get(problem.reason, 0) + 1
        validation = Validation(
            total_rows=scan.total_rows,
            valid_rows=len(scan.valid),
            invalid_rows=reasons["invalid_email"]
            + reasons["missing_required"]
            + reasons["invalid_value"],
            duplicate_rows=reasons["duplicate"],
            suppressed_rows=sum(1 for row in scan.valid if row.email_key in suppressed_keys),
            reasons=reasons,
            errors=[msgspec.to_builtins(problem) for problem in scan.problems[:ERRORS_IN_SUMMARY]],
            mapping_hash=_mapping_hash(import_),
        )
        import_.validation = msgspec.to_builtins(validation)
        import_.status = "validated"
        record_activity(
            self.session,
            self.account_id,
            "import_validated",
            f"Validated {import_.filename} against template version {version.number}: "
            f"{validation.valid_rows} valid, {validation.invalid_rows} invalid, "
            f"{validation.duplicate_rows} duplicates, {validation.suppressed_rows} suppressed.",
            subject_type="import",
            subject_id=import_.id,
        )
        await self.session.commit()
        return validation

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
        rows = problem_rows(path, self._analysis(import_), messages)
        # csv_export consumes the generator, so the file is read in the worker thread.
        content = await asyncio.to_thread(csv_export, header, rows)
        return ErrorReport(f"errors-{export_name(import_.filename)}.csv", content)

    async def stage(self, import_id: UUID, name: str) -> Batch:
        import_ = await self.get(import_id)
        self._check_not_staged(import_)
        validation = import_.validation
        if validation is None or validation.get("mapping_hash") != _mapping_hash(import_):
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
        # Claim the import before the slow part. Of two stage requests racing (a double
        # click), only one moves it out of "validated". The other gets 409 instead of
        # creating a second batch that would mail everyone again.
        claimed = await self.session.execute(
            update(Import)
            .where(Import.id == import_.id, Import.status == "validated")
            .values(status="staged")
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            filename = import_.filename
            await self.session.rollback()
            raise ConflictError(
                f"Import {filename} is already being staged; open its batch instead."
            )

        version, scan = await self._scan(import_)
        delivery = await AccountSettingsService(
            self.session, self.settings, self.account_id
        ).delivery_config()
        batch = Batch(
            account_id=self.account_id,
            import_id=import_.id,
            name=name[:200],
            template_id=version.template_id,
            template_version_id=version.id,
            subject=version.subject,
            sender_email=delivery.sender_email,
            sender_name=delivery.sender_name,
            transport=delivery.transport,
            total=len(scan.valid),
        )
        self.session.add(batch)
        await self.session.flush()

        contacts = await self._upsert_contacts(scan.valid)
        now = datetime.now(UTC)
        for chunk in _chunks(scan.valid, INSERT_CHUNK):
            values = []
            for row in chunk:
                contact = contacts[row.email_key]
                suppressed = contact.status != SUBSCRIBED
                values.append(
                    {
                        "batch_id": batch.id,
                        "account_id": self.account_id,
                        "contact_id": contact.id,
                        "email": row.email,
                        "row_number": row.row_number,
                        "fields": row.fields,
                        "status": "unsubscribed" if suppressed else "staged",
                        "error": f"Skipped: the contact is {contact.status}." if suppressed else "",
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            await self.session.execute(insert(Recipient), values)

        import_.status = "staged"
        import_.batch_id = batch.id
        record_activity(
            self.session,
            self.account_id,
            "batch_staged",
            f"Staged batch '{batch.name}' with {batch.total} recipients from {import_.filename}.",
            subject_type="batch",
            subject_id=batch.id,
        )
        await self.session.commit()
        logger.info("batch staged", extra={"batch_id": str(batch.id), "recipients": batch.total})
        return batch

    async def _scan(self, import_: Import) -> tuple[TemplateVersion, ScanResult]:
        if import_.template_version_id is None or import_.mapping is None:
            raise ConflictError(
                "Choose a template version and map the columns first.", field="mapping"
            )
        version = await self._version(import_.template_version_id)
        rules = [
            FieldRule(name=spec.name, required=spec.required, default=spec.default)
            for spec in fields_from_json(version.fields)
            if spec.name != "email"
        ]
        mapping = dict(import_.mapping)
        scan = await asyncio.to_thread(
            scan_file, Path(import_.stored_path), self._analysis(import_), mapping, rules
        )
        return version, scan

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

    async def _upsert_contacts(self, rows: list[ValidRow]) -> dict[str, Contact]:
        """Create missing contacts and merge new attributes into existing ones.

        An existing contact's status is never changed here, so an import cannot resubscribe
        anyone.
        """
        found: dict[str, Contact] = {}
        for chunk in _chunks(rows, INSERT_CHUNK):
            keys = [row.email_key for row in chunk]
            existing = await self.session.scalars(
                select(Contact).where(
                    Contact.account_id == self.account_id, Contact.email_key.in_(keys)
                )
            )
            found.update({contact.email_key: contact for contact in existing})
            for row in chunk:
                attributes = {
                    key: value for key, value in row.fields.items() if key != "email" and value
                }
                name = " ".join(
                    filter(None, [row.fields.get("first_name"), row.fields.get("last_name")])
                )
                contact = found.get(row.email_key)
                if contact is None:
                    contact = Contact(
                        account_id=self.account_id,
                        email=row.email,
                        email_key=row.email_key,
                        name=name[:200],
                        attributes=attributes,
                    )
                    self.session.add(contact)
                    found[row.email_key] = contact
                else:
                    contact.attributes = {**contact.attributes, **attributes}
                    contact.name = name[:200] or contact.name
            await self.session.flush()
        return found

    async def _suppressed_keys(self, keys: list[str]) -> set[str]:
        suppressed: set[str] = set()
        for chunk in _chunks(keys, INSERT_CHUNK):
            rows = await self.session.scalars(
                select(Contact.email_key).where(
                    Contact.account_id == self.account_id,
                    Contact.email_key.in_(chunk),
                    Contact.status != SUBSCRIBED,
                )
            )
            suppressed.update(rows)
        return suppressed

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
    def _analysis(import_: Import) -> FileAnalysis:
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
