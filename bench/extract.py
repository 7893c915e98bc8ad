"""The bench's inputs: one generated `caf.allocataires` extract and its slices."""

from __future__ import annotations

from collections import Counter
from itertools import islice
from pathlib import Path

from connectors.synthetic import generate_columns, write_csv

SEED = 2026


def write_extract(path: Path, rows: int, seed: int = SEED, month: str = "2026-01") -> int:
    """A SYNTHETIC `caf.allocataires` extract (demo territory, `;`, UTF-8); its rows."""
    return write_csv(path, generate_columns("caf.allocataires", rows, month, seed))


def data_lines(path: Path, rows: int) -> list[bytes]:
    """The first `rows` data lines of a CSV extract, without the header or line ends."""
    with path.open("rb") as handle:
        next(handle)
        return [line.rstrip(b"\r\n") for line in islice(handle, rows)]


def count_iris(lines: list[bytes], column: int = 1, separator: bytes = b";") -> Counter[str]:
    """Rows per IRIS code of these lines (the reference for the per-record run)."""
    return Counter(line.split(separator)[column].decode() for line in lines)
