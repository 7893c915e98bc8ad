import datetime as dt
import json
from pathlib import Path

import openpyxl
import pytest

from connectors.sources import (
    SourceError,
    detect_encoding,
    detect_separator,
    open_source,
    spreadsheet_cell,
)

HEADER = ["matricule", "iris", "type_foyer"]
ROWS = [["A1", "330630101", "Isolé"], ["B2", "330690102", "Foyer monoparental"]]


def all_rows(path: Path, size: int = 1000, sheet: str | None = None) -> list[tuple[int, list]]:
    out = []
    for batch in open_source(path, sheet).batches(size):
        out += list(zip(batch.numbers, batch.rows, strict=True))
    return out


@pytest.mark.parametrize(
    ("encoding", "bom", "expected"),
    [
        ("utf-8", b"", "UTF-8"),
        ("utf-8", b"\xef\xbb\xbf", "UTF-8 with BOM"),
        ("cp1252", b"", "Windows-1252"),
    ],
)
@pytest.mark.parametrize("sep", [";", ","])
def test_csv_encodings_and_separators(
    tmp_path: Path, encoding: str, bom: bytes, expected: str, sep: str
) -> None:
    text = "\r\n".join(sep.join(r) for r in [HEADER, *ROWS]) + "\r\n"
    path = tmp_path / "x.csv"
    path.write_bytes(bom + text.encode(encoding))
    source = open_source(path)
    assert source.columns == tuple(HEADER)
    assert source.description == f"CSV, separator {sep!r}, {expected}"
    assert all_rows(path) == [(2, ROWS[0]), (3, ROWS[1])]


def test_batches_keep_spreadsheet_row_numbers(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    lines = ["a;b"] + [f"{i};x" for i in range(10)]
    lines.insert(3, "")  # a blank line inside a batch still counts as a row
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    batches = list(open_source(path).batches(3))
    assert [len(b.rows) for b in batches] == [3, 3, 3, 1]
    numbered = [(n, r[0]) for b in batches for n, r in zip(b.numbers, b.rows, strict=True)]
    assert numbered[:4] == [(2, "0"), (3, "1"), (5, "2"), (6, "3")]
    assert numbered[-1] == (12, "9")


def test_utf8_sample_cut_inside_a_character_is_still_utf8() -> None:
    assert detect_encoding(("a" * 10 + "é").encode()[:-1], whole_file=False) == "utf-8"
    assert detect_encoding("Isolé".encode("cp1252")) == "cp1252"
    assert detect_encoding(b"\x81abc") == "latin-1"


def test_detect_separator() -> None:
    assert detect_separator("a;b;c") == ";"
    assert detect_separator("a,b,c") == ","
    assert detect_separator("a\tb") == "\t"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"a;;b\n1;2;3\n", "row 1: column 2 has no name"),
        (b"a;a\n1;2\n", "row 1: column 'a' appears twice"),
    ],
)
def test_bad_csv_headers(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    with pytest.raises(SourceError, match=message):
        open_source(path)


def test_unknown_format_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        open_source(tmp_path / "absent.csv")
    (tmp_path / "x.parquet").write_bytes(b"PAR1")
    with pytest.raises(SourceError, match=r"unsupported extract format '\.parquet'"):
        open_source(tmp_path / "x.parquet")


def test_xlsx_first_sheet_or_named_sheet(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    first = book.active
    first.title = "Lisez-moi"
    first.append(["note"])
    first.append(["this sheet is not data"])
    data = book.create_sheet("Extraction")
    data.append(["matricule", "age", "date_decision", "rsa"])
    data.append(["A1", 37.0, dt.datetime(2026, 10, 3), True])
    data.append([None, None, None, None])
    data.append(["B2", 41, None, False])
    path = tmp_path / "x.xlsx"
    book.save(path)
    assert open_source(path).columns == ("note",)
    assert all_rows(path, sheet="Extraction") == [
        (2, ["A1", "37", "2026-10-03", "1"]),
        (4, ["B2", "41", None, "0"]),
    ]
    with pytest.raises(SourceError, match="no sheet named 'Feuil1'"):
        open_source(path, "Feuil1")


def test_spreadsheet_cells() -> None:
    assert spreadsheet_cell(12.5) == "12.5"
    assert spreadsheet_cell("  x ") == "x"
    assert spreadsheet_cell("   ") is None


def test_json_lines_with_a_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    lines = [
        json.dumps({"matricule": "A1", "age": 37, "rsa": True}),
        "{not json",
        json.dumps({"matricule": "B2", "age": None, "extra": 1}),
        json.dumps([1, 2]),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    source = open_source(path)
    assert source.columns == ("matricule", "age", "rsa")
    assert all_rows(path) == [(1, ["A1", "37", "1"]), (2, None), (3, ["B2", None, None]), (4, None)]


def test_sheet_option_only_for_xlsx(tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_text("a\n1\n")
    with pytest.raises(SourceError, match=r"--sheet applies to \.xlsx files only"):
        open_source(tmp_path / "x.csv", "Feuil1")
