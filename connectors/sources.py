"""Partner extracts as batches of text rows: CSV, XLSX, JSON Lines.

French administrative exports come as CSV with `;` or `,`, in UTF-8 (often
with a BOM) or Windows-1252, or as spreadsheets; some systems export JSON
Lines. Every source yields the same thing: a header (column names) and
batches of rows whose cells are text or None, numbered like a spreadsheet
(header = row 1), so reports can point a partner at the row to fix.

Rows come in batches so that later stages work per batch, not per row.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import IO, Any, Protocol

from connectors.errors import ConnectorError
from schemas.errors import PlacedError

Cell = str | None
Row = list[Cell] | None  # None: a row that could not be read at all (bad JSON line)

SAMPLE_BYTES = 1 << 20


class SourceError(PlacedError, ConnectorError):
    """The extract cannot be read; names the file and what is wrong."""

    reason = "unreadable_extract"


@dataclass(frozen=True)
class RowBatch:
    numbers: list[int]  # each row's number, spreadsheet style: the header is row 1
    rows: list[Row]


class Source(Protocol):
    path: Path
    columns: tuple[str, ...]

    @property
    def description(self) -> str: ...

    def batches(self, size: int) -> Iterator[RowBatch]: ...


def open_source(path: Path, sheet: str | None = None) -> Source:
    """Open an extract by its suffix (.csv/.txt, .xlsx, .jsonl/.ndjson)."""
    if not path.is_file():
        raise SourceError(path, "no such file")
    suffix = path.suffix.lower()
    if sheet is not None and suffix != ".xlsx":
        raise SourceError(path, "--sheet applies to .xlsx files only")
    if suffix in (".csv", ".txt"):
        return CsvSource(path)
    if suffix == ".xlsx":
        return XlsxSource(path, sheet)
    if suffix in (".jsonl", ".ndjson"):
        return JsonLinesSource(path)
    raise SourceError(path, f"unsupported extract format {suffix!r} (use .csv, .xlsx or .jsonl)")


def _clean_header(path: Path, raw: list[Any]) -> tuple[str, ...]:
    names = tuple("" if cell is None else str(cell).strip() for cell in raw)
    if not names or all(not n for n in names):
        raise SourceError(path, "row 1: the header row is empty")
    seen: set[str] = set()
    for index, name in enumerate(names, start=1):
        if not name:
            raise SourceError(path, f"row 1: column {index} has no name")
        if name in seen:
            raise SourceError(path, f"row 1: column {name!r} appears twice")
        seen.add(name)
    return names


# -- CSV ---------------------------------------------------------------------


def detect_encoding(sample: bytes, whole_file: bool = True) -> str:
    """UTF-8 (BOM or not) if the sample decodes as such, else Windows-1252.

    A sample cut from a longer file may end inside a multi-byte character,
    which is not an error. Windows-1252 leaves five bytes undefined; a file
    holding them is Latin-1.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=whole_file)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        sample.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def detect_separator(header_line: str) -> str:
    """`;` or `,` (or a tab), whichever splits the header into the most columns."""
    counts = {sep: header_line.count(sep) for sep in (";", ",", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] > 0 else ";"


class CsvSource:
    def __init__(self, path: Path) -> None:
        self.path = path
        with path.open("rb") as raw:
            sample = raw.read(SAMPLE_BYTES)
        if not sample.strip():
            raise SourceError(path, "the file is empty")
        self.encoding = detect_encoding(sample, whole_file=len(sample) < SAMPLE_BYTES)
        first_line = sample.decode(self.encoding, errors="replace").lstrip("\ufeff")
        self.separator = detect_separator(first_line.splitlines()[0] if first_line else "")
        with self._open() as text:
            header = next(csv.reader(text, delimiter=self.separator), [])
        self.columns = _clean_header(path, header)

    @property
    def description(self) -> str:
        names = {
            "utf-8": "UTF-8",
            "utf-8-sig": "UTF-8 with BOM",
            "cp1252": "Windows-1252",
            "latin-1": "Latin-1",
        }
        return f"CSV, separator {self.separator!r}, {names[self.encoding]}"

    def _open(self) -> IO[str]:
        return self.path.open("r", encoding=self.encoding, newline="")

    def batches(self, size: int) -> Iterator[RowBatch]:
        """Batches of `size` rows, read `size` records at a time by the csv module.

        A blank line is skipped but keeps its number. On an unreadable
        record, the extract is read again record by record (`_failure`) to
        name the row, as the error is rare and the fast path cannot count.
        """
        with self._open() as text:
            reader = csv.reader(text, delimiter=self.separator)
            next(reader, None)
            number = 1  # the header's
            numbers: list[int] = []
            rows: list[Row] = []
            try:
                while chunk := list(islice(reader, size - len(rows))):
                    first, number = number + 1, number + len(chunk)
                    if [] in chunk:
                        for offset, record in enumerate(chunk):
                            if record:
                                numbers.append(first + offset)
                                rows.append(record)  # type: ignore[arg-type]
                    else:
                        numbers.extend(range(first, number + 1))
                        rows.extend(chunk)  # type: ignore[arg-type]
                    if len(rows) == size:
                        yield RowBatch(numbers, rows)
                        numbers, rows = [], []
            except (UnicodeDecodeError, csv.Error) as exc:
                raise self._failure() from exc
            if rows:
                yield RowBatch(numbers, rows)

    def _failure(self) -> SourceError:
        """The error of the first unreadable record, with its row number."""
        with self._open() as text:
            reader = csv.reader(text, delimiter=self.separator)
            number = 0
            try:
                for _ in reader:
                    number += 1
            except UnicodeDecodeError:
                return SourceError(
                    self.path,
                    f"near row {number}: bytes that are not {self.encoding} "
                    "(re-export the whole file as UTF-8 or Windows-1252)",
                )
            except csv.Error as exc:
                return SourceError(self.path, f"row {number}: {exc}")
        return SourceError(self.path, "the file changed while it was read")


# -- XLSX --------------------------------------------------------------------


def spreadsheet_cell(value: Any) -> Cell:
    """A spreadsheet value as the text a CSV export would hold."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    return text or None


class XlsxSource:
    def __init__(self, path: Path, sheet: str | None) -> None:
        import openpyxl

        self.path = path
        try:
            self._book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a broken file
            raise SourceError(path, f"not a readable .xlsx workbook ({exc})") from exc
        if sheet is None:
            self._sheet = self._book.worksheets[0]
        elif sheet in self._book.sheetnames:
            self._sheet = self._book[sheet]
        else:
            raise SourceError(
                path, f"no sheet named {sheet!r} (sheets: {', '.join(self._book.sheetnames)})"
            )
        header = next(self._sheet.iter_rows(max_row=1, values_only=True), ())
        self.columns = _clean_header(path, list(header))

    @property
    def description(self) -> str:
        return f"XLSX, sheet {self._sheet.title!r}"

    def batches(self, size: int) -> Iterator[RowBatch]:
        width = len(self.columns)
        numbers: list[int] = []
        rows: list[Row] = []
        for number, values in enumerate(self._sheet.iter_rows(min_row=2, values_only=True), 2):
            cells = [spreadsheet_cell(v) for v in values[:width]]
            if all(c is None for c in cells) and all(v is None for v in values):
                continue
            numbers.append(number)
            rows.append(cells + [None] * (width - len(cells)))
            if len(rows) == size:
                yield RowBatch(numbers, rows)
                numbers, rows = [], []
        if rows:
            yield RowBatch(numbers, rows)


# -- JSON Lines ----------------------------------------------------------------


def json_cell(value: Any) -> Cell:
    """A JSON value as CSV text: as a spreadsheet's, objects and lists kept as
    JSON text (validation rejects them with a reason), strings unstripped."""
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    if isinstance(value, str):
        return value
    return spreadsheet_cell(value)


class JsonLinesSource:
    """One JSON object per line; the first object's keys are the columns.

    Rows are numbered by line (JSON Lines has no header row).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        with path.open("r", encoding="utf-8-sig") as text:
            for line in text:
                if line.strip():
                    try:
                        first = json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise SourceError(path, f"row 1: not a JSON object ({exc.msg})") from exc
                    if not isinstance(first, dict):
                        raise SourceError(path, "row 1: not a JSON object")
                    self.columns = _clean_header(path, list(first))
                    return
        raise SourceError(path, "the file is empty")

    @property
    def description(self) -> str:
        return "JSON Lines, UTF-8"

    def batches(self, size: int) -> Iterator[RowBatch]:
        columns = self.columns
        with self.path.open("r", encoding="utf-8-sig") as text:
            numbers: list[int] = []
            rows: list[Row] = []
            for number, line in enumerate(text, 1):
                if not line.strip():
                    continue
                numbers.append(number)
                rows.append(_json_row(line, columns))
                if len(rows) == size:
                    yield RowBatch(numbers, rows)
                    numbers, rows = [], []
            if rows:
                yield RowBatch(numbers, rows)


def _json_row(line: str, columns: tuple[str, ...]) -> Row:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError:
        return None
    if not isinstance(obj, dict):
        return None
    return [json_cell(obj.get(name)) for name in columns]
