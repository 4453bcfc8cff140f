"""Check the rows of an upload against the merge fields that a template needs.

Each row gets the first verdict that applies, in this order:

1. every cell empty or whitespace: ignored, not counted;
2. the email fails syntax validation: ``invalid_email``;
3. a required field is empty: ``missing_required``;
4. the email equals, ignoring case, that of an earlier valid row: ``duplicate``;
5. otherwise valid.

Values are trimmed first, including no-break spaces, and ``Name <addr>`` is read as ``addr``.
"""

from __future__ import annotations

import re
from array import array
from typing import Literal

import email_validator
import msgspec

from backend.core.errors import ValidationError
from backend.imports.mapping import EMAIL_FIELD
from backend.imports.reading import trim

# Longer values are almost always a broken export (a whole file in one cell); they would
# also make every message with that field large.
MAX_VALUE_LENGTH = 2000

ProblemReason = Literal["invalid_email", "missing_required", "invalid_value", "duplicate"]

_NAMED_ADDRESS = re.compile(r"[^<>]*<(?P<address>[^<>]*)>")

# Addresses that email-validator 2.x accepts with check_deliverability=False and returns with
# only the domain lowercased: a dot-atom local part of common characters, hostname labels
# without "--" (which would need IDNA checks) and an alphabetic top-level domain. Anything else
# goes through email-validator itself. On a 2-core AMD EPYC VM, parse_email took about 3 us per
# address on this path and 30 us through email-validator. A test compares the two paths.
_SIMPLE_ADDRESS = re.compile(
    r"(?P<local>[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*)"
    r"@(?P<domain>(?:[A-Za-z0-9](?:-?[A-Za-z0-9])*\.)+[A-Za-z]{2,63})"
)
_MAX_ADDRESS_LENGTH = 254
_MAX_LOCAL_PART_LENGTH = 64
_MAX_LABEL_LENGTH = 63
_MAX_SHOWN_VALUE_LENGTH = 80


class FieldRule(msgspec.Struct):
    """A merge field of a template: whether a row must fill it, and the value for an empty one.

    `default` applies only to optional fields: an empty required field is a problem row.
    """

    name: str
    required: bool = True
    default: str | None = None


class RowProblem(msgspec.Struct):
    """A row that is not imported, with the reason and a message for the operator."""

    row_number: int
    column: str | None
    value: str
    reason: ProblemReason
    message: str


class ValidRow(msgspec.Struct):
    """A row to import. `fields` maps each mapped merge field, and `email`, to its value."""

    row_number: int
    email: str
    email_key: str
    fields: dict[str, str]


def parse_email(raw: str) -> tuple[str, str]:
    """Return (address to send to, lowercase key for duplicate checks) for a cell value.

    The address keeps its local part and has its domain lowercased and in ASCII (an IDN domain
    in Punycode). Raises ValidationError(field="email") when the syntax is invalid.
    """
    trimmed = trim(raw)
    if not trimmed:
        raise ValidationError("The email address is empty.", field="email")

    text = trimmed
    named = _NAMED_ADDRESS.fullmatch(text)
    if named:
        text = trim(named["address"])

    address = _parse_simple_address(text) or _parse_with_library(text, cell_value=trimmed)
    return address, address.lower()


def _parse_simple_address(text: str) -> str | None:
    match = _SIMPLE_ADDRESS.fullmatch(text)
    if match is None:
        return None

    local, domain = match["local"], match["domain"].lower()
    if len(text) > _MAX_ADDRESS_LENGTH or len(local) > _MAX_LOCAL_PART_LENGTH:
        return None
    if len(domain) > _MAX_LABEL_LENGTH and any(
        len(label) > _MAX_LABEL_LENGTH for label in domain.split(".")
    ):
        return None
    if _is_special_use_domain(domain):
        return None
    return f"{local}@{domain}"


class _SpecialUseNames:
    """email-validator's special-use domain names as a set, rebuilt when its list changes.

    The list is compared on each call because email-validator documents it as changeable.
    Looking up each suffix of the domain in a set took a third of the time of testing every
    name with endswith(), which was a tenth of a staging job's reading time.
    """

    def __init__(self) -> None:
        self._listed: list[str] = []
        self._names: frozenset[str] = frozenset()

    def covers(self, domain: str) -> bool:
        listed = email_validator.SPECIAL_USE_DOMAIN_NAMES
        if listed != self._listed:
            self._listed = list(listed)
            self._names = frozenset(listed)
        names = self._names
        if domain in names:
            return True
        dot = domain.find(".")
        while dot != -1:
            if domain[dot + 1 :] in names:
                return True
            dot = domain.find(".", dot + 1)
        return False


_SPECIAL_USE_NAMES = _SpecialUseNames()


def _is_special_use_domain(domain: str) -> bool:
    return _SPECIAL_USE_NAMES.covers(domain)


def _parse_with_library(text: str, *, cell_value: str) -> str:
    try:
        # allow_smtputf8=False: an address with non-ASCII characters before the @ needs
        # SMTPUTF8, which Brevo and most receiving servers do not offer, so it would fail
        # at send time instead of here.
        result = email_validator.validate_email(
            text, check_deliverability=False, allow_smtputf8=False
        )
    except email_validator.EmailNotValidError as error:
        raise ValidationError(
            f"'{_shorten(cell_value)}' is not a valid email address. {error}", field="email"
        ) from error
    return f"{result.local_part}@{result.ascii_domain}"


def _shorten(value: str) -> str:
    if len(value) <= _MAX_SHOWN_VALUE_LENGTH:
        return value
    return value[: _MAX_SHOWN_VALUE_LENGTH - 1] + "…"


class SeenKeys:
    """The row number of each email key seen, in two flat arrays (open addressing).

    A dict of a million str keys and int row numbers takes an estimated 170 MB. These arrays take
    12 bytes per slot and stay at most half full, so 24 to 48 MB.
    NOTE: a key is stored as its 64-bit Python str hash. Two addresses with the same hash
    would make the second a false duplicate: with a million rows, a chance of about 1 in 37
    million (n² / 2⁶⁵).
    """

    def __init__(self, capacity: int = 1 << 14) -> None:
        self._hashes = array("q", bytes(8 * capacity))
        self._rows = array("i", bytes(4 * capacity))
        self._mask = capacity - 1
        self._count = 0

    def add(self, key: str, row_number: int) -> int | None:
        """Store `key` with `row_number`, or return the row of its earlier occurrence."""
        key_hash = hash(key) or 1  # 0 marks an empty slot
        hashes = self._hashes
        slot = key_hash & self._mask
        while True:
            stored = hashes[slot]
            if stored == 0:
                break
            if stored == key_hash:
                return self._rows[slot]
            slot = (slot + 1) & self._mask

        hashes[slot] = key_hash
        self._rows[slot] = row_number
        self._count += 1
        if self._count * 2 > len(hashes):
            self._grow()
        return None

    def _grow(self) -> None:
        old_hashes, old_rows = self._hashes, self._rows
        capacity = len(old_hashes) * 2
        self._hashes = array("q", bytes(8 * capacity))
        self._rows = array("i", bytes(4 * capacity))
        self._mask = capacity - 1
        hashes, rows, mask = self._hashes, self._rows, self._mask
        for stored, row_number in zip(old_hashes, old_rows, strict=True):
            if stored == 0:
                continue
            slot = stored & mask
            while hashes[slot] != 0:
                slot = (slot + 1) & mask
            hashes[slot] = stored
            rows[slot] = row_number


class RowValidator:
    """Check the rows of one import in file order.

    A duplicate is found against the valid rows checked before it, so the instance keeps the
    hash of every valid email's key with its row number in a SeenKeys table: 24 to 48 bytes
    per valid row.
    """

    def __init__(
        self, columns: list[str], mapping: dict[str, str | None], fields: list[FieldRule]
    ) -> None:
        _check_mapping(columns, mapping)
        field_columns = {field: column for column, field in mapping.items() if field}
        _check_required_fields(field_columns, fields)

        position = {column: index for index, column in enumerate(columns)}
        self._width = len(columns)
        self._email_column = field_columns[EMAIL_FIELD]
        self._email_index = position[self._email_column]
        rules = {rule.name: rule for rule in fields}

        # (field, column, column index, default) for every mapped field except email, in
        # column order, so check() does no lookups per row.
        self._mapped: list[tuple[str, str, int, str | None]] = []
        self._required: list[tuple[str, str, int]] = []
        for column, field in mapping.items():
            if not field or field == EMAIL_FIELD:
                continue
            rule = rules.get(field)
            required = rule is not None and rule.required
            default = None if rule is None or required else rule.default
            self._mapped.append((field, column, position[column], default))
            if required:
                self._required.append((field, column, position[column]))
        self._mapped.sort(key=lambda item: item[2])

        self._seen = SeenKeys()

    def check(self, row_number: int, cells: list[str]) -> ValidRow | RowProblem | None:
        """Return the row's verdict, or None for a blank row, which is not counted."""
        if len(cells) < self._width:
            cells = cells + [""] * (self._width - len(cells))

        raw_email = trim(cells[self._email_index])
        if not raw_email and not any(trim(cell) for cell in cells):
            return None

        try:
            address, key = parse_email(raw_email)
        except ValidationError as error:
            return self._invalid_email(row_number, raw_email, error)

        missing = [
            (field, column) for field, column, index in self._required if not trim(cells[index])
        ]
        if missing:
            return self._missing_required(row_number, missing)

        for _, column, index, _ in self._mapped:
            if len(cells[index]) > MAX_VALUE_LENGTH:
                return self._value_too_long(row_number, column, cells[index])

        first_row = self._seen.add(key, row_number)
        if first_row is not None:
            return self._duplicate(row_number, raw_email, first_row)

        values = {EMAIL_FIELD: address}
        for field, _, index, default in self._mapped:
            value = trim(cells[index])
            values[field] = default if not value and default is not None else value
        return ValidRow(row_number=row_number, email=address, email_key=key, fields=values)

    def _invalid_email(self, row_number: int, value: str, error: ValidationError) -> RowProblem:
        where = f"Row {row_number}, column '{self._email_column}'"
        message = (
            f"{where}: the email address is empty. Fill it in or delete the row."
            if not value
            else f"{where}: {error.message}"
        )
        return RowProblem(
            row_number=row_number,
            column=self._email_column,
            value=value,
            reason="invalid_email",
            message=message,
        )

    def _value_too_long(self, row_number: int, column: str, value: str) -> RowProblem:
        return RowProblem(
            row_number=row_number,
            column=column,
            value=_shorten(value),
            reason="invalid_value",
            message=(
                f"Row {row_number}, column '{column}': the value has {len(value):,} characters; "
                f"a merge field can have at most {MAX_VALUE_LENGTH:,}. Shorten it in the file."
            ),
        )

    def _missing_required(self, row_number: int, missing: list[tuple[str, str]]) -> RowProblem:
        field, column = missing[0]
        message = f"Row {row_number}, column '{column}': the required field '{field}' is empty."
        for other_field, other_column in missing[1:]:
            message += f" Column '{other_column}' (field '{other_field}') is empty too."
        message += " Fill it in the file, or mark the field optional in the template."
        return RowProblem(
            row_number=row_number,
            column=column,
            value="",
            reason="missing_required",
            message=message,
        )

    def _duplicate(self, row_number: int, value: str, first_row: int) -> RowProblem:
        return RowProblem(
            row_number=row_number,
            column=self._email_column,
            value=value,
            reason="duplicate",
            message=(
                f"Row {row_number}, column '{self._email_column}': '{_shorten(value)}' is a "
                f"duplicate of row {first_row}, so only row {first_row} is imported."
            ),
        )


def _check_mapping(columns: list[str], mapping: dict[str, str | None]) -> None:
    unknown = [column for column in mapping if column not in columns]
    if unknown:
        names = ", ".join(f"'{column}'" for column in unknown)
        raise ValidationError(
            f"The mapping names columns that the file does not have: {names}. Analyze the "
            "file again and map its columns.",
            field="mapping",
        )

    columns_by_field: dict[str, list[str]] = {}
    for column, field in mapping.items():
        if field:
            columns_by_field.setdefault(field, []).append(column)
    for field, mapped in columns_by_field.items():
        if len(mapped) > 1:
            names = " and ".join(f"'{column}'" for column in mapped)
            raise ValidationError(
                f"Columns {names} are all mapped to the field '{field}'. Map one column to "
                "each field.",
                field="mapping",
            )


def _check_required_fields(field_columns: dict[str, str], fields: list[FieldRule]) -> None:
    if EMAIL_FIELD not in field_columns:
        raise ValidationError(
            "No column is mapped to 'email'. Map the column that contains the email "
            "addresses to 'email'.",
            field="mapping",
        )

    missing = [
        rule.name
        for rule in fields
        if rule.required and rule.name != EMAIL_FIELD and rule.name not in field_columns
    ]
    if missing:
        names = ", ".join(f"'{name}'" for name in missing)
        raise ValidationError(
            f"The template requires {names}, but no column is mapped to "
            f"{'it' if len(missing) == 1 else 'them'}. Map a column to each required field, "
            "or mark the field optional in the template.",
            field="mapping",
        )
