"""`obshub connector …`: what goes to stdout, what to stderr, and the Kafka client's logs."""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from connectors import cli
from connectors.publish import publish_extract
from tests.support.logs import restored_logging
from tests.unit.connectors.test_publish import CAF, KEYS, NOW, extract


@pytest.fixture
def partner(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OBSHUB_KEYS_DIR", str(KEYS))
    monkeypatch.setattr(cli, "publish_extract", functools.partial(publish_extract, now=NOW))


def publish_args(source: Path) -> list[str]:
    return ["publish", "--convention", str(CAF), "--source", str(source), "--period", "2026-10"]


@pytest.mark.usefixtures("partner")
@pytest.mark.parametrize("quiet", [False, True])
def test_no_valid_row_is_said_on_stderr_and_exits_1(tmp_path: Path, quiet: bool) -> None:
    source = extract(tmp_path, 3, bad_every=1)  # every IRIS outside the territory
    args = publish_args(source) + (["--quiet"] if quiet else [])
    result = CliRunner().invoke(cli.app, args)
    assert result.exit_code == 1, result.output
    [line] = result.stderr.splitlines()
    assert line.startswith("obshub: error: drop ")
    assert line.endswith(" NOT published: no valid row (rows read 3, rejected 3)")
    assert "NOT published" not in result.stdout and "no valid row" not in result.stdout
    report = result.stdout.splitlines()
    assert report[0].startswith("drop ")
    assert report[0].endswith("(caf.allocataires, period 2026-10): nothing sent")
    assert len(report) == (1 if quiet else 4)  # the counts and the rejection reason


@pytest.mark.usefixtures("partner")
def test_no_valid_row_in_a_dry_run_is_said_on_stderr_too(tmp_path: Path) -> None:
    source = extract(tmp_path, 2, bad_every=1)
    result = CliRunner().invoke(cli.app, [*publish_args(source), "--dry-run"])
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.endswith(" would not be published: no valid row (rows read 2, rejected 2)")
    assert result.stdout.splitlines()[0].endswith("dry run: nothing sent")


@pytest.mark.usefixtures("partner")
def test_a_valid_dry_run_says_nothing_on_stderr(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli.app, [*publish_args(extract(tmp_path, 5)), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert "rows read 5, accepted 5, rejected 0" in result.stdout


@pytest.mark.usefixtures("partner")
def test_a_project_error_of_any_package_is_one_line(tmp_path: Path) -> None:
    source = extract(tmp_path, 3)
    wrong_period = [*publish_args(source)[:-1], "2026-13"]  # a ContractError
    result = CliRunner().invoke(cli.app, wrong_period)
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == "obshub: error: period '2026-13': month 13 is not between 01 and 12\n"
    missing = CliRunner().invoke(cli.app, publish_args(tmp_path / "absent.csv"))  # a ConnectorError
    assert missing.exit_code == 1
    assert missing.stderr.startswith("obshub: error: ") and len(missing.stderr.splitlines()) == 1


@pytest.fixture
def chatty_kafka(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The Kafka client's loggers at DEBUG, as a process may have left them."""
    monkeypatch.delenv("OBSHUB_LOG_LEVEL", raising=False)
    with restored_logging(client_level=logging.DEBUG):
        yield


def unknown_dataset(tmp_path: Path) -> list[str]:
    return ["generate", "--dataset", "caf.x", "--period", "2026-10", "--out", str(tmp_path / "x")]


@pytest.mark.usefixtures("chatty_kafka")
def test_the_connector_verbs_quiet_the_kafka_client(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli.app, unknown_dataset(tmp_path))
    assert result.exit_code == 1 and "unknown dataset 'caf.x'" in result.stderr
    assert logging.getLogger("kafka").getEffectiveLevel() > logging.DEBUG
    assert logging.getLogger("kafka.producer.sender").getEffectiveLevel() > logging.DEBUG


@pytest.mark.usefixtures("chatty_kafka")
def test_so_do_they_as_obshub_connector(tmp_path: Path) -> None:
    root = typer.Typer()
    root.add_typer(cli.app, name="connector")
    result = CliRunner().invoke(root, ["connector", *unknown_dataset(tmp_path)])
    assert result.exit_code == 1
    assert logging.getLogger("kafka").getEffectiveLevel() > logging.DEBUG


@pytest.mark.parametrize("period", ["2026-13", "2026-Q5", "avril"])
def test_generate_refuses_a_period_in_one_line(tmp_path: Path, period: str) -> None:
    args = ["generate", "--dataset", "ccas.aides", "--rows", "5", "--period", period]
    result = CliRunner().invoke(cli.app, [*args, "--out", str(tmp_path / "x.csv")])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stderr.startswith(f"obshub: error: period '{period}'")
    assert len(result.stderr.splitlines()) == 1
