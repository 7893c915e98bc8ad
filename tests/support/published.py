"""Published indicator rows against the independent computation.

`problems` is tests/integration/test_pipeline.py's comparison, for chosen
indicators and periods: a published value equals the independent one, a
cell the primary rule makes secret is secret, a secret row carries no
figures. Datasets a test does not publish count as empty extracts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from connectors.synthetic import generate_columns, write_csv
from contracts.keys import load_pseudonym_secret
from tests.support.independent import Expected, Territory, expected_indicators, primary_secret

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "deploy" / "demo"
DATASETS = (
    "caf.allocataires",
    "france_travail.demandeurs",
    "departement.apa",
    "ccas.aides",
    "insee.population",
    "insee.menages",
)
CAF_INDICATORS = (
    "caf_allocataires",
    "caf_bas_revenus_part",
    "caf_monoparents_part",
    "rsa_pour_100_menages",
)
CCAS_INDICATORS = ("ccas_aides_pour_1000_menages",)
INSEE_YEAR = "2025"

Rows = Mapping[tuple[str, str, str, str], Mapping[str, Any]]


def write_extract(directory: Path, dataset: str, rows: int, period: str, seed: int) -> Path:
    """A synthetic extract of `rows` rows (0: the header alone)."""
    path = directory / f"{dataset}-{period}-{seed}.csv"
    write_csv(path, generate_columns(dataset, rows, period, seed=seed))
    return path


def insee_extracts(directory: Path) -> dict[str, Path]:
    """The population and households of the demo territory (one row per IRIS and band)."""
    return {
        dataset: write_extract(directory, dataset, 1, INSEE_YEAR, 21)
        for dataset in ("insee.menages", "insee.population")
    }


def expected(extracts: Mapping[str, Any], scratch: Path) -> dict[str, Expected]:
    """The independent computation; datasets missing from `extracts` are empty."""
    full = dict(extracts)
    for dataset in DATASETS:
        if dataset not in full:
            full[dataset] = write_extract(scratch, dataset, 0, "2026-01", 0)
    territory = Territory.load(DEMO / "territory")
    return expected_indicators(
        full, territory, load_pseudonym_secret(DEMO / "keys" / "cd33.pseudonym.key")
    )


def problems(
    rows: Rows, expectations: Mapping[str, Expected], indicators: Iterable[str], period: str
) -> list[str]:
    """Every difference between the rows of `period` and the independent computation."""
    territory = Territory.load(DEMO / "territory")
    found: list[str] = []
    for indicator in indicators:
        exp = expectations[indicator]
        communes = sorted(set(territory.commune_of.values()))
        published = communes if exp.communes is None else sorted(exp.communes)
        cells = [("iris", c, [c]) for c in territory.iris if territory.commune_of[c] in published]
        for commune in published:
            members = [c for c in territory.iris if territory.commune_of[c] == commune]
            cells.append(("commune", commune, members))
        for commune in sorted(set(communes) - set(published)):
            if (indicator, period, "commune", commune) in rows:
                found.append(f"{indicator} {period} commune {commune}: no CCAS covers it")
        for level, code, members in cells:
            row = rows.get((indicator, period, level, code))
            if row is None:
                found.append(f"{indicator} {period} {level} {code}: no row")
                continue
            num = float(sum(exp.numerator[m] for m in members))
            den = (
                None if exp.denominator is None else float(sum(exp.denominator[m] for m in members))
            )
            if row["status"] == "ok":
                value = num if den is None else num / den * exp.scale
                if (row["numerator"], row["denominator"]) != (num, den) or abs(
                    row["value"] - round(value, 2)
                ) > 0.006:
                    found.append(
                        f"{indicator} {level} {code}: published {row['value']} "
                        f"({row['numerator']}/{row['denominator']}), expected "
                        f"{value:.2f} ({num}/{den})"
                    )
                if primary_secret(num, den, exp.share_of_one_dataset):
                    found.append(f"{indicator} {level} {code}: published but secret by rule")
            elif row["value"] is not None or row["numerator"] is not None:
                found.append(f"{indicator} {level} {code}: secret row carries figures")
    return found


def rows_of_period(rows: Rows, period: str) -> list[tuple[str, str, str, str]]:
    return [key for key in rows if key[1] == period]
