"""Read, map and validate every contact export fixture, and compare with expected.json."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from backend.imports.mapping import suggest_mapping
from backend.imports.reading import FileAnalysis, analyze_file, iter_rows
from backend.imports.validation import FieldRule, RowValidator, ValidRow

FIXTURES = Path(__file__).parent.parent / "fixtures" / "contacts"
EXPECTED: dict[str, dict[str, Any]] = json.loads((FIXTURES / "expected.json").read_text())
RULES = [FieldRule("email"), FieldRule("first_name")]


class ImportResult:
    def __init__(self, filename: str, rules: list[FieldRule] = RULES) -> None:
        self.path = FIXTURES / filename
        self.analysis = analyze_file(self.path, filename)
        self.mapping = suggest_mapping(self.analysis.columns, [rule.name for rule in rules])
        self.counts: Counter[str] = Counter()
        self.valid_keys: list[str] = []

        validator = RowValidator(self.analysis.columns, self.mapping, rules)
        for row_number, cells in iter_rows(self.path, self.analysis):
            verdict = validator.check(row_number, cells)
            if verdict is None:
                continue
            self.counts["data_rows"] += 1
            if isinstance(verdict, ValidRow):
                self.counts["valid"] += 1
                self.valid_keys.append(verdict.email_key)
            else:
                self.counts[verdict.reason] += 1

    def column_for(self, field: str) -> str | None:
        columns = [column for column, mapped in self.mapping.items() if mapped == field]
        return columns[0] if columns else None

    def values(self, column: str) -> list[str]:
        index = self.analysis.columns.index(column)
        return [cells[index] for _, cells in iter_rows(self.path, self.analysis) if cells[index]]


@pytest.fixture(scope="module")
def unsubscribed_keys() -> set[str]:
    result = ImportResult("unsubscribed.csv", [FieldRule("email")])
    assert result.counts["valid"] == result.counts["data_rows"]
    return set(result.valid_keys)


@pytest.fixture(scope="module", params=sorted(EXPECTED))
def imported(request: pytest.FixtureRequest) -> tuple[ImportResult, dict[str, Any]]:
    return ImportResult(request.param), EXPECTED[request.param]


def test_fixture_row_counts(imported: tuple[ImportResult, dict[str, Any]]) -> None:
    result, expected = imported

    assert result.counts["data_rows"] == expected["data_rows"]
    assert result.counts["valid"] == expected["valid"]
    assert result.counts["invalid_email"] == expected["invalid_email"]
    assert result.counts["missing_required"] == expected["missing_required"]
    assert result.counts["duplicate"] == expected["duplicates"]


def test_fixture_detection(imported: tuple[ImportResult, dict[str, Any]]) -> None:
    result, expected = imported
    analysis: FileAnalysis = result.analysis

    assert analysis.header_row == expected["header_row"]
    assert analysis.encoding == expected.get("encoding")
    assert analysis.delimiter == expected.get("delimiter")
    assert analysis.sheet == expected.get("sheet")


def test_fixture_suggested_columns(imported: tuple[ImportResult, dict[str, Any]]) -> None:
    result, expected = imported

    assert result.column_for("email") == expected["email_column"]
    assert result.column_for("first_name") == expected["first_name_column"]


def test_fixture_suppressed_among_valid(
    imported: tuple[ImportResult, dict[str, Any]], unsubscribed_keys: set[str]
) -> None:
    result, expected = imported

    suppressed = sum(1 for key in result.valid_keys if key in unsubscribed_keys)

    assert suppressed == expected["suppressed_among_valid"]


def test_hubspot_phone_numbers_are_plain_integers() -> None:
    result = ImportResult("hubspot-export.xlsx")

    phones = result.values("Phone Number")

    assert len(phones) > 5000
    assert all(re.fullmatch(r"\d{12}", phone) for phone in phones), phones[:5]


def test_hubspot_create_dates_are_iso() -> None:
    result = ImportResult("hubspot-export.xlsx")

    dates = result.values("Create Date")

    assert dates
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?", date) for date in dates)


def test_excel_de_postcodes_keep_leading_zeros() -> None:
    result = ImportResult("excel-de-semicolon.csv")

    postcodes = result.values("PLZ")

    assert all(re.fullmatch(r"\d{5}", code) for code in postcodes)
    assert any(code.startswith("0") for code in postcodes)


def test_legacy_member_dates_are_iso() -> None:
    result = ImportResult("legacy-members.xls")

    dates = result.values("Member since")

    assert len(dates) > 600
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", date) for date in dates), dates[:5]


def test_legacy_first_data_row_number() -> None:
    result = ImportResult("legacy-members.xls")

    first_row_number, first_cells = next(iter_rows(result.path, result.analysis))

    assert first_row_number == 4
    assert first_cells[0] == "grace.adeyemi0@mail.example.com"
