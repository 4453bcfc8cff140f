from __future__ import annotations

import csv
import io

import pytest

from backend.core.csv_export import csv_export, neutralize


@pytest.mark.parametrize("value", ["=1+1", "+31 20 555", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_neutralize_prefixes_formula_starts(value: str) -> None:
    assert neutralize(value) == "'" + value


@pytest.mark.parametrize("value", ["jane@example.com", "Row 3", "", "a=b"])
def test_neutralize_keeps_plain_values(value: str) -> None:
    assert neutralize(value) == value


def test_csv_export_has_bom_header_and_rows() -> None:
    content = csv_export(["row", "email"], [(2, "=cmd"), (3, None)])

    assert content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows == [["row", "email"], ["2", "'=cmd"], ["3", ""]]
