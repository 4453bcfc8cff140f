"""Validation and staging of an import as a background job (the Taskiq task `imports.run_job`).

The API claims the import (status `validating` or `staging`, a new `job_id`) and queues the
job. The job reads the upload CHUNK_ROWS rows at a time in a thread, so the event loop stays
free. It writes each chunk in one transaction that starts with a fence: an UPDATE of the
import row that matches only while the import still has this job's id and status. A cancel
(status `cancelled`), a newer start (another `job_id`) or a stale-job failure makes the fence
match nothing, so the job stops at its next chunk, whichever process runs it.

Staging writes into a batch in the hidden status `staging` and flips it to `staged` in the
same transaction that marks the import staged. A failed or cancelled staging deletes it.

Validation also writes the valid rows it found, with their attributes, to a rows file next to
the upload (RowsFile). Staging reads that file instead of reading and checking the upload
again, which took about a third of a staging job's CPU time (py-spy, 100k-row CSV). When the
file is missing, staging reads and checks the upload as validation did.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import hashlib
import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import IO, Any
from uuid import UUID, uuid4

import msgspec
from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.service import AccountSettingsService
from backend.activity.service import record_activity
from backend.batches.models import Batch, Recipient
from backend.core.config import Settings
from backend.core.database import Database
from backend.core.errors import AppError, ConflictError
from backend.core.events import Event, EventPublisher
from backend.imports.bulk import count_suppressed, insert_recipients, upsert_contacts
from backend.imports.models import Import, ImportRowError
from backend.imports.reading import ReadPosition, iter_rows, trim
from backend.imports.service import (
    ERRORS_IN_SUMMARY,
    HEARTBEAT_INTERVAL_SECONDS,
    RUNNING_STATUSES,
    Validation,
    delete_hidden_batches,
    field_rules,
    file_analysis,
    mapping_hash_of,
)
from backend.imports.validation import FieldRule, RowProblem, RowValidator, ValidRow
from backend.templates.models import TemplateVersion

logger = logging.getLogger(__name__)

# Rows read, checked and written per transaction. 10,000 rows keep a chunk's memory to a few
# megabytes and SQLite's IN (...) list of a chunk's keys under its limit of 32,766 bound
# parameters (Postgres gets arrays). 5,000 took more statements for the same work.
CHUNK_ROWS = 10_000
PROGRESS_INTERVAL_SECONDS = 0.5
# Chunks of a staging written at the same time on Postgres, each in its own transaction.
STAGING_WRITERS = 2
MAX_VALUE_IN_ERROR = 1000


class JobStopped(Exception):
    """The import no longer belongs to this job: it was cancelled, restarted or failed."""


@dataclass
class Progress:
    phase: str
    size_bytes: int
    rows_read: int = 0
    valid: int = 0
    invalid: int = 0
    bytes_read: int = 0
    staged: int = 0


@dataclass
class Chunk:
    """The checked rows of one chunk. When staging, `attributes[i]` belongs to `valid[i]`."""

    rows_read: int = 0
    valid: list[ValidRow] = field(default_factory=list)
    attributes: list[dict[str, str]] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    # Problem rows read from a rows file, which keeps only their count.
    invalid: int = 0
    bytes_read: int = 0
    last: bool = False


class SpooledChunk(msgspec.Struct, array_like=True):
    """One chunk of a rows file: counts of the rows read, and the valid rows with attributes."""

    rows_read: int
    invalid: int
    valid: list[ValidRow]
    attributes: list[dict[str, str]]


_FRAME_LENGTH_BYTES = 4
_spooled_chunk = msgspec.msgpack.Decoder(SpooledChunk)


class RowsFile:
    """The valid rows that validation found, stored for staging, one msgpack frame per chunk.

    The name contains a hash of everything that decides the rows: the mapping hash (template
    version, mapping, sheet, header row, encoding), the template's field rules and whether
    unmapped columns are kept. A rows file with the right name is complete: validation writes
    a `.partial` file and renames it only after its last chunk. Any change of mapping needs a
    new validation, which deletes the import's older rows files first.
    NOTE: only a successful staging deletes the file, so an import validated but never staged
    keeps it (about 220 bytes per valid row) as long as its upload is kept.
    """

    def __init__(self, import_: Import, rules: list[FieldRule]) -> None:
        key = msgspec.json.encode(
            [mapping_hash_of(import_), rules, import_.keep_unmapped, _kept_columns(import_)]
        )
        digest = hashlib.sha256(key).hexdigest()[:24]
        self.path = Path(f"{import_.stored_path}.{digest}.rows")
        self._partial = self.path.with_name(f"{self.path.name}.{uuid4().hex}.partial")
        self._file: IO[bytes] | None = None

    @staticmethod
    def delete_all(import_: Import) -> None:
        """Delete the import's rows files, complete or partial. Runs in a thread."""
        upload = Path(import_.stored_path)
        for path in upload.parent.glob(f"{glob.escape(upload.name)}.*.rows*"):
            path.unlink(missing_ok=True)

    def write(self, chunk: Chunk) -> None:
        if self._file is None:
            self._file = self._partial.open("wb")
        frame = msgspec.msgpack.encode(
            SpooledChunk(chunk.rows_read, len(chunk.problems), chunk.valid, chunk.attributes)
        )
        self._file.write(len(frame).to_bytes(_FRAME_LENGTH_BYTES, "little"))
        self._file.write(frame)

    def finish(self) -> None:
        if self._file is None:
            self._file = self._partial.open("wb")
        self._file.close()
        os.replace(self._partial, self.path)

    def abort(self) -> None:
        if self._file is not None and not self._file.closed:
            self._file.close()
        self._partial.unlink(missing_ok=True)


class RowsFileReader:
    """Read a rows file one chunk per call, with the interface of ChunkReader."""

    def __init__(self, path: Path, size_bytes: int) -> None:
        self._file = path.open("rb")
        self._length = os.fstat(self._file.fileno()).st_size
        # Progress bars compare bytes_read with the upload's size.
        self._size_bytes = size_bytes
        self._lock = threading.Lock()

    def read(self) -> Chunk:
        with self._lock:
            head = self._file.read(_FRAME_LENGTH_BYTES)
            if not head:
                return Chunk(bytes_read=self._size_bytes, last=True)
            spooled = _spooled_chunk.decode(self._file.read(int.from_bytes(head, "little")))
            position = self._file.tell()
            return Chunk(
                rows_read=spooled.rows_read,
                valid=spooled.valid,
                attributes=spooled.attributes,
                invalid=spooled.invalid,
                bytes_read=self._size_bytes * position // max(self._length, 1),
                last=position >= self._length,
            )

    def close(self) -> None:
        with self._lock:
            self._file.close()


def _kept_columns(import_: Import) -> list[tuple[str, int]]:
    """Return the (header, index) of the unmapped columns to keep as contact attributes."""
    if not import_.keep_unmapped:
        return []
    mapping = import_.mapping or {}
    return [
        (column, index) for index, column in enumerate(import_.columns) if not mapping.get(column)
    ]


class ChunkReader:
    """Read and check an upload's rows one chunk per call. Calls run in a thread, one at a time.

    `kept_columns` lists the (header, index) of unmapped columns to keep as contact
    attributes. With `rows_file`, the valid rows of each chunk are written to it too.
    """

    def __init__(
        self,
        import_: Import,
        validator: RowValidator,
        kept_columns: list[tuple[str, int]],
        rows_file: RowsFile | None = None,
    ) -> None:
        self.position = ReadPosition()
        self.rows: Iterator[tuple[int, list[str]]] = iter_rows(
            Path(import_.stored_path),
            file_analysis(import_),
            filename=import_.filename,
            position=self.position,
        )
        self.validator = validator
        self.kept_columns = kept_columns
        self.rows_file = rows_file
        # A cancelled job closes the reader while a thread may still be reading a chunk.
        # Closing a running generator raises ValueError, so close() waits for read().
        self._lock = threading.Lock()

    def read(self) -> Chunk:
        with self._lock:
            chunk = self._read()
            if self.rows_file is not None:
                self.rows_file.write(chunk)
                if chunk.last:
                    self.rows_file.finish()
                    self.rows_file = None
            return chunk

    def close(self) -> None:
        with self._lock:
            close = getattr(self.rows, "close", None)
            if close is not None:
                close()
            if self.rows_file is not None:
                self.rows_file.abort()

    def _read(self) -> Chunk:
        chunk = Chunk()
        seen = 0
        for row_number, cells in islice(self.rows, CHUNK_ROWS):
            seen += 1
            outcome = self.validator.check(row_number, cells)
            if outcome is None:
                continue
            chunk.rows_read += 1
            if isinstance(outcome, RowProblem):
                chunk.problems.append(outcome)
                continue
            chunk.valid.append(outcome)
            chunk.attributes.append(self._attributes(outcome, cells))
        chunk.last = seen < CHUNK_ROWS
        chunk.bytes_read = self.position.bytes_read
        return chunk

    def _attributes(self, row: ValidRow, cells: list[str]) -> dict[str, str]:
        # Empty cells are left out, so they never overwrite a stored attribute.
        attributes: dict[str, str] = {}
        for header, index in self.kept_columns:
            value = trim(cells[index]) if index < len(cells) else ""
            if value:
                attributes[header] = value
        for name, value in row.fields.items():
            if name != "email" and value:
                attributes[name] = value
        return attributes


async def run_import_job(
    database: Database,
    publisher: EventPublisher,
    settings: Settings,
    import_id: UUID,
    job_id: UUID,
    batch_name: str = "",
) -> None:
    """Run the validation or staging that the API claimed for `import_id` under `job_id`."""
    await ImportJob(database, publisher, settings, import_id, job_id, batch_name).run()


class ImportJob:
    def __init__(
        self,
        database: Database,
        publisher: EventPublisher,
        settings: Settings,
        import_id: UUID,
        job_id: UUID,
        batch_name: str,
    ) -> None:
        self.database = database
        self.publisher = publisher
        self.settings = settings
        self.import_id = import_id
        self.job_id = job_id
        self.batch_name = batch_name
        self.account_id: UUID | None = None
        self.phase = ""
        self.progress = Progress(phase="", size_bytes=0)
        self.batch_id: UUID | None = None
        self._last_report = 0.0
        self._report_pending = False

    async def run(self) -> None:
        import_ = await self._claim()
        if import_ is None:
            # Cancelled or restarted before it started, or already run: the Redis stream
            # broker delivers a task again when its worker stops before acknowledging it.
            logger.info("import job skipped", extra={"import_id": str(self.import_id)})
            return

        self.account_id = import_.account_id
        self.phase = import_.status
        self.progress = Progress(phase=self.phase, size_bytes=import_.size_bytes)
        started = time.monotonic()
        logger.info("import job started", extra={"import_id": str(import_.id), "phase": self.phase})
        heartbeat = asyncio.create_task(self._beat())
        outcome = "finished"
        try:
            if self.phase == "validating":
                await self._validate(import_)
            else:
                await self._stage(import_)
        except JobStopped:
            outcome = "stopped"
            await self._stopped()
        except asyncio.CancelledError:
            # The embedded default cancels its running tasks when the server shuts down.
            outcome = "interrupted"
            action = "validation" if self.phase == "validating" else "staging"
            await self._fail(
                f"The {action} was interrupted because the server stopped. Start the "
                f"{action} again."
            )
            raise
        except AppError as error:
            outcome = "failed"
            await self._fail(error.message)
        except Exception as error:
            outcome = "failed"
            logger.exception("import job failed", extra={"import_id": str(self.import_id)})
            action = "validation" if self.phase == "validating" else "staging"
            await self._fail(
                f"The {action} failed because of an internal error ({type(error).__name__}). "
                f"Start the {action} again; if it fails again, check the server log."
            )
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
        logger.info(
            "import job ended",
            extra={
                "import_id": str(self.import_id),
                "phase": self.phase,
                "outcome": outcome,
                "rows": self.progress.rows_read,
                "duration_ms": round((time.monotonic() - started) * 1000),
            },
        )

    async def _claim(self) -> Import | None:
        """Replace the queued job id with a new one, so only one run of a queued job proceeds."""
        run_id = uuid4()
        async with self.database.session() as session:
            claimed = await session.execute(
                update(Import)
                .where(
                    Import.id == self.import_id,
                    Import.job_id == self.job_id,
                    Import.status.in_(RUNNING_STATUSES),
                )
                .values(job_id=run_id, heartbeat_at=_now())
            )
            await session.commit()
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                return None
            self.job_id = run_id
            return await session.get(Import, self.import_id)

    # Validation

    async def _validate(self, import_: Import) -> None:
        async with self.database.session() as session:
            version = await self._version(session, import_)
            await self._fence(session)
            await session.execute(
                delete(ImportRowError).where(ImportRowError.import_id == import_.id)
            )
            await session.commit()

        rules = field_rules(version)
        await asyncio.to_thread(RowsFile.delete_all, import_)
        validator = RowValidator(import_.columns, dict(import_.mapping or {}), rules)
        reasons = {"invalid_email": 0, "missing_required": 0, "invalid_value": 0, "duplicate": 0}
        first_problems: list[RowProblem] = []
        suppressed = 0
        reader = ChunkReader(import_, validator, _kept_columns(import_), RowsFile(import_, rules))
        async for chunk in self._chunks(reader):
            async with self.database.session() as session:
                await self._fence(session)
                suppressed += await count_suppressed(
                    session, import_.account_id, [row.email_key for row in chunk.valid]
                )
                await self._insert_problems(session, chunk.problems)
                await session.commit()
            for problem in chunk.problems:
                reasons[problem.reason] = reasons.get(problem.reason, 0) + 1
            first_problems.extend(chunk.problems[: ERRORS_IN_SUMMARY - len(first_problems)])
            await self._report()

        validation = Validation(
            total_rows=self.progress.rows_read,
            valid_rows=self.progress.valid,
            invalid_rows=reasons["invalid_email"]
            + reasons["missing_required"]
            + reasons["invalid_value"],
            duplicate_rows=reasons["duplicate"],
            suppressed_rows=suppressed,
            reasons=reasons,
            errors=[msgspec.to_builtins(problem) for problem in first_problems],
            mapping_hash=mapping_hash_of(import_),
        )
        async with self.database.session() as session:
            await self._finish(session, "validated", validation=msgspec.to_builtins(validation))
            record_activity(
                session,
                import_.account_id,
                "import_validated",
                f"Validated {import_.filename} against template version {version.number}: "
                f"{validation.valid_rows} valid, {validation.invalid_rows} invalid, "
                f"{validation.duplicate_rows} duplicates, {validation.suppressed_rows} "
                "suppressed.",
                subject_type="import",
                subject_id=import_.id,
            )
            await session.commit()
        await self._publish_finished("validated")

    async def _insert_problems(self, session: AsyncSession, problems: list[RowProblem]) -> None:
        if not problems:
            return
        await session.execute(
            insert(ImportRowError),
            [
                {
                    "import_id": self.import_id,
                    "row_number": problem.row_number,
                    "column": problem.column,
                    "value": problem.value[:MAX_VALUE_IN_ERROR],
                    "reason": problem.reason,
                    "message": problem.message,
                }
                for problem in problems
            ],
        )

    # Staging

    async def _stage(self, import_: Import) -> None:
        async with self.database.session() as session:
            version = await self._version(session, import_)
            delivery = await AccountSettingsService(
                session, self.settings, import_.account_id
            ).delivery_config()
            await self._fence(session)
            # A staging of this import whose process died may have left its hidden batch.
            await delete_hidden_batches(session, import_.id)
            batch = Batch(
                account_id=import_.account_id,
                import_id=import_.id,
                name=self.batch_name or import_.filename[:200],
                status="staging",
                template_id=version.template_id,
                template_version_id=version.id,
                subject=version.subject,
                sender_email=delivery.sender_email,
                sender_name=delivery.sender_name,
                transport=delivery.transport,
                total=0,
            )
            session.add(batch)
            await session.commit()
            self.batch_id = batch.id

        rules = field_rules(version)
        rows_file = RowsFile(import_, rules).path
        reader: ChunkReader | RowsFileReader
        if await asyncio.to_thread(rows_file.is_file):
            reader = RowsFileReader(rows_file, import_.size_bytes)
        else:
            # Validated before rows files existed, or the file was removed: check again.
            validator = RowValidator(import_.columns, dict(import_.mapping or {}), rules)
            reader = ChunkReader(import_, validator, _kept_columns(import_))
        # Postgres writes two chunks at once, each in its own transaction, so its index
        # upkeep runs on two cores while this process encodes the rows; SQLite writes one.
        writers = STAGING_WRITERS if self.database.is_postgres else 1
        writes: list[asyncio.Task[None]] = []
        try:
            async for chunk in self._chunks(reader):
                if chunk.valid:
                    # Counted first, so a fence stores at least the rows committed so far.
                    self.progress.staged += len(chunk.valid)
                    if len(writes) >= writers:
                        await writes.pop(0)
                    writes.append(asyncio.create_task(self._write_chunk(batch, chunk)))
                await self._report()
            while writes:
                await writes.pop(0)
        finally:
            # After a failed write, the others are stopped and rolled back before the job
            # deletes the batch.
            for write in writes:
                write.cancel()
            await asyncio.gather(*writes, return_exceptions=True)

        async with self.database.session() as session:
            await self._finish(session, "staged", batch_id=batch.id)
            await session.execute(
                update(Batch)
                .where(Batch.id == batch.id, Batch.status == "staging")
                .values(status="staged", total=self.progress.staged, updated_at=_now())
            )
            record_activity(
                session,
                import_.account_id,
                "batch_staged",
                f"Staged batch '{batch.name}' with {self.progress.staged} recipients from "
                f"{import_.filename}.",
                subject_type="batch",
                subject_id=batch.id,
            )
            await session.commit()
        # A staged import cannot be staged again, so its rows are not needed any more.
        await asyncio.to_thread(RowsFile.delete_all, import_)
        logger.info(
            "batch staged", extra={"batch_id": str(batch.id), "recipients": self.progress.staged}
        )
        await self._publish_finished("staged")

    async def _write_chunk(self, batch: Batch, chunk: Chunk) -> None:
        """Write one chunk's contacts and recipients in one transaction, fenced at its end.

        The fence comes last because its UPDATE locks the import row until the commit, and
        a fence first would make a second chunk's transaction wait for the whole first one.
        """
        async with self.database.session() as session:
            await self._write_recipients(session, batch, chunk)
            await self._fence(session)
            await session.commit()

    async def _write_recipients(self, session: AsyncSession, batch: Batch, chunk: Chunk) -> None:
        now = _now()
        assert self.account_id is not None
        contacts = await upsert_contacts(
            session, self.account_id, list(zip(chunk.valid, chunk.attributes, strict=True)), now
        )
        await insert_recipients(session, batch.id, self.account_id, chunk.valid, contacts, now)

    # Shared steps

    async def _chunks(self, reader: ChunkReader | RowsFileReader) -> AsyncIterator[Chunk]:
        """Yield checked chunks, each read in a thread; a workbook loads in the first one.

        The next chunk is read while the caller writes the current one, so reading and the
        database work overlap.
        """
        # One reader thread per job: glibc malloc can serve each thread from its own arena,
        # and chunks spread over the pool behind asyncio.to_thread could grow several.
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-reader")
        loop = asyncio.get_running_loop()
        pending = loop.run_in_executor(executor, reader.read)
        try:
            while True:
                chunk = await pending
                if not chunk.last:
                    pending = loop.run_in_executor(executor, reader.read)
                self.progress.rows_read += chunk.rows_read
                self.progress.valid += len(chunk.valid)
                self.progress.invalid += len(chunk.problems) + chunk.invalid
                self.progress.bytes_read = chunk.bytes_read
                yield chunk
                if chunk.last:
                    break
        finally:
            # A read still running finishes in its thread, and close() waits for it. A read
            # that failed after the job stopped has nothing left to report.
            if pending.done() and not pending.cancelled():
                pending.exception()
            pending.cancel()
            await loop.run_in_executor(executor, reader.close)
            executor.shutdown(wait=False)

    async def _version(self, session: AsyncSession, import_: Import) -> TemplateVersion:
        version = (
            await session.get(TemplateVersion, import_.template_version_id)
            if import_.template_version_id
            else None
        )
        if version is None or import_.mapping is None:
            raise ConflictError(
                "The import has no template version or mapping any more. Choose a template "
                "version, map the columns and start again."
            )
        return version

    async def _fence(self, session: AsyncSession) -> None:
        """Write the heartbeat, and progress when due; raise JobStopped if the import moved on."""
        values: dict[str, Any] = {"heartbeat_at": _now()}
        if time.monotonic() - self._last_report >= PROGRESS_INTERVAL_SECONDS:
            values["progress"] = asdict(self.progress)
            self._last_report = time.monotonic()
            self._report_pending = True
        result = await session.execute(
            update(Import)
            .where(
                Import.id == self.import_id,
                Import.job_id == self.job_id,
                Import.status == self.phase,
            )
            .values(**values)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            await session.rollback()
            raise JobStopped

    async def _finish(self, session: AsyncSession, status: str, **values: Any) -> None:
        result = await session.execute(
            update(Import)
            .where(
                Import.id == self.import_id,
                Import.job_id == self.job_id,
                Import.status == self.phase,
            )
            .values(
                status=status,
                progress=asdict(self.progress),
                heartbeat_at=_now(),
                error="",
                **values,
            )
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            await session.rollback()
            raise JobStopped

    async def _report(self) -> None:
        """Publish progress after a fence stored it, so at most every PROGRESS_INTERVAL_SECONDS."""
        if not self._report_pending:
            return
        self._report_pending = False
        event: Event = {
            "type": "import.progress",
            "import_id": str(self.import_id),
            "status": self.phase,
            **asdict(self.progress),
        }
        await self._publish(event)

    async def _beat(self) -> None:
        """Keep the heartbeat fresh while a chunk takes long, such as a workbook loading."""
        while True:
            await asyncio.sleep(HEARTBEAT_INTERVAL_SECONDS)
            try:
                async with self.database.session() as session:
                    await session.execute(
                        update(Import)
                        .where(Import.id == self.import_id, Import.job_id == self.job_id)
                        .values(heartbeat_at=_now())
                    )
                    await session.commit()
            except Exception:
                logger.warning(
                    "import heartbeat not written",
                    extra={"import_id": str(self.import_id)},
                    exc_info=True,
                )

    async def _fail(self, message: str) -> None:
        async with self.database.session() as session:
            result = await session.execute(
                update(Import)
                .where(
                    Import.id == self.import_id,
                    Import.job_id == self.job_id,
                    Import.status == self.phase,
                )
                .values(status="failed", error=message, progress=asdict(self.progress))
            )
            await self._delete_batch(session)
            await session.commit()
        if result.rowcount == 1:  # type: ignore[attr-defined]
            logger.warning(
                "import job failed", extra={"import_id": str(self.import_id), "error": message}
            )
            await self._publish_finished("failed", message)

    async def _stopped(self) -> None:
        async with self.database.session() as session:
            await self._delete_batch(session)
            await session.commit()
            current = await session.execute(
                select(Import.status, Import.job_id).where(Import.id == self.import_id)
            )
            row = current.first()
        if row is not None and row.job_id == self.job_id and row.status == "cancelled":
            await self._publish_finished("cancelled")

    async def _delete_batch(self, session: AsyncSession) -> None:
        if self.batch_id is None:
            return
        await session.execute(delete(Recipient).where(Recipient.batch_id == self.batch_id))
        await session.execute(
            delete(Batch).where(Batch.id == self.batch_id, Batch.status == "staging")
        )

    async def _publish_finished(self, status: str, error: str = "") -> None:
        await self._publish(
            {
                "type": "import.finished",
                "import_id": str(self.import_id),
                "status": status,
                "error": error,
                "batch_id": str(self.batch_id) if status == "staged" else None,
            }
        )

    async def _publish(self, event: Event) -> None:
        if self.account_id is None:
            return
        try:
            await self.publisher.publish(self.account_id, [event])
        except Exception:
            # Live events are a convenience, because the import row stores the same state.
            logger.warning(
                "import event not published",
                extra={"import_id": str(self.import_id), "type": event["type"]},
                exc_info=True,
            )


def _now() -> datetime:
    return datetime.now(UTC)
