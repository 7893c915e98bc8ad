"""The CLI edge: a project error of any package is one stderr line and exit 1."""

from __future__ import annotations

import importlib
import inspect
import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from bench.errors import BenchError, RunFailedError
from connectors.errors import ConnectorError
from contracts.errors import ContractError, DocumentError, InstantError, KeyFileError
from contracts.problems import Problem
from hub.api.errors import AuditUnavailableError, GovernanceError, TokenStoreError
from hub.errors import (
    BrokerStartError,
    HubError,
    PortInUseError,
    ServiceStartError,
    TableStructureError,
    TerritoryError,
)
from schemas.cli_edge import configure_logging, error_lines, fail, run_or_exit
from schemas.errors import ObshubError, SchemaError, UnknownSchemaError
from tests.support.logs import restored_logging

SNAKE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")
# Every module that defines project errors: importing them registers the subclasses.
ERROR_MODULES = [
    "schemas.errors",
    "contracts.errors",
    "contracts.paths",
    "contracts.periods",
    "contracts.principals",
    "contracts.revocation",
    "connectors.errors",
    "connectors.kafka_sink",
    "connectors.mapping",
    "connectors.publish",
    "connectors.receipts",
    "connectors.settings",
    "connectors.sources",
    "connectors.synthetic",
    "connectors.territory",
    "hub.errors",
    "hub.api.errors",
    "hub.demo",
    "hub.ingest",
    "hub.report",
    "bench.errors",
]


def raising(error: Exception) -> Callable[[], None]:
    def action() -> None:
        raise error

    return action


def invoke(action: Callable[[], object]) -> object:
    app = typer.Typer()

    @app.command()
    def verb() -> None:
        run_or_exit(action)
        typer.echo("done")

    return CliRunner().invoke(app, [])


PROJECT_ERRORS = [
    pytest.param(UnknownSchemaError("dataset", "caf.x", 3), id="schemas"),
    pytest.param(InstantError("2026-01-01T00:00:00"), id="contracts"),
    pytest.param(ConnectorError("no such extract: caf.csv"), id="connectors"),
    pytest.param(PortInUseError("127.0.0.1", 9092, "OBSHUB_KAFKA_PORT"), id="hub"),
    pytest.param(GovernanceError("conventions", "not YAML"), id="hub.api"),
    pytest.param(RunFailedError("naive_per_record", "exited (1)"), id="bench"),
]


@pytest.mark.parametrize("error", PROJECT_ERRORS)
def test_a_project_error_is_one_line_on_stderr_and_exit_1(error: ObshubError) -> None:
    result = invoke(raising(error))
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert result.stderr == f"obshub: error: {error}\n"  # type: ignore[attr-defined]
    assert result.stdout == ""  # type: ignore[attr-defined]


def test_the_value_goes_through_when_nothing_fails() -> None:
    assert run_or_exit(lambda: 42) == 42
    result = invoke(lambda: None)
    assert (result.exit_code, result.stdout, result.stderr) == (0, "done\n", "")  # type: ignore[attr-defined]


@pytest.mark.parametrize("error", [ValueError("a bug"), KeyError("x"), OSError(5, "EIO")])
def test_an_unexpected_exception_is_not_swallowed(error: Exception) -> None:
    with pytest.raises(type(error)):
        run_or_exit(raising(error))
    result = invoke(raising(error))
    assert result.exception is error  # type: ignore[attr-defined]
    assert "obshub: error" not in result.stderr  # type: ignore[attr-defined]


def test_fail_says_a_failure_that_is_no_exception() -> None:
    with pytest.raises(typer.Exit) as ended:
        fail("drop d1 rejected by the hub: bad_signature: trailer")
    assert ended.value.exit_code == 1


def test_a_document_error_gives_one_line_per_problem() -> None:
    problems = [
        Problem("caf33.yaml", "validity", "missing", "field required", 3),
        Problem("caf33.yaml", "datasets", "missing", "field required", 9),
    ]
    lines = error_lines(DocumentError(problems))
    assert len(lines) == 2 and all(line.startswith("obshub: error: caf33.yaml:") for line in lines)


def test_an_error_without_message_says_its_reason() -> None:
    assert error_lines(ConnectorError()) == ["obshub: error: connector_error"]


def test_the_package_roots_share_one_root() -> None:
    for root in (SchemaError, ContractError, ConnectorError, HubError, BenchError):
        assert issubclass(root, ObshubError)


def subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from subclasses(sub)


def test_every_project_error_class_has_a_reason_code() -> None:
    for module in ERROR_MODULES:
        importlib.import_module(module)
    classes = [c for c in subclasses(ObshubError) if not c.__module__.startswith("tests.")]
    assert len(classes) > 40
    for cls in classes:
        assert isinstance(cls.reason, str) and SNAKE.fullmatch(cls.reason), cls


# Where one class stands for several reasons, each instance says which.
REASON_PER_INSTANCE = {
    "DropRejected",
    "MalformedMessageError",
    "MalformedBlockError",
    "PeriodError",
}
# Roots and bases: a reason of their own only for errors raised as themselves.
BASES = {"PlacedError", "StackError", "AccessError", "DisclosureError", "DocumentError"}


def test_each_error_class_says_its_own_reason_not_its_packages() -> None:
    for module in ERROR_MODULES:
        importlib.import_module(module)
    roots = {SchemaError, ContractError, ConnectorError, HubError, BenchError}
    classes = [
        c
        for c in subclasses(ObshubError)
        if c not in roots and not c.__module__.startswith("tests.")
    ]
    inherited = sorted(
        c.__name__
        for c in classes
        if "reason" not in vars(c) and c.__name__ not in REASON_PER_INSTANCE | BASES
    )
    assert inherited == []
    free_text = [
        c.__name__
        for c in classes
        if c.__name__ not in REASON_PER_INSTANCE
        and "reason" in inspect.signature(c.__init__).parameters
    ]
    assert free_text == []


@pytest.mark.parametrize(
    "error",
    [
        KeyFileError(Path("caf33.key"), "not an Ed25519 key"),
        BrokerStartError("the process exited", "kafka.log"),
        ServiceStartError("worker", "no answer in 30s", "worker.log"),
        TerritoryError("iris.csv", "no rows"),
        TableStructureError("allocataires", "2026-10", "330630101", "negative count"),
        TokenStoreError(Path("tokens.json"), "malformed"),
        GovernanceError("keys", "unreadable"),
        AuditUnavailableError("cannot reach the broker"),
        RunFailedError("publish", "nothing published"),
    ],
)
def test_the_words_are_the_detail_and_the_reason_a_code(error: ObshubError) -> None:
    assert SNAKE.fullmatch(error.reason), error.reason
    assert error.detail in str(error)  # type: ignore[attr-defined]


def test_the_access_errors_carry_the_apis_503_codes() -> None:
    assert TokenStoreError.reason == "token_store_unavailable"
    assert GovernanceError.reason == "governance_unavailable"
    assert AuditUnavailableError.reason == "audit_unavailable"


@pytest.fixture
def logging_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The root and client loggers as they were: this test process is shared."""
    monkeypatch.delenv("OBSHUB_LOG_LEVEL", raising=False)
    with restored_logging():
        yield


@pytest.mark.usefixtures("logging_state")
def test_the_kafka_clients_are_quiet_at_the_default_level_whatever_the_root() -> None:
    logging.getLogger().setLevel(logging.DEBUG)  # someone configured logging before us
    if not logging.getLogger().handlers:
        logging.getLogger().addHandler(logging.NullHandler())  # so basicConfig is a no-op
    configure_logging()
    for name in ("kafka", "aiokafka", "kafka.conn", "aiokafka.consumer"):
        assert logging.getLogger(name).getEffectiveLevel() > logging.DEBUG, name


@pytest.mark.usefixtures("logging_state")
def test_the_kafka_clients_speak_at_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OBSHUB_LOG_LEVEL", "debug")
    configure_logging()
    assert logging.getLogger("kafka.conn").getEffectiveLevel() == logging.DEBUG


def test_the_hub_entry_point_uses_the_edge() -> None:
    hub_cli = importlib.import_module("hub.cli")
    assert hub_cli.configure_logging is configure_logging
    assert hub_cli.run_or_exit is run_or_exit
