"""CSV downloads that open safely in spreadsheet programs."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value: object) -> str:
    """Prefix a cell that a spreadsheet would run as a formula (CSV injection) with a quote."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def export_name(name: str) -> str:
    """Make a download file name from a batch or import name: letters, digits, - and _."""
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")
    return cleaned[:80] or "export"


def csv_export(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([neutralize(value) for value in row])
    # The BOM makes Excel read the file as UTF-8 instead of the system code page.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
