"""What an analyst would do instead: DuckDB over the CSV, households per IRIS.

`iris_counts` reads the extract and counts its rows per IRIS of the
territory, as the `caf_allocataires` indicator does; `compare_counts` sets
those counts beside obshub's published IRIS rows (the `ok` cells: a secret
cell carries no figure) and `check_counts` fails loudly if they differ.

Run as `python -m bench.duckdb_check CSV IRIS...` it prints its counts and
seconds as JSON, so that the bench can measure DuckDB's own peak RSS.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from bench.errors import CountsMismatchError

QUERY = """
SELECT extract.iris, count(*) AS households
FROM read_csv(?, delim = ?, header = true, all_varchar = true) AS extract
JOIN territory USING (iris)
GROUP BY extract.iris
"""


def iris_counts(
    csv_path: Path, territory_iris: Iterable[str], separator: str = ";"
) -> tuple[dict[str, int], float]:
    """Rows per IRIS of the territory, and the seconds DuckDB took (connect to result)."""
    import duckdb

    codes = sorted(set(territory_iris))
    started = time.perf_counter()
    con = duckdb.connect()
    try:
        con.execute("CREATE TEMP TABLE territory (iris VARCHAR)")
        con.executemany("INSERT INTO territory VALUES (?)", [[code] for code in codes])
        rows = con.execute(QUERY, [str(csv_path), separator]).fetchall()
    finally:
        con.close()
    seconds = time.perf_counter() - started
    return {str(code): int(count) for code, count in rows}, seconds


def compare_counts(
    duck: Mapping[str, int], published: Mapping[str, Mapping[str, Any]]
) -> list[str]:
    """Every disagreement between DuckDB's counts and obshub's IRIS rows.

    `published` maps an IRIS code to its `caf_allocataires` row of the
    period. An `ok` row's numerator must equal DuckDB's count (0 where
    DuckDB found no row); a `secret` row is skipped. No `ok` row at all is a
    disagreement too: a check that compared nothing proves nothing.
    """
    problems: list[str] = []
    compared = 0
    for code, row in sorted(published.items()):
        if row.get("status") != "ok":
            continue
        compared += 1
        expected = duck.get(code, 0)
        if row.get("numerator") != float(expected):
            problems.append(f"IRIS {code}: obshub {row.get('numerator')}, DuckDB {expected}")
    for code in sorted(set(duck) - set(published)):
        problems.append(f"IRIS {code}: DuckDB counts {duck[code]}, obshub published no row")
    if compared == 0:
        problems.append("obshub published no ok IRIS row to compare")
    return problems


def check_counts(duck: Mapping[str, int], published: Mapping[str, Mapping[str, Any]]) -> int:
    """The number of cells compared; `CountsMismatchError` if any differs."""
    problems = compare_counts(duck, published)
    if problems:
        raise CountsMismatchError(problems)
    return sum(1 for row in published.values() if row.get("status") == "ok")


def main() -> None:
    parser = argparse.ArgumentParser(description="DuckDB households per IRIS, as JSON")
    parser.add_argument("csv", type=Path)
    parser.add_argument("iris", nargs="+")
    parser.add_argument("--separator", default=";")
    args = parser.parse_args()
    counts, seconds = iris_counts(args.csv, args.iris, args.separator)
    print(json.dumps({"seconds": seconds, "counts": counts}))


if __name__ == "__main__":
    main()
