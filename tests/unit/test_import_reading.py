from __future__ import annotations

import codecs
import datetime as dt
import os
import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest

from backend.core.errors import UnsupportedFileError, ValidationError
from backend.imports import reading
from backend.imports.reading import FileAnalysis, analyze_file, format_cell, iter_rows

FIXTURES = Path(__file__).parent.parent / "fixtures" / "contacts"

CONTACTS = "Email,First Name\njane@example.com,Jane\njohn@example.com,John\n"


def write_bytes(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def write_text(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    return write_bytes(tmp_path, name, text.encode(encoding))


def all_rows(path: Path, analysis: FileAnalysis) -> list[tuple[int, list[str]]]:
    return list(iter_rows(path, analysis))


def write_workbook(path: Path, sheets: dict[str, list[list[object]]], hidden: set[str]) -> Path:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
        if name in hidden:
            sheet.sheet_state = "hidden"
    workbook.save(path)
    return path


def write_ods(path: Path, rows: list[list[str | float]]) -> Path:
    cells_xml = []
    for row in rows:
        cells = []
        for value in row:
            if isinstance(value, float):
                cells.append(
                    f'<table:table-cell office:value-type="float" office:value="{value}">'
                    f"<text:p>{value}</text:p></table:table-cell>"
                )
            else:
                cells.append(
                    '<table:table-cell office:value-type="string">'
                    f"<text:p>{value}</text:p></table:table-cell>"
                )
        cells_xml.append(f"<table:table-row>{''.join(cells)}</table:table-row>")

    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="Kontakte">'
        f"{''.join(cells_xml)}"
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
        ' manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/"'
        ' manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"),
            "application/vnd.oasis.opendocument.spreadsheet",
            compress_type=zipfile.ZIP_STORED,
        )
        archive.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return path


# Encoding


def test_encoding_utf8_without_bom(tmp_path: Path) -> None:
    path = write_text(tmp_path, "c.csv", "Email,Name\nj@example.com,Jörg\n")

    analysis = analyze_file(path, "c.csv")

    assert analysis.encoding == "utf-8"
    assert all_rows(path, analysis) == [(2, ["j@example.com", "Jörg"])]


def test_encoding_utf8_bom_removed_from_header(tmp_path: Path) -> None:
    path = write_bytes(
        tmp_path, "c.csv", codecs.BOM_UTF8 + "Email;Name\nj@example.com;Jörg\n".encode()
    )

    analysis = analyze_file(path, "c.csv")

    assert analysis.encoding == "utf-8-sig"
    assert analysis.columns == ["Email", "Name"]
    assert analysis.delimiter == ";"


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_encoding_utf16_with_bom(tmp_path: Path, codec: str) -> None:
    bom = codecs.BOM_UTF16_LE if codec.endswith("le") else codecs.BOM_UTF16_BE
    text = "Email\tName\r\nj@example.com\tJörg\r\n"
    path = write_bytes(tmp_path, "c.txt", bom + text.encode(codec))

    analysis = analyze_file(path, "c.txt")

    assert analysis.encoding == "utf-16"
    assert analysis.delimiter == "\t"
    assert analysis.columns == ["Email", "Name"]
    assert all_rows(path, analysis) == [(2, ["j@example.com", "Jörg"])]


def test_encoding_cp1252_fallback(tmp_path: Path) -> None:
    path = write_text(tmp_path, "c.csv", "Email,Name\nj@example.com,Jörg\n", encoding="cp1252")

    analysis = analyze_file(path, "c.csv")

    assert analysis.encoding == "cp1252"
    assert all_rows(path, analysis) == [(2, ["j@example.com", "Jörg"])]


def test_encoding_cp1252_after_long_ascii_prefix(tmp_path: Path) -> None:
    ascii_rows = "".join(f"user{i}@example.com,Name\n" for i in range(100_000))
    text = "Email,Name\n" + ascii_rows + "j@example.com,Jörg\n"
    path = write_text(tmp_path, "c.csv", text, encoding="cp1252")
    assert path.stat().st_size > 2 * 1024 * 1024

    analysis = analyze_file(path, "c.csv")

    assert analysis.encoding == "cp1252"
    assert all_rows(path, analysis)[-1] == (100_002, ["j@example.com", "Jörg"])


def test_encoding_utf8_char_across_chunk_boundary(tmp_path: Path) -> None:
    prefix = "Email,Name\n"
    filler = "a" * (reading._UTF8_CHECK_CHUNK_BYTES - len(prefix) - 1)
    data = (prefix + filler).encode() + "é\nj@example.com,Jörg\n".encode()
    assert data[reading._UTF8_CHECK_CHUNK_BYTES - 1 : reading._UTF8_CHECK_CHUNK_BYTES + 1] == (
        "é".encode()
    )
    path = write_bytes(tmp_path, "c.csv", data)

    assert analyze_file(path, "c.csv").encoding == "utf-8"


def test_encoding_explicit_overrides_detection(tmp_path: Path) -> None:
    path = write_text(tmp_path, "c.csv", "Email,Name\nj@example.com,Jörg\n", encoding="cp1252")

    analysis = analyze_file(path, "c.csv", encoding="latin-1")

    assert analysis.encoding == "iso8859-1"
    assert all_rows(path, analysis) == [(2, ["j@example.com", "Jörg"])]


def test_encoding_unknown_name_rejected(tmp_path: Path) -> None:
    path = write_text(tmp_path, "c.csv", CONTACTS)

    with pytest.raises(ValidationError) as caught:
        analyze_file(path, "c.csv", encoding="klingon-8")

    assert caught.value.field == "encoding"
    assert "klingon-8" in caught.value.message


def test_encoding_explicit_wrong_codec_rejected(tmp_path: Path) -> None:
    path = write_text(tmp_path, "c.csv", "Email,Name\nj@example.com,Jörg\n", encoding="cp1252")

    with pytest.raises(ValidationError) as caught:
        analyze_file(path, "c.csv", encoding="utf-8")

    assert caught.value.field == "encoding"
    assert "c.csv" in caught.value.message


# Delimiter and line endings


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_detected(tmp_path: Path, delimiter: str) -> None:
    lines = ["Email", "First Name", "City"], ["a@example.com", "Ann", "Köln"]
    text = "".join(delimiter.join(line) + "\n" for line in lines * 3)
    path = write_text(tmp_path, "c.txt", text)

    analysis = analyze_file(path, "c.txt")

    assert analysis.delimiter == delimiter
    assert analysis.columns == ["Email", "First Name", "City"]


def test_delimiter_semicolon_with_decimal_commas(tmp_path: Path) -> None:
    text = "E-Mail;Vorname;PLZ;Umsatz\n" + "".join(
        f"p{i}@example.de;Jörg;0{i}123;{i}81138,97\n" for i in range(10)
    )
    path = write_text(tmp_path, "c.csv", text)

    analysis = analyze_file(path, "c.csv")

    assert analysis.delimiter == ";"
    assert analysis.sample_rows[0] == ["p0@example.de", "Jörg", "00123", "081138,97"]


def test_delimiter_from_excel_separator_line(tmp_path: Path) -> None:
    text = "sep=;\r\nEmail;Name,Title\r\n" + "a@example.com;Ann,Dr\r\n" * 3
    path = write_text(tmp_path, "c.csv", text)

    analysis = analyze_file(path, "c.csv")

    assert analysis.delimiter == ";"
    assert analysis.header_row == 2
    assert analysis.columns == ["Email", "Name,Title"]


def test_delimiter_one_column_of_addresses(tmp_path: Path) -> None:
    text = "email\n" + "".join(f"first.last{i}@sub.example.co.uk\n" for i in range(30))
    path = write_text(tmp_path, "list.txt", text)

    analysis = analyze_file(path, "list.txt")

    assert analysis.columns == ["email"]
    assert analysis.delimiter == ","
    assert all_rows(path, analysis)[0] == (2, ["first.last0@sub.example.co.uk"])


def test_delimiter_tsv_extension_preferred_for_one_column(tmp_path: Path) -> None:
    path = write_text(tmp_path, "list.tsv", "email\na@example.com\n")

    assert analyze_file(path, "list.tsv").delimiter == "\t"


def test_quoted_fields_with_newlines_and_delimiters(tmp_path: Path) -> None:
    text = (
        '"Email","Name","Notes"\r\n'
        '"a@example.com","Ann","met at expo,\r\nwants pricing"\r\n'
        '"b@example.com","Bob","says ""hi""; twice"\r\n'
        '"c@example.com","Cy",""\r\n'
    )
    path = write_text(tmp_path, "c.csv", text)

    analysis = analyze_file(path, "c.csv")
    rows = all_rows(path, analysis)

    assert analysis.delimiter == ","
    assert rows[0] == (2, ["a@example.com", "Ann", "met at expo,\r\nwants pricing"])
    assert rows[1] == (3, ["b@example.com", "Bob", 'says "hi"; twice'])
    assert rows[2][0] == 4


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_line_endings(tmp_path: Path, newline: str) -> None:
    text = newline.join(["Email,Name", "a@example.com,Ann", "", "b@example.com,Bob", ""])
    path = write_text(tmp_path, "c.csv", text)

    analysis = analyze_file(path, "c.csv")
    rows = all_rows(path, analysis)

    assert analysis.columns == ["Email", "Name"]
    assert rows == [(2, ["a@example.com", "Ann"]), (3, ["", ""]), (4, ["b@example.com", "Bob"])]


def test_huge_field_read_whole(tmp_path: Path) -> None:
    notes = "x" * 500_000
    path = write_text(tmp_path, "c.csv", f'Email,Notes\na@example.com,"{notes}"\nb@example.com,\n')

    analysis = analyze_file(path, "c.csv")
    rows = all_rows(path, analysis)

    assert len(rows) == 2
    assert rows[0][1][1] == notes


def test_columns_cover_sample_rows_wider_than_header(tmp_path: Path) -> None:
    path = write_text(tmp_path, "c.csv", "Email,Name\na@example.com,Ann,VIP\n")

    analysis = analyze_file(path, "c.csv")

    assert analysis.columns == ["Email", "Name", "Column 3"]
    assert all_rows(path, analysis) == [(2, ["a@example.com", "Ann", "VIP"])]


def test_rows_padded_and_cut_to_columns(tmp_path: Path) -> None:
    text = "Email,Name\n" + "a@example.com,Ann\n" * 5 + "b@example.com\nc@example.com,Cy,extra\n"
    path = write_text(tmp_path, "c.csv", text)

    analysis = analyze_file(path, "c.csv")
    rows = all_rows(path, analysis)

    assert analysis.columns == ["Email", "Name"]
    assert rows[-2:] == [(7, ["b@example.com", ""]), (8, ["c@example.com", "Cy"])]


# Header row and columns


def test_header_after_title_and_blank_rows(tmp_path: Path) -> None:
    text = "Member list exported 2026-11-30,,\n,,\nEmail,Name,City\n" + "".join(
        f"m{i}@example.com,Name {i},Town\n" for i in range(8)
    )
    path = write_text(tmp_path, "c.csv", text)

    analysis = analyze_file(path, "c.csv")

    assert analysis.header_row == 3
    assert analysis.columns == ["Email", "Name", "City"]
    assert all_rows(path, analysis)[0] == (4, ["m0@example.com", "Name 0", "Town"])


def test_header_after_leading_empty_lines(tmp_path: Path) -> None:
    path = write_text(tmp_path, "c.csv", "\n\n" + CONTACTS)

    assert analyze_file(path, "c.csv").header_row == 3


def test_header_row_explicit(tmp_path: Path) -> None:
    path = write_text(tmp_path, "c.csv", CONTACTS)

    analysis = analyze_file(path, "c.csv", header_row=2)

    assert analysis.header_row == 2
    assert analysis.columns == ["jane@example.com", "Jane"]
    assert all_rows(path, analysis) == [(3, ["john@example.com", "John"])]


@pytest.mark.parametrize("header_row", [0, 9])
def test_header_row_out_of_range_rejected(tmp_path: Path, header_row: int) -> None:
    path = write_text(tmp_path, "c.csv", CONTACTS)

    with pytest.raises(ValidationError) as caught:
        analyze_file(path, "c.csv", header_row=header_row)

    assert caught.value.field == "header_row"


def test_columns_trimmed_named_and_deduplicated(tmp_path: Path) -> None:
    text = " Email\u00a0,,Name,Name,Name (2), \n a@example.com,x,Ann,A,B,y\n"
    path = write_text(tmp_path, "c.csv", text)

    analysis = analyze_file(path, "c.csv")

    assert analysis.columns == ["Email", "Column 2", "Name", "Name (3)", "Name (2)", "Column 6"]


def test_trailing_empty_columns_dropped(tmp_path: Path) -> None:
    path = write_text(tmp_path, "c.csv", "Email,Name,,\na@example.com,Ann,,\n")

    analysis = analyze_file(path, "c.csv")

    assert analysis.columns == ["Email", "Name"]


def test_sample_rows_skip_blank_and_stop_at_five(tmp_path: Path) -> None:
    text = "Email\n\n" + "".join(f"u{i}@example.com\n" for i in range(9))
    path = write_text(tmp_path, "c.csv", text)

    analysis = analyze_file(path, "c.csv")

    assert analysis.sample_rows == [[f"u{i}@example.com"] for i in range(5)]


@pytest.mark.parametrize(
    "text", ["\ufeff", "\n\n  \n", "Email,Name\n", "Email,Name\n,\n  ,  \n"], ids=repr
)
def test_no_data_rejected(tmp_path: Path, text: str) -> None:
    path = write_text(tmp_path, "c.csv", text)

    with pytest.raises(ValidationError) as caught:
        analyze_file(path, "c.csv")

    assert "c.csv" in caught.value.message
    assert not isinstance(caught.value, UnsupportedFileError)


def test_empty_file_rejected(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "c.csv", b"")

    with pytest.raises(ValidationError, match=re.escape("'c.csv' is empty")):
        analyze_file(path, "c.csv")


# Format detection


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "PDF"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG"),
        (bytes(range(256)) * 40, "binary"),
        (os.urandom(4096).replace(b"\x00", b"\x01"), "binary"),
    ],
    ids=["pdf", "png", "all-bytes", "random"],
)
def test_non_text_file_unsupported(tmp_path: Path, data: bytes, kind: str) -> None:
    path = write_bytes(tmp_path, "contacts.csv", data)

    with pytest.raises(UnsupportedFileError) as caught:
        analyze_file(path, "contacts.csv")

    assert "'contacts.csv'" in caught.value.message
    assert kind in caught.value.message
    assert "XLSX, XLS or ODS" in caught.value.message


def test_zip_without_workbook_unsupported(tmp_path: Path) -> None:
    path = tmp_path / "contacts.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")

    with pytest.raises(UnsupportedFileError, match="not an XLSX or ODS workbook"):
        analyze_file(path, "contacts.xlsx")


def test_zip_bomb_entry_ratio_rejected(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\x00" * (20 * 1024 * 1024))
    assert path.stat().st_size < 100 * 1024

    with pytest.raises(ValidationError, match="zip bomb") as caught:
        analyze_file(path, "bomb.xlsx")

    assert "xl/worksheets/sheet1.xml" in caught.value.message


def test_zip_bomb_total_size_rejected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reading, "MAX_ZIP_UNCOMPRESSED_BYTES", 100_000)
    path = shutil.copy(FIXTURES / "hubspot-export.xlsx", tmp_path / "h.xlsx")

    with pytest.raises(ValidationError, match="zip bomb"):
        analyze_file(Path(path), "h.xlsx")


def test_workbook_detected_by_content_not_extension(tmp_path: Path) -> None:
    xlsx = Path(shutil.copy(FIXTURES / "hubspot-export.xlsx", tmp_path / "upload-1"))
    xls = Path(shutil.copy(FIXTURES / "legacy-members.xls", tmp_path / "members.csv"))

    assert analyze_file(xlsx, "upload-1").format == "xlsx"
    assert analyze_file(xls, "members.csv").format == "xls"


def test_damaged_xls_unsupported(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 truncated")

    with pytest.raises(UnsupportedFileError, match=re.escape("'old.xls' could not be read")):
        analyze_file(path, "old.xls")


# Workbooks


def test_xlsx_hidden_sheet_not_listed(tmp_path: Path) -> None:
    path = write_workbook(
        tmp_path / "w.xlsx",
        {
            "Lookup": [["code"], ["x"]],
            "People": [["Email"], ["a@example.com"]],
            "Other": [["Email"], ["b@example.com"]],
        },
        hidden={"Lookup"},
    )

    analysis = analyze_file(path, "w.xlsx")

    assert analysis.sheets == ["People", "Other"]
    assert analysis.sheet == "People"
    assert all_rows(path, analysis) == [(2, ["a@example.com"])]


def test_xlsx_hidden_sheets_listed_when_none_visible(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "w.xlsx", {"Only": [["Email"], ["a@example.com"]]}, set())
    workbook = openpyxl.load_workbook(path)
    workbook.create_sheet("Second").append(["Email"])
    workbook["Second"].append(["b@example.com"])
    workbook.save(path)
    # openpyxl refuses to hide every sheet, so the test hides them in the XML directly.
    rewritten = tmp_path / "hidden.xlsx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(rewritten, "w") as target:
        for entry in source.infolist():
            data = source.read(entry)
            if entry.filename == "xl/workbook.xml":
                data = data.replace(b"<sheet ", b'<sheet state="hidden" ')
            target.writestr(entry, data)

    analysis = analyze_file(rewritten, "hidden.xlsx")

    assert analysis.sheets == ["Only", "Second"]
    assert analysis.sheet == "Only"


def test_xlsx_explicit_sheet(tmp_path: Path) -> None:
    path = write_workbook(
        tmp_path / "w.xlsx",
        {"A": [["Email"], ["a@example.com"]], "B": [["Mail"], ["b@example.com"]]},
        set(),
    )

    analysis = analyze_file(path, "w.xlsx", sheet="B")

    assert analysis.sheet == "B"
    assert analysis.columns == ["Mail"]
    assert all_rows(path, analysis) == [(2, ["b@example.com"])]


def test_xlsx_unknown_sheet_rejected(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "w.xlsx", {"A": [["Email"], ["a@example.com"]]}, set())

    with pytest.raises(ValidationError) as caught:
        analyze_file(path, "w.xlsx", sheet="Missing")

    assert caught.value.field == "sheet"
    assert "'Missing'" in caught.value.message
    assert "'A'" in caught.value.message


def test_xlsx_empty_first_sheet_skipped(tmp_path: Path) -> None:
    path = write_workbook(
        tmp_path / "w.xlsx", {"Blank": [], "Data": [["Email"], ["a@example.com"]]}, set()
    )

    assert analyze_file(path, "w.xlsx").sheet == "Data"


def test_xlsx_positions_kept_with_leading_empty_area(tmp_path: Path) -> None:
    path = tmp_path / "w.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "S"
    sheet["B3"] = "Email"
    sheet["C3"] = "Phone"
    sheet["B4"] = "a@example.com"
    sheet["C4"] = 447700900123
    sheet["B6"] = "b@example.com"
    workbook.save(path)

    analysis = analyze_file(path, "w.xlsx")
    rows = all_rows(path, analysis)

    assert analysis.header_row == 3
    assert analysis.columns == ["Column 1", "Email", "Phone"]
    assert rows == [
        (4, ["", "a@example.com", "447700900123"]),
        (5, ["", "", ""]),
        (6, ["", "b@example.com", ""]),
    ]


def test_xlsx_title_row_detected(tmp_path: Path) -> None:
    rows: list[list[object]] = [["Export of 2026-11-30"], [], ["Email", "Name", "Joined"]]
    rows += [[f"u{i}@example.com", f"N{i}", dt.date(2024, 1, i + 1)] for i in range(6)]
    path = write_workbook(tmp_path / "w.xlsx", {"S": rows}, set())

    analysis = analyze_file(path, "w.xlsx")

    assert analysis.header_row == 3
    assert analysis.sample_rows[0] == ["u0@example.com", "N0", "2024-01-01"]


def test_ods_read(tmp_path: Path) -> None:
    path = write_ods(
        tmp_path / "k.ods", [["E-Mail", "Vorname", "Telefon"], ["a@example.com", "Jörg", 4.9e11]]
    )

    analysis = analyze_file(path, "k.ods")

    assert analysis.format == "ods"
    assert analysis.sheets == ["Kontakte"]
    assert all_rows(path, analysis) == [(2, ["a@example.com", "Jörg", "490000000000"])]


def test_workbook_file_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reading, "MAX_WORKBOOK_BYTES", 1000)
    path = Path(shutil.copy(FIXTURES / "legacy-members.xls", tmp_path / "m.xls"))

    with pytest.raises(ValidationError, match="limit for workbooks") as caught:
        analyze_file(path, "m.xls")

    assert "CSV" in caught.value.message


def test_workbook_row_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reading, "MAX_SHEET_ROWS", 100)
    path = Path(shutil.copy(FIXTURES / "legacy-members.xls", tmp_path / "m.xls"))

    with pytest.raises(ValidationError, match="609 rows, above the limit of 100 rows"):
        analyze_file(path, "m.xls")


def test_workbook_rows_past_analysis_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reading, "ANALYSIS_SHEET_ROWS", 4)
    rows: list[list[object]] = [["Email"], *([] for _ in range(6)), ["late@example.com"]]
    path = write_workbook(tmp_path / "w.xlsx", {"S": rows}, set())

    analysis = analyze_file(path, "w.xlsx")

    assert analysis.sample_rows == [["late@example.com"]]
    assert all_rows(path, analysis)[-1] == (8, ["late@example.com"])


# Cell formatting


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("  kept as is ", "  kept as is "),
        (447700900123.0, "447700900123"),
        (6016, "6016"),
        (-0.0, "0"),
        (0.1, "0.1"),
        (81138.97, "81138.97"),
        (1e-07, "1e-07"),
        (True, "TRUE"),
        (False, "FALSE"),
        (dt.date(2023, 10, 9), "2023-10-09"),
        (dt.datetime(2026, 2, 2, 15, 13), "2026-02-02 15:13:00"),
        (dt.datetime(2026, 2, 2), "2026-02-02"),
        (dt.datetime(2026, 2, 2, 1, 2, 3, 500_000), "2026-02-02 01:02:03.500"),
        (dt.time(12, 30), "12:30:00"),
        (dt.timedelta(hours=26, minutes=3), "26:03:00"),
        (dt.timedelta(minutes=-90), "-1:30:00"),
        (dt.timedelta(seconds=1.25), "0:00:01.25"),
        (None, ""),
    ],
    ids=repr,
)
def test_format_cell(value: object, text: str) -> None:
    assert format_cell(value) == text


def test_xlsx_merged_cells_fill_every_row(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in [
        ["Email", "Company", "City"],
        ["a@example.com", "Acme", "Lyon"],
        ["b@example.com", None, None],
        ["c@example.com", None, "Oslo"],
        ["d@example.com", "Beta", "Pune"],
    ]:
        sheet.append(row)
    sheet.merge_cells("B2:B4")
    sheet.merge_cells("C2:C3")
    workbook.save(tmp_path / "merged.xlsx")
    path = tmp_path / "merged.xlsx"

    analysis = analyze_file(path, "merged.xlsx")

    assert all_rows(path, analysis) == [
        (2, ["a@example.com", "Acme", "Lyon"]),
        (3, ["b@example.com", "Acme", "Lyon"]),
        (4, ["c@example.com", "Acme", "Oslo"]),
        (5, ["d@example.com", "Beta", "Pune"]),
    ]


def test_xlsx_merged_cells_keep_columns_apart(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in [["Email", "First", "Last"], ["a@example.com", "Ana Silva", None]]:
        sheet.append(row)
    sheet.merge_cells("B2:C2")
    workbook.save(tmp_path / "wide.xlsx")
    path = tmp_path / "wide.xlsx"

    analysis = analyze_file(path, "wide.xlsx")

    assert all_rows(path, analysis) == [(2, ["a@example.com", "Ana Silva", ""])]
