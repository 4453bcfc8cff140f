"""Read contact exports: detect format, encoding, delimiter, sheet and header row, then stream rows.

Text files (CSV, TSV, TXT) are streamed with the csv module and never loaded whole. Workbooks
(XLSX, XLS, ODS) are read by python-calamine, which loads one whole sheet into memory, so their
file size and row count are capped. Row numbers are the ones a spreadsheet shows: the first
record of a text file is row 1, and a quoted field with line breaks stays inside one row.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import statistics
import zipfile
import zlib
from collections import Counter
from collections.abc import Generator, Iterator
from contextlib import closing
from itertools import chain, islice
from pathlib import Path
from typing import Literal

import msgspec
import python_calamine

from backend.core.errors import UnsupportedFileError, ValidationError

FileFormat = Literal["csv", "xlsx", "xls", "ods"]

# Calamine loads a whole sheet into memory, so workbooks are capped. CSV files are streamed and
# have no cap here.
MAX_WORKBOOK_BYTES = 50 * 1024 * 1024
MAX_SHEET_ROWS = 1_000_000

# Zip bomb guard, read from the zip directory before calamine inflates anything. The HubSpot
# export in tests/fixtures compresses its sheet 7.7:1, so 100:1 on a large entry is suspect.
MAX_ZIP_UNCOMPRESSED_BYTES = 500 * 1024 * 1024
MAX_ZIP_COMPRESSION_RATIO = 100
ZIP_RATIO_MIN_ENTRY_BYTES = 10 * 1024 * 1024

# The csv module's default limit is 131,072 characters per field.
CSV_FIELD_SIZE_LIMIT = 64 * 1024 * 1024

DELIMITERS = (",", ";", "\t", "|")
SAMPLE_ROW_COUNT = 5
HEADER_SCAN_ROWS = 30
MAX_TITLE_ROWS = 10
ANALYSIS_SHEET_ROWS = 1000

ACCEPTED_FORMATS = "a CSV, TSV or TXT file, or an XLSX, XLS or ODS workbook"

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"
_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
_KNOWN_BINARY_KINDS = (
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"PK\x05\x06", "an empty zip archive"),
)
_EXCEL_SEPARATOR_LINE = re.compile(r"sep=(?P<delimiter>[^\r\n])(?:\r\n|\r|\n)")
_TEXT_SAMPLE_CHARS = 64 * 1024
_MAX_TEXT_SAMPLE_CHARS = 4 * 1024 * 1024
_DELIMITER_SAMPLE_RECORDS = 100
_UTF8_CHECK_CHUNK_BYTES = 1024 * 1024
_MAX_CONTROL_CHAR_SHARE = 0.01
_ALLOWED_CONTROL_CHARS = frozenset("\t\n\r\f")

# str.strip() already removes Unicode whitespace such as the no-break space; exports also carry
# zero-width spaces and stray byte order marks that it keeps.
_INVISIBLE_CHARS = "\u200b\u200c\u200d\u2060\ufeff"


class FileAnalysis(msgspec.Struct):
    """Detected layout of an upload, enough for iter_rows to stream its rows again."""

    format: FileFormat
    encoding: str | None
    delimiter: str | None
    sheets: list[str]
    sheet: str | None
    header_row: int
    columns: list[str]
    sample_rows: list[list[str]]


class ReadPosition:
    """How many bytes of a text upload iter_rows has read, for progress bars.

    The count runs ahead of the parsed rows by at most one read buffer (8 KiB). It stays 0
    for workbooks, which calamine loads whole.
    """

    def __init__(self) -> None:
        self._file: io.RawIOBase | None = None
        self._last = 0

    @property
    def bytes_read(self) -> int:
        if self._file is not None and not self._file.closed:
            self._last = self._file.tell()
        return self._last

    def follow(self, file: io.RawIOBase) -> None:
        self._file = file

    def release(self) -> None:
        """Keep the final count before the file closes."""
        if self._file is not None and not self._file.closed:
            self._last = self._file.tell()
        self._file = None


def trim(value: str) -> str:
    """Strip whitespace, including no-break and zero-width spaces, from both ends."""
    return value.strip().strip(_INVISIBLE_CHARS).strip()


def analyze_file(
    path: Path,
    filename: str,
    *,
    sheet: str | None = None,
    header_row: int | None = None,
    encoding: str | None = None,
) -> FileAnalysis:
    """Detect how to read an upload and return its columns and first data rows.

    `sheet`, `header_row` and `encoding` override detection. `filename` is the name the
    operator uploaded, used in messages. Raises UnsupportedFileError for files that are not
    text or a workbook, and ValidationError for unreadable, oversized or empty ones.
    """
    if header_row is not None and header_row < 1:
        raise ValidationError(
            f"Header row {header_row} is invalid: row numbers start at 1.", field="header_row"
        )

    if path.stat().st_size == 0:
        raise ValidationError(
            f"'{filename}' is empty. Upload a file that contains a header row and contacts.",
            field="file",
        )

    file_format = detect_format(path, filename)

    if file_format == "csv":
        return _analyze_text(path, filename, header_row, encoding)
    return _analyze_workbook(path, filename, file_format, sheet, header_row)


def iter_rows(
    path: Path,
    analysis: FileAnalysis,
    *,
    filename: str | None = None,
    position: ReadPosition | None = None,
) -> Iterator[tuple[int, list[str]]]:
    """Yield (row number, cells) for every row below the header, blank rows included.

    Cells are strings aligned to `analysis.columns`: short rows are padded with "" and long
    rows are cut. Text files are streamed; a workbook sheet is loaded whole by calamine.
    """
    display_name = filename or path.name
    width = len(analysis.columns)

    rows: Generator[list[str]]
    if analysis.format == "csv":
        rows = _text_rows(
            path, analysis.encoding or "utf-8", analysis.delimiter or ",", display_name, position
        )
    else:
        rows = _workbook_rows(path, analysis, display_name)

    with closing(rows):
        for row_number, cells in enumerate(rows, start=1):
            if row_number > analysis.header_row:
                yield row_number, _fit_width(cells, width)


# Format detection


def detect_format(path: Path, filename: str) -> FileFormat:
    """Return the file's format from its content, ignoring the extension."""
    with path.open("rb") as file:
        head = file.read(8)

    if head.startswith(_ZIP_MAGIC):
        return _zip_workbook_format(path, filename)
    if head.startswith(_OLE_MAGIC):
        return "xls"

    for magic, kind in _KNOWN_BINARY_KINDS:
        if head.startswith(magic):
            raise _unsupported(filename, f"is {kind}")
    return "csv"


def _zip_workbook_format(path: Path, filename: str) -> FileFormat:
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            _check_zip_bomb(entries, filename)
            names = {entry.filename for entry in entries}
            mimetype = _read_small_entry(archive, "mimetype")
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError) as error:
        raise _unsupported(filename, f"is a damaged zip archive ({error})") from error

    if mimetype.startswith(_ODS_MIMETYPE):
        return "ods"
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "xl/workbook.bin" in names:
        raise UnsupportedFileError(
            f"'{filename}' is an Excel binary workbook (XLSB), which is not supported. Save it "
            "as XLSX in Excel and upload that.",
            field="file",
        )
    raise _unsupported(filename, "is a zip archive but not an XLSX or ODS workbook")


def _check_zip_bomb(entries: list[zipfile.ZipInfo], filename: str) -> None:
    # NOTE: the sizes come from the zip directory, which a crafted file can falsify. Whether
    # calamine stops at the declared size when inflating was not checked.
    total = sum(entry.file_size for entry in entries)
    if total > MAX_ZIP_UNCOMPRESSED_BYTES:
        raise ValidationError(
            f"'{filename}' would unpack to {total // (1024 * 1024)} MB, above the "
            f"{MAX_ZIP_UNCOMPRESSED_BYTES // (1024 * 1024)} MB limit for workbooks, so it was "
            "rejected as a possible zip bomb. Export the contacts as CSV instead.",
            field="file",
        )

    for entry in entries:
        if entry.file_size < ZIP_RATIO_MIN_ENTRY_BYTES:
            continue
        ratio = entry.file_size / max(entry.compress_size, 1)
        if ratio > MAX_ZIP_COMPRESSION_RATIO:
            raise ValidationError(
                f"'{filename}' contains '{entry.filename}', compressed {ratio:.0f}:1, above "
                f"the {MAX_ZIP_COMPRESSION_RATIO}:1 limit, so it was rejected as a possible "
                "zip bomb. Export the contacts as CSV instead.",
                field="file",
            )


def _read_small_entry(archive: zipfile.ZipFile, name: str) -> bytes:
    try:
        entry = archive.getinfo(name)
    except KeyError:
        return b""
    if entry.file_size > 1024:
        return b""
    return archive.read(entry)


def _unsupported(filename: str, problem: str) -> UnsupportedFileError:
    return UnsupportedFileError(
        f"'{filename}' {problem}, not a contact list. Upload {ACCEPTED_FORMATS}.",
        field="file",
    )


# Text files


def _analyze_text(
    path: Path, filename: str, header_row: int | None, encoding: str | None
) -> FileAnalysis:
    text_encoding = _lookup_encoding(encoding) if encoding else detect_encoding(path)
    if not text_encoding.startswith(("utf-16", "utf-32")):
        # Checked before decoding: random bytes are rarely valid cp1252 text.
        _reject_binary_bytes(path, filename)
    sample, complete = _read_text_sample(path, text_encoding, filename)
    _reject_binary_text(sample, filename)

    delimiter = detect_delimiter(sample, complete, preferred=_preferred_delimiter(filename))
    rows = _text_rows(path, text_encoding, delimiter, filename)
    with closing(rows):
        found_row, columns, samples = _find_header(rows, header_row, filename)

    return FileAnalysis(
        format="csv",
        encoding=text_encoding,
        delimiter=delimiter,
        sheets=[],
        sheet=None,
        header_row=found_row,
        columns=columns,
        sample_rows=samples,
    )


def detect_encoding(path: Path) -> str:
    """Return a text file's codec: from its byte order mark, else UTF-8 if valid, else cp1252."""
    with path.open("rb") as file:
        head = file.read(4)

    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return "utf-8" if _is_valid_utf8(path) else "cp1252"


def _is_valid_utf8(path: Path) -> bool:
    # The whole file is checked, in chunks, because one cp1252 "é" after a long ASCII prefix
    # would otherwise stop the import midway. The incremental decoder keeps a multi-byte
    # character that a chunk boundary cuts and completes it with the next chunk.
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    try:
        with path.open("rb") as file:
            while chunk := file.read(_UTF8_CHECK_CHUNK_BYTES):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _lookup_encoding(encoding: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError as error:
        raise ValidationError(
            f"'{encoding}' is not a known text encoding. Use a name such as utf-8, "
            "utf-8-sig, utf-16 or cp1252.",
            field="encoding",
        ) from error


def _read_text_sample(path: Path, encoding: str, filename: str) -> tuple[str, bool]:
    """Return the start of the decoded file and whether it is the whole file."""
    try:
        with path.open("r", encoding=encoding, newline="") as file:
            sample = file.read(_TEXT_SAMPLE_CHARS)
            while len(sample) < _MAX_TEXT_SAMPLE_CHARS and _count_lines(sample) < 20:
                more = file.read(len(sample))
                if not more:
                    return sample, True
                sample += more
            return sample, not file.read(1)
    except UnicodeDecodeError as error:
        raise _decode_error(filename, encoding, error) from error


def _count_lines(text: str) -> int:
    return text.count("\n") + text.count("\r")


def _reject_binary_bytes(path: Path, filename: str) -> None:
    with path.open("rb") as file:
        head = file.read(_TEXT_SAMPLE_CHARS)
    _reject_binary_text(head.decode("latin-1"), filename)


def _reject_binary_text(sample: str, filename: str) -> None:
    """Raise UnsupportedFileError when the sample has a NUL or over 1% control characters."""
    control_chars = sum(1 for char in sample if char < " " and char not in _ALLOWED_CONTROL_CHARS)
    if "\x00" in sample or control_chars > len(sample) * _MAX_CONTROL_CHAR_SHARE:
        raise _unsupported(filename, "contains binary data")


def detect_delimiter(sample: str, complete: bool, *, preferred: str | None = None) -> str:
    """Return the delimiter that splits the sample's records into the most consistent width.

    A first line such as "sep=;", which Excel writes and reads, names the delimiter. A
    candidate that leaves every record in one field scores nothing, so a one-column list of
    addresses falls back to `preferred` or ",".
    """
    declared = _EXCEL_SEPARATOR_LINE.match(sample)
    if declared:
        return declared["delimiter"]

    order = [preferred] if preferred else []
    order += [delimiter for delimiter in DELIMITERS if delimiter != preferred]

    best = order[0] if preferred else ","
    best_score = (0.0, 1)
    for delimiter in order:
        score = _delimiter_score(sample, complete, delimiter)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _delimiter_score(sample: str, complete: bool, delimiter: str) -> tuple[float, int]:
    """Return (share of records with the most common field count, that field count)."""
    records = list(csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter))
    if not complete:
        # The sample may end inside a record.
        records = records[:-1]

    widths = [len(record) for record in records if _has_content(record)]
    widths = widths[:_DELIMITER_SAMPLE_RECORDS]
    if not widths:
        return (0.0, 1)

    width, count = Counter(widths).most_common(1)[0]
    if width < 2:
        return (0.0, 1)
    return (count / len(widths), width)


def _preferred_delimiter(filename: str) -> str | None:
    return "\t" if filename.lower().endswith(".tsv") else None


def _text_rows(
    path: Path, encoding: str, delimiter: str, filename: str, position: ReadPosition | None = None
) -> Generator[list[str]]:
    _raise_csv_field_size_limit()
    with path.open("r", encoding=encoding, newline="") as file:
        if position is not None:
            position.follow(file.buffer.raw)  # type: ignore[attr-defined]
        reader = csv.reader(file, delimiter=delimiter)
        try:
            yield from reader
            if position is not None:
                position.release()
        except UnicodeDecodeError as error:
            raise _decode_error(filename, encoding, error, line=reader.line_num + 1) from error
        except csv.Error as error:
            raise ValidationError(
                f"'{filename}' could not be read as CSV near line {reader.line_num}: {error}.",
                field="file",
            ) from error


def _raise_csv_field_size_limit() -> None:
    if csv.field_size_limit() < CSV_FIELD_SIZE_LIMIT:
        csv.field_size_limit(CSV_FIELD_SIZE_LIMIT)


def _decode_error(
    filename: str, encoding: str, error: UnicodeDecodeError, *, line: int | None = None
) -> ValidationError:
    where = f"near line {line}" if line else f"at byte {error.start}"
    return ValidationError(
        f"'{filename}' is not valid {encoding} text {where}. Choose the file's encoding "
        "(for example utf-8 or cp1252) and analyze it again.",
        field="encoding",
    )


# Workbooks


def _analyze_workbook(
    path: Path,
    filename: str,
    file_format: FileFormat,
    sheet: str | None,
    header_row: int | None,
) -> FileAnalysis:
    _check_workbook_size(path, filename)

    with _open_workbook(path, filename) as workbook:
        sheets = _listed_sheets(workbook, filename)
        sheet_name, loaded = _select_sheet(workbook, sheet, sheets, filename)
        rows = _sheet_rows(loaded, ANALYSIS_SHEET_ROWS)
        found_row, columns, samples = _find_header(rows, header_row, filename)

    return FileAnalysis(
        format=file_format,
        encoding=None,
        delimiter=None,
        sheets=sheets,
        sheet=sheet_name,
        header_row=found_row,
        columns=columns,
        sample_rows=samples,
    )


def _workbook_rows(path: Path, analysis: FileAnalysis, filename: str) -> Generator[list[str]]:
    # The file is checked again because iter_rows may run long after the analysis.
    detect_format(path, filename)
    _check_workbook_size(path, filename)

    with _open_workbook(path, filename) as workbook:
        sheets = _listed_sheets(workbook, filename)
        _, loaded = _select_sheet(workbook, analysis.sheet, sheets, filename)
        yield from _sheet_rows(loaded, MAX_SHEET_ROWS)


def _check_workbook_size(path: Path, filename: str) -> None:
    size = path.stat().st_size
    if size > MAX_WORKBOOK_BYTES:
        raise ValidationError(
            f"'{filename}' is {size / (1024 * 1024):.0f} MB, above the "
            f"{MAX_WORKBOOK_BYTES // (1024 * 1024)} MB limit for workbooks. Save the sheet "
            "as CSV, which has no size limit here, and upload that.",
            field="file",
        )


def _open_workbook(path: Path, filename: str) -> python_calamine.CalamineWorkbook:
    try:
        return python_calamine.CalamineWorkbook.from_path(path)
    except python_calamine.PasswordError as error:
        raise ValidationError(
            f"'{filename}' is protected with a password. Remove the password in the "
            "spreadsheet program, save it, and upload it again.",
            field="file",
        ) from error
    except python_calamine.CalamineError as error:
        raise _unsupported(filename, f"could not be read as a workbook ({error})") from error


def _listed_sheets(workbook: python_calamine.CalamineWorkbook, filename: str) -> list[str]:
    """Return the visible worksheets, or every worksheet when none is visible."""
    worksheets = [
        meta
        for meta in workbook.sheets_metadata
        if meta.typ == python_calamine.SheetTypeEnum.WorkSheet
    ]
    if not worksheets:
        raise ValidationError(f"'{filename}' contains no worksheet.", field="file")

    visible = [
        meta.name for meta in worksheets if meta.visible == python_calamine.SheetVisibleEnum.Visible
    ]
    return visible or [meta.name for meta in worksheets]


def _select_sheet(
    workbook: python_calamine.CalamineWorkbook,
    requested: str | None,
    sheets: list[str],
    filename: str,
) -> tuple[str, python_calamine.CalamineSheet]:
    """Load the requested sheet, else the first listed sheet that has a cell, else the first."""
    if requested is not None:
        return requested, _load_sheet(workbook, requested, sheets, filename)

    for name in sheets:
        loaded = _load_sheet(workbook, name, sheets, filename)
        if loaded.start is not None:
            return name, loaded
    return sheets[0], _load_sheet(workbook, sheets[0], sheets, filename)


def _load_sheet(
    workbook: python_calamine.CalamineWorkbook, name: str, sheets: list[str], filename: str
) -> python_calamine.CalamineSheet:
    if name not in workbook.sheet_names:
        listed = ", ".join(f"'{sheet}'" for sheet in sheets)
        raise ValidationError(
            f"'{filename}' has no sheet named '{name}'. Its sheets are: {listed}.", field="sheet"
        )

    try:
        loaded = workbook.get_sheet_by_name(name)
    except python_calamine.CalamineError as error:
        raise ValidationError(
            f"Sheet '{name}' of '{filename}' could not be read ({error}). Choose another "
            "sheet or save the workbook again.",
            field="sheet",
        ) from error

    height = _sheet_height(loaded)
    if height > MAX_SHEET_ROWS:
        raise ValidationError(
            f"Sheet '{name}' of '{filename}' has {height:,} rows, above the limit of "
            f"{MAX_SHEET_ROWS:,} rows. Split the contacts into several files.",
            field="sheet",
        )
    return loaded


def _sheet_height(sheet: python_calamine.CalamineSheet) -> int:
    """Return the number of rows from row 1 to the last row that has a cell."""
    end = sheet.end
    return 0 if end is None else end[0] + 1


def _sheet_rows(sheet: python_calamine.CalamineSheet, first_batch: int) -> Iterator[list[str]]:
    """Yield formatted rows from row 1, converting only `first_batch` rows until more are read."""
    height = _sheet_height(sheet)
    if height == 0:
        return

    # skip_empty_area=False keeps leading empty rows and columns, so positions match the sheet
    # and the merged ranges, which calamine gives in sheet positions.
    merged = _MergedCells(sheet.merged_cell_ranges or [])
    first = sheet.to_python(skip_empty_area=False, nrows=min(first_batch, height))
    for number, row in enumerate(first):
        yield merged.fill(number, [format_cell(value) for value in row])

    if height > len(first):
        rest = sheet.to_python(skip_empty_area=False)
        for number, row in enumerate(islice(rest, len(first), None), start=len(first)):
            yield merged.fill(number, [format_cell(value) for value in row])


MergedRange = tuple[tuple[int, int], tuple[int, int]]


class _MergedCells:
    """Copies a merged range's value into every row it covers, as the spreadsheet shows it.

    A spreadsheet stores a merged range's value only in its top-left cell, so without this a
    company name merged over five rows would reach only the first of those contacts.
    """

    def __init__(self, ranges: list[MergedRange]) -> None:
        self.pending = sorted(ranges, reverse=True)
        self.active: list[tuple[int, int, str]] = []

    def fill(self, row_number: int, row: list[str]) -> list[str]:
        while self.pending and self.pending[-1][0][0] == row_number:
            (_top, left), (bottom, _right) = self.pending.pop()
            value = row[left] if left < len(row) else ""
            self.active.append((bottom, left, value))
        if not self.active:
            return row
        # Only the range's first column gets the value: a range merged across columns
        # (first and last name over two columns) must not copy one field into another.
        for _bottom, left, value in self.active:
            if left < len(row):
                row[left] = value
        self.active = [entry for entry in self.active if entry[0] > row_number]
        return row


def format_cell(value: object) -> str:
    """Return a workbook cell as the text a spreadsheet shows, in ISO form for dates and times."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _format_float(value)
    if isinstance(value, dt.datetime):
        return _format_datetime(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return _format_duration(value)
    return "" if value is None else str(value)


def _format_float(value: float) -> str:
    # Calamine returns XLSX and ODS numbers as floats: a phone number must come out as
    # "447700900123", not "447700900123.0" or "4.477e+11".
    if value.is_integer():
        return str(int(value))
    return repr(value)


def _format_datetime(value: dt.datetime) -> str:
    if value.time() == dt.time(0):
        return value.date().isoformat()
    timespec = "seconds" if value.microsecond == 0 else "milliseconds"
    return value.isoformat(sep=" ", timespec=timespec)


def _format_duration(value: dt.timedelta) -> str:
    """Return a duration as [-]H:MM:SS, with hours past 24 as in Excel's [h]:mm:ss format."""
    sign = "-" if value < dt.timedelta(0) else ""
    remaining = abs(value)
    hours, rest = divmod(int(remaining.total_seconds()), 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"{sign}{hours}:{minutes:02d}:{seconds:02d}"
    if remaining.microseconds:
        text += f".{remaining.microseconds:06d}".rstrip("0")
    return text


# Header row and columns


def _find_header(
    rows: Iterator[list[str]], header_row: int | None, filename: str
) -> tuple[int, list[str], list[list[str]]]:
    """Return (header row number, column names, sample data rows) and consume rows past them."""
    if header_row is None:
        scanned = list(islice(rows, HEADER_SCAN_ROWS))
        header_row = _detect_header_row(scanned, filename)
    else:
        scanned = list(islice(rows, header_row))
        if len(scanned) < header_row:
            raise ValidationError(
                f"'{filename}' has only {len(scanned)} rows, so row {header_row} cannot be "
                "the header row. Choose a header row within the file.",
                field="header_row",
            )

    header = scanned[header_row - 1]
    below = chain(scanned[header_row:], rows)
    samples = list(islice((row for row in below if _has_content(row)), SAMPLE_ROW_COUNT))
    if not samples:
        raise ValidationError(
            f"'{filename}' has no data rows below the header on row {header_row}. Check that "
            "the right file, sheet and header row are chosen.",
            field="header_row",
        )

    columns = _column_names(header, samples)
    return header_row, columns, [_fit_width(row, len(columns)) for row in samples]


def _detect_header_row(scanned: list[list[str]], filename: str) -> int:
    """Return the first non-empty row that is not a title row, 1-based.

    A title row ("Member list exported 2026-11-30") has at most half as many filled cells as
    the rows below it.
    """
    filled = [_filled_count(row) for row in scanned]
    candidates = [index for index, count in enumerate(filled) if count]
    if not candidates:
        raise ValidationError(
            f"'{filename}' contains no data: none of its first {HEADER_SCAN_ROWS} rows has a "
            "value. Upload a file with a header row and contacts, or choose the header row.",
            field="file",
        )

    for position, index in enumerate(candidates[: MAX_TITLE_ROWS + 1]):
        following = [filled[i] for i in candidates[position + 1 : position + 11]]
        if not following or not _is_title_row(filled[index], following):
            return index + 1
    return candidates[0] + 1


def _is_title_row(filled: int, filled_below: list[int]) -> bool:
    typical = statistics.median_low(filled_below)
    return filled * 2 <= typical


def _column_names(header: list[str], samples: list[list[str]]) -> list[str]:
    width = max(len(header), *(len(row) for row in samples))
    while width > 1 and not _column_has_content(width - 1, header, samples):
        width -= 1

    cells = [header[index] if index < len(header) else "" for index in range(width)]
    names = [
        " ".join(trim(cell).split()) or f"Column {index + 1}" for index, cell in enumerate(cells)
    ]

    # A suffixed name must not take a name that a later header has.
    reserved = set(names)
    used: set[str] = set()
    unique: list[str] = []
    for name in names:
        name = _unique_name(name, used, reserved)
        used.add(name)
        unique.append(name)
    return unique


def _column_has_content(index: int, header: list[str], samples: list[list[str]]) -> bool:
    return any(index < len(row) and trim(row[index]) for row in (header, *samples))


def _unique_name(name: str, used: set[str], reserved: set[str]) -> str:
    if name not in used:
        return name
    suffix = 2
    while f"{name} ({suffix})" in used or f"{name} ({suffix})" in reserved:
        suffix += 1
    return f"{name} ({suffix})"


def _has_content(row: list[str]) -> bool:
    return any(trim(cell) for cell in row)


def _filled_count(row: list[str]) -> int:
    return sum(1 for cell in row if trim(cell))


def _fit_width(cells: list[str], width: int) -> list[str]:
    if len(cells) == width:
        return cells
    if len(cells) < width:
        return cells + [""] * (width - len(cells))
    return cells[:width]
