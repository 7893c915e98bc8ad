"""The territory's IRIS reference list, as the hub operator ships it with the convention.

It is INSEE's IRIS file for the territory: a CSV with a header row and at
least the columns `CODE_IRIS` (9 characters) and `DEPCOM` (the commune, the
first 5 characters of its IRIS codes), `;` or `,` separated, UTF-8 (with or
without BOM) or Windows-1252, like the demo's deploy/demo/territory/iris.csv.
Other columns (names, types, populations) are not read.

With it, the connector refuses an IRIS code the hub does not know
(`unknown_iris`) instead of sending a record the hub would reject.
"""

from __future__ import annotations

from pathlib import Path

from connectors.errors import ConnectorError
from connectors.sources import CsvSource, SourceError
from schemas.errors import PlacedError

IRIS_COLUMNS = ("CODE_IRIS", "DEPCOM")
BATCH_ROWS = 10_000


class TerritoryFileError(PlacedError, ConnectorError):
    """The IRIS reference file cannot be used; names the file and what is wrong."""

    reason = "bad_territory_file"
    label = "territory file"


def load_iris_reference(path: Path) -> frozenset[str]:
    """The `CODE_IRIS` of every IRIS the file lists; `TerritoryFileError` if it is unusable."""
    try:
        source = CsvSource(path)
    except OSError as exc:
        raise TerritoryFileError(path, f"cannot be read ({exc.strerror or exc})") from exc
    except SourceError as exc:
        raise TerritoryFileError(path, exc.detail) from exc
    absent = [name for name in IRIS_COLUMNS if name not in source.columns]
    if absent:
        raise TerritoryFileError(
            path,
            f"no column {' or '.join(absent)} (an INSEE IRIS file has CODE_IRIS and DEPCOM)",
        )
    code_at, commune_at = (source.columns.index(name) for name in IRIS_COLUMNS)
    codes: set[str] = set()
    try:
        for batch in source.batches(BATCH_ROWS):
            for number, row in zip(batch.numbers, batch.rows, strict=True):
                codes.add(_iris_code(path, number, row, code_at, commune_at))
    except OSError as exc:
        raise TerritoryFileError(path, f"cannot be read ({exc.strerror or exc})") from exc
    except SourceError as exc:
        raise TerritoryFileError(path, exc.detail) from exc
    if not codes:
        raise TerritoryFileError(path, "lists no IRIS")
    return frozenset(codes)


def _iris_code(
    path: Path, number: int, row: list[str | None] | None, code_at: int, commune_at: int
) -> str:
    """The row's IRIS code, checked against its commune (INSEE: DEPCOM + 4 characters)."""
    if row is None or len(row) <= max(code_at, commune_at):
        raise TerritoryFileError(path, f"row {number}: too few fields")
    code, commune = (row[code_at] or "").strip(), (row[commune_at] or "").strip()
    if len(commune) != 5 or len(code) != 9 or not code.startswith(commune):
        raise TerritoryFileError(
            path, f"row {number}: CODE_IRIS is not 9 characters beginning with DEPCOM (5)"
        )
    return code
