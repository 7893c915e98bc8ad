from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from schemas.cli import app

from .samples import copy_schema_tree

runner = CliRunner()


def test_check_passes_on_the_shipped_catalog() -> None:
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("OK: 6 datasets, 8 protocol messages")


def test_check_prints_one_line_per_problem_and_exits_1(tmp_path: Path) -> None:
    root = copy_schema_tree(tmp_path)
    v2 = root / "datasets" / "caf.allocataires" / "v2.avsc"
    raw = json.loads(v2.read_text())
    raw["fields"][2] = {"name": "age_responsable", "type": ["null", "string"], "default": None}
    raw["fields"][3]["obshub.values"] = ["isole"]
    v2.write_text(json.dumps(raw))
    result = runner.invoke(app, ["check", "--root", str(root)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "caf.allocataires v1 -> v2: field age_responsable: int values cannot be read as any "
        "of [null, string]",
        "caf.allocataires v1 -> v2: field type_foyer: obshub.values removed: monoparent, "
        "couple_sans_enfant, couple_avec_enfants",
    ]


def test_a_broken_schema_file_is_one_error_line(tmp_path: Path) -> None:
    root = copy_schema_tree(tmp_path)
    (root / "protocol" / "drop_chunk.v1.avsc").write_text("[")
    result = runner.invoke(app, ["check", "--root", str(root)])
    assert result.exit_code == 1
    assert "schema file protocol/drop_chunk.v1.avsc: not JSON" in result.output


def test_list_shows_every_version_with_its_fingerprint() -> None:
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 0
    assert "caf.allocataires             v2   11de23f38c201686" in result.output
    assert len(result.output.strip().splitlines()) == 16


@pytest.mark.parametrize("command", typer.main.get_command(app).commands)  # type: ignore[attr-defined]
def test_every_command_has_help(command: str) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert typer.main.get_command(app).commands[command].help  # type: ignore[attr-defined]


def test_check_runs_as_obshub_schema_check() -> None:
    root = typer.Typer()
    root.add_typer(app, name="schema")
    result = runner.invoke(root, ["schema", "check"])
    assert result.exit_code == 0 and result.output.startswith("OK:")
