"""Generated extracts are realistic enough to pass their own partner's convention."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from connectors.cli import app
from connectors.publish import PublishRequest, publish_extract
from connectors.settings import ConnectorSettings
from connectors.synthetic import DEFAULT_TERRITORY, generate_columns, load_demo_territory, write_csv

ROOT = Path(__file__).resolve().parents[3]
CONVENTIONS = ROOT / "deploy" / "demo" / "conventions"
NOW = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)

CASES = [
    ("caf.allocataires", "caf33", 3000),
    ("france_travail.demandeurs", "francetravail33", 2000),
    ("departement.apa", "cd33", 800),
    ("ccas.aides", "ccas-bordeaux", 500),
    ("ccas.aides", "ccas-le-bouscat", 200),
    ("insee.population", "insee", 0),
    ("insee.menages", "insee", 0),
]


@pytest.mark.parametrize(("dataset", "partner", "rows"), CASES)
def test_generated_extract_passes_its_convention(
    tmp_path: Path, dataset: str, partner: str, rows: int
) -> None:
    path = tmp_path / "extract.csv"
    land = load_demo_territory(DEFAULT_TERRITORY)
    if partner.startswith("ccas-"):  # each CCAS covers its own commune only
        land = land.within(["33063" if partner == "ccas-bordeaux" else "33069"])
    written = write_csv(
        path, generate_columns(dataset, rows or 1, "2026-10", seed=7, territory=land)
    )
    request = PublishRequest(
        CONVENTIONS / f"{partner}.yaml", path, "2026-10", dataset=dataset, dry_run=True
    )
    report = publish_extract(
        request, ConnectorSettings(keys_dir=ROOT / "deploy/demo/keys"), now=NOW
    )
    assert report.tally.rows_read == written > 0
    assert report.tally.rejections == {}


def test_identifiers_are_stable_across_periods_but_the_data_moves() -> None:
    october = generate_columns("caf.allocataires", 500, "2026-10", seed=3)
    november = generate_columns("caf.allocataires", 500, "2026-11", seed=3)
    assert list(october["matricule"]) == list(november["matricule"])
    assert list(october["iris"]) != list(november["iris"])


def test_same_seed_same_file(tmp_path: Path) -> None:
    for name in ("a.csv", "b.csv"):
        write_csv(tmp_path / name, generate_columns("ccas.aides", 200, "2026-10", seed=5))
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


def test_cli_generate_and_unknown_dataset(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(
        app,
        [
            "generate",
            "--dataset",
            "ccas.aides",
            "--rows",
            "50",
            "--period",
            "2026-10",
            "--out",
            str(tmp_path / "x.csv"),
        ],
    )
    assert ok.exit_code == 0, ok.output
    assert "wrote 50 synthetic ccas.aides rows for 2026-10" in ok.output
    bad = runner.invoke(
        app,
        ["generate", "--dataset", "caf.x", "--period", "2026-10", "--out", str(tmp_path / "y.csv")],
    )
    assert bad.exit_code == 1
    assert "unknown dataset 'caf.x'" in bad.output
