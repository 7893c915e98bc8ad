"""`obshub access token|revoke` and `obshub api` as a user runs them."""

from __future__ import annotations

import json
import os
import socket
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.api.tokens import TokenStore
from hub.cli import app
from tests.conftest import free_port


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OBSHUB_STATE_DIR", str(tmp_path))
    return tmp_path


def test_token_prints_the_token_once_and_stores_its_hash(state: Path) -> None:
    result = CliRunner().invoke(app, ["access", "token", "agora-le-bouscat"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert len(token.splitlines()) == 1
    assert "shown once" in result.stderr
    path = state / "access" / "tokens.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert token.split(".", 1)[1] not in path.read_text()
    assert "agora-le-bouscat" in json.loads(path.read_text())["tokens"]
    assert TokenStore(state / "access").verify(token) == "agora-le-bouscat"


def test_the_token_alone_is_on_stdout_and_the_note_on_stderr(state: Path) -> None:
    # `TOKEN=$(obshub access token CONSUMER)` must hold the token and nothing else
    result = CliRunner().invoke(app, ["access", "token", "observatoire-bordeaux"])
    assert result.exit_code == 0, result.output
    token = result.stdout.removesuffix("\n")
    assert result.stdout == f"{token}\n" and token.strip() == token and "\n" not in token
    assert TokenStore(state / "access").verify(token) == "observatoire-bordeaux"
    assert result.stderr.startswith("· token for observatoire-bordeaux, shown once")
    assert token not in result.stderr


def test_revoke_removes_the_token(state: Path) -> None:
    runner = CliRunner()
    token = runner.invoke(app, ["access", "token", "cabinet-etudes"]).stdout.strip()
    result = runner.invoke(app, ["access", "revoke", "cabinet-etudes"])
    assert result.exit_code == 0
    assert "revoked" in result.stdout
    assert TokenStore(state / "access").verify(token) is None
    again = runner.invoke(app, ["access", "revoke", "cabinet-etudes"])
    assert again.exit_code == 0 and "had no token" in again.stdout


def test_a_name_that_is_no_principal_is_one_line_and_exit_1(state: Path) -> None:
    result = CliRunner().invoke(app, ["access", "token", "Not A Name"])
    assert result.exit_code == 1
    assert result.stderr.startswith("obshub: error: principal name")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (state / "access" / "tokens.json").exists()


def test_api_without_hub_credentials_is_one_line_and_exit_1(
    state: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OBSHUB_API_PORT", str(free_port()))
    result = CliRunner().invoke(app, ["api"])
    assert result.exit_code == 1
    assert "hub.properties" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_access_commands_have_help() -> None:
    result = CliRunner().invoke(app, ["access", "--help"])
    assert result.exit_code == 0
    assert "token" in result.stdout and "revoke" in result.stdout


def test_api_on_a_taken_port_is_one_line_and_exit_1(
    state: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    credentials = state / "credentials"
    credentials.mkdir()
    (credentials / "hub.properties").write_text(
        "bootstrap.servers=127.0.0.1:1\n"
        "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
        'username="hub" password="x";\n'
    )
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        monkeypatch.setenv("OBSHUB_API_PORT", str(taken.getsockname()[1]))
        result = CliRunner().invoke(app, ["api"])
    assert result.exit_code == 1
    assert "already in use" in result.stderr and "OBSHUB_API_PORT" in result.stderr
