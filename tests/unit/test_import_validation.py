from __future__ import annotations

import email_validator
import pytest

from backend.core.errors import ValidationError
from backend.imports import validation
from backend.imports.mapping import normalize_header, suggest_mapping
from backend.imports.validation import FieldRule, RowProblem, RowValidator, ValidRow, parse_email

COLUMNS = ["Email Address", "First Name", "Last Name", "City"]
MAPPING: dict[str, str | None] = {
    "Email Address": "email",
    "First Name": "first_name",
    "Last Name": "last_name",
    "City": None,
}
RULES = [
    FieldRule("email"),
    FieldRule("first_name"),
    FieldRule("last_name", required=False, default="Friend"),
]


def make_validator() -> RowValidator:
    return RowValidator(COLUMNS, MAPPING, RULES)


def library_parse(text: str) -> tuple[str, str]:
    result = email_validator.validate_email(text, check_deliverability=False)
    address = f"{result.local_part}@{result.ascii_domain}"
    return address, address.lower()


# parse_email


@pytest.mark.parametrize(
    ("raw", "address", "key"),
    [
        ("jane@example.com", "jane@example.com", "jane@example.com"),
        ("Jane.Doe@EXAMPLE.COM", "Jane.Doe@example.com", "jane.doe@example.com"),
        ("  jane@example.com\u00a0", "jane@example.com", "jane@example.com"),
        ("\u200bjane@example.com\ufeff", "jane@example.com", "jane@example.com"),
        ("Jane Doe <jane+news@example.com>", "jane+news@example.com", "jane+news@example.com"),
        ("<jane@example.com>", "jane@example.com", "jane@example.com"),
        ("Zoë Kowalski < zoe@mail.example.com >", "zoe@mail.example.com", "zoe@mail.example.com"),
        ("joerg@bücher.de", "joerg@xn--bcher-kva.de", "joerg@xn--bcher-kva.de"),
        ("x@EXÄMPLE.com", "x@xn--exmple-cua.com", "x@xn--exmple-cua.com"),
        ("a@xn--bcher-kva.de", "a@xn--bcher-kva.de", "a@xn--bcher-kva.de"),
        ("o'brien@example.ie", "o'brien@example.ie", "o'brien@example.ie"),
    ],
)
def test_parse_email_valid(raw: str, address: str, key: str) -> None:
    assert parse_email(raw) == (address, key)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   \u00a0",
        "jane@example,com",
        "jane@@example.com",
        "jane@-example.com",
        "jane.doe.example.com",
        "jane@example.com.",
        "jane@",
        "@example.com",
        "jane@example_com",
        "mailto",
        "jane doe@example.com",
        "a@localhost",
        "a@b.c1",
        "a@example.test",
        "Name <>",
        "a..b@example.com",
        "a@" + "b" * 64 + ".com",
        # Non-ASCII before the @ needs SMTPUTF8, which Brevo does not offer.
        "jörg@bücher.de",
        "ünï@example.com",
    ],
)
def test_parse_email_invalid(raw: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_email(raw)

    assert caught.value.field == "email"


def test_parse_email_message_names_value_and_reason() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_email(" jane@example,com ")

    assert caught.value.message.startswith(
        "'jane@example,com' is not a valid email address. The part after the @-sign"
    )


@pytest.mark.parametrize(
    "text",
    [
        "plain@example.com",
        "UPPER.CASE@EXAMPLE.ORG",
        "first_last-1+tag@sub-domain.mail.example.co.uk",
        "a@b.co",
        "a@example.c",
        "a@1example.com",
        "a@example.123",
        "a@ab--cd.example.com",
        "a@xn--bcher-kva.de",
        "a@xn--invalid-.de",
        "a@exa--mple.com",
        "a@-example.com",
        "a@example-.com",
        "a@example.onion",
        "a@sub.example.arpa",
        "a@sub.LOCAL",
        ".a@example.com",
        "a.@example.com",
        "x" * 64 + "@example.com",
        "x" * 65 + "@example.com",
        "a@" + "b" * 63 + ".com",
        "a@" + "b" * 64 + ".com",
        "a@" + ".".join(["abcdefghij" * 6] * 4) + ".com",
        "user@" + "example." * 30 + "com",
    ],
)
def test_parse_email_fast_path_agrees_with_library(text: str) -> None:
    try:
        expected = library_parse(text)
    except email_validator.EmailNotValidError:
        with pytest.raises(ValidationError):
            parse_email(text)
        return

    assert parse_email(text) == expected


def test_parse_email_fast_path_taken_for_plain_address() -> None:
    assert validation._parse_simple_address("Jane@Example.COM") == "Jane@example.com"
    assert validation._parse_simple_address("jane@bücher.de") is None


# RowValidator: verdicts


def test_check_valid_row_fields() -> None:
    row = make_validator().check(2, [" Jane@Example.com ", "\u00a0Jane ", "Doe", "Lagos"])

    assert row == ValidRow(
        row_number=2,
        email="Jane@example.com",
        email_key="jane@example.com",
        fields={"email": "Jane@example.com", "first_name": "Jane", "last_name": "Doe"},
    )


def test_check_optional_default_filled() -> None:
    row = make_validator().check(2, ["jane@example.com", "Jane", " ", ""])

    assert isinstance(row, ValidRow)
    assert row.fields["last_name"] == "Friend"


@pytest.mark.parametrize("cells", [["", "", "", ""], [" ", "\u00a0", "\t", ""], []])
def test_check_blank_row_ignored(cells: list[str]) -> None:
    assert make_validator().check(5, cells) is None


def test_check_invalid_email_message() -> None:
    problem = make_validator().check(14, ["jane@example,com", "Jane", "", ""])

    assert isinstance(problem, RowProblem)
    assert problem.reason == "invalid_email"
    assert problem.column == "Email Address"
    assert problem.value == "jane@example,com"
    assert problem.message.startswith(
        "Row 14, column 'Email Address': 'jane@example,com' is not a valid email address."
    )


def test_check_empty_email_is_invalid() -> None:
    problem = make_validator().check(7, ["  ", "Jane", "Doe", ""])

    assert isinstance(problem, RowProblem)
    assert problem.reason == "invalid_email"
    assert problem.message == (
        "Row 7, column 'Email Address': the email address is empty. Fill it in or delete the row."
    )


def test_check_invalid_email_wins_over_missing_field() -> None:
    problem = make_validator().check(3, ["jane@", "", "", ""])

    assert isinstance(problem, RowProblem)
    assert problem.reason == "invalid_email"


def test_check_missing_required() -> None:
    problem = make_validator().check(9, ["jane@example.com", " \u00a0", "Doe", ""])

    assert isinstance(problem, RowProblem)
    assert problem.reason == "missing_required"
    assert problem.column == "First Name"
    assert problem.value == ""
    assert problem.message.startswith(
        "Row 9, column 'First Name': the required field 'first_name' is empty."
    )
    assert "optional" in problem.message


def test_check_duplicate_names_first_row() -> None:
    validator = make_validator()
    first = validator.check(2, ["jane@example.com", "Jane", "", ""])

    problem = validator.check(5, ["Jane Doe <JANE@example.COM>", "Jane", "", ""])

    assert isinstance(first, ValidRow)
    assert isinstance(problem, RowProblem)
    assert problem.reason == "duplicate"
    assert problem.column == "Email Address"
    assert "duplicate of row 2" in problem.message
    assert problem.message.startswith("Row 5, column 'Email Address':")


def test_check_duplicate_only_of_valid_rows() -> None:
    validator = make_validator()
    missing = validator.check(2, ["jane@example.com", "", "", ""])

    valid = validator.check(3, ["jane@example.com", "Jane", "", ""])
    duplicate = validator.check(4, ["jane@example.com", "Jane", "", ""])

    assert isinstance(missing, RowProblem)
    assert isinstance(valid, ValidRow)
    assert isinstance(duplicate, RowProblem)
    assert "duplicate of row 3" in duplicate.message


def test_check_short_row_padded() -> None:
    problem = make_validator().check(4, ["jane@example.com"])

    assert isinstance(problem, RowProblem)
    assert problem.reason == "missing_required"


def test_check_mapped_field_without_rule_kept() -> None:
    mapping = {**MAPPING, "City": "city"}
    validator = RowValidator(COLUMNS, mapping, RULES)

    row = validator.check(2, ["jane@example.com", "Jane", "", " Lagos "])

    assert isinstance(row, ValidRow)
    assert row.fields["city"] == "Lagos"


# RowValidator: mapping checks


def test_validator_requires_email_column() -> None:
    mapping = {**MAPPING, "Email Address": None}

    with pytest.raises(ValidationError, match="No column is mapped to 'email'") as caught:
        RowValidator(COLUMNS, mapping, RULES)

    assert caught.value.field == "mapping"


def test_validator_requires_columns_for_required_fields() -> None:
    rules = [*RULES, FieldRule("company"), FieldRule("plan")]

    with pytest.raises(ValidationError) as caught:
        RowValidator(COLUMNS, MAPPING, rules)

    assert "'company', 'plan'" in caught.value.message
    assert "mark the field optional in the template" in caught.value.message


def test_validator_optional_field_may_be_unmapped() -> None:
    rules = [*RULES, FieldRule("company", required=False)]

    row = RowValidator(COLUMNS, MAPPING, rules).check(2, ["jane@example.com", "Jane", "", ""])

    assert isinstance(row, ValidRow)
    assert "company" not in row.fields


def test_validator_rejects_field_mapped_twice() -> None:
    mapping = {**MAPPING, "Last Name": "first_name"}

    with pytest.raises(ValidationError, match="'First Name' and 'Last Name'"):
        RowValidator(COLUMNS, mapping, RULES)


def test_validator_rejects_unknown_column() -> None:
    mapping = {**MAPPING, "Phone": None}

    with pytest.raises(ValidationError, match="'Phone'"):
        RowValidator(COLUMNS, mapping, RULES)


# Mapping suggestions


@pytest.mark.parametrize(
    ("header", "normalized"),
    [
        ("E-mail Address", "emailaddress"),
        ("  First_Name ", "firstname"),
        ("Prénom", "prenom"),
        ("E-mail 1 - Value", "email1value"),
        ("Straße", "strasse"),
        ("", ""),
    ],
)
def test_normalize_header(header: str, normalized: str) -> None:
    assert normalize_header(header) == normalized


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Email Address", "email"),
        ("E-mail Address", "email"),
        ("E-Mail", "email"),
        ("Mail", "email"),
        ("Email", "email"),
        ("E-mail 1 - Value", "email"),
        ("First Name", "first_name"),
        ("Vorname", "first_name"),
        ("Given Name", "first_name"),
        ("Prénom", "first_name"),
        ("Nombre", "first_name"),
        ("Last Name", "last_name"),
        ("Nachname", "last_name"),
        ("Surname", "last_name"),
        ("Family Name", "last_name"),
        ("Company", "company"),
        ("Company Name", "company"),
        ("Firma", "company"),
        ("Organization", "company"),
        ("Phone Number", "phone"),
        ("Telefon", "phone"),
        ("PLZ", "zip"),
    ],
)
def test_suggest_mapping_known_variants(header: str, field: str) -> None:
    fields = ["first_name", "last_name", "company", "phone", "zip"]

    assert suggest_mapping([header], fields) == {header: field}


def test_suggest_mapping_google_value_column() -> None:
    columns = [
        "First Name",
        "E-mail 2 - Label",
        "E-mail 2 - Value",
        "E-mail 1 - Label",
        "E-mail 1 - Value",
    ]

    mapping = suggest_mapping(columns, ["first_name"])

    assert mapping == {
        "First Name": "first_name",
        "E-mail 2 - Label": None,
        "E-mail 2 - Value": None,
        "E-mail 1 - Label": None,
        "E-mail 1 - Value": "email",
    }


def test_suggest_mapping_prefers_exact_email_over_numbered() -> None:
    columns = ["E-mail 2 Address", "E-mail Address"]

    assert suggest_mapping(columns, []) == {"E-mail 2 Address": None, "E-mail Address": "email"}


def test_suggest_mapping_field_used_once() -> None:
    columns = ["Mail", "Email", "Email Address"]

    assert suggest_mapping(columns, []) == {"Mail": None, "Email": "email", "Email Address": None}


def test_suggest_mapping_field_name_equal_after_normalizing() -> None:
    columns = ["City", "Member Tier", "firstName"]

    mapping = suggest_mapping(columns, ["city", "member_tier", "first_name"])

    assert mapping == {"City": "city", "Member Tier": "member_tier", "firstName": "first_name"}


def test_suggest_mapping_email_always_candidate() -> None:
    assert suggest_mapping(["E-Mail", "Notes"], []) == {"E-Mail": "email", "Notes": None}


def test_overlong_value_is_invalid_value() -> None:
    validator = RowValidator(
        ["Email", "First"],
        {"Email": "email", "First": "first_name"},
        [FieldRule(name="first_name")],
    )

    outcome = validator.check(2, ["ada@example.com", "x" * 2001])

    assert isinstance(outcome, RowProblem)
    assert outcome.reason == "invalid_value"
    assert outcome.column == "First"
    assert "2,001 characters" in outcome.message
