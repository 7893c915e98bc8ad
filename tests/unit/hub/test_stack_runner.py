"""`Stack.start_kafka` up to the jars: what `obshub up` says about them."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.errors import MissingToolError
from hub.settings import HubSettings
from hub.stack import runner
from hub.stack.runner import Stack


class AfterTheJars(Exception):
    """Stops `start_kafka` right after the jars step."""


@pytest.fixture
def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Stack:
    monkeypatch.setenv("OBSHUB_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("OBSHUB_KAFKA_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no mvn: a fetch fails at once
    monkeypatch.setattr(runner.broker, "running_pid", lambda layout: None)
    monkeypatch.setattr(runner.processes, "port_is_free", lambda host, port: True)

    def stop(path: Path) -> str:
        raise AfterTheJars

    monkeypatch.setattr(runner, "ensure_secret", stop)
    stack = Stack(HubSettings())
    assert tmp_path in stack.settings.jar_dir.parents  # never the real cache
    return stack


def test_cached_jars_are_not_announced(stack: Stack) -> None:
    stack.settings.jar_dir.mkdir(parents=True)
    (stack.settings.jar_dir / ".complete").write_text(stack.settings.kafka_version + "\n")
    said: list[str] = []
    with pytest.raises(AfterTheJars):
        stack.start_kafka(said.append)
    assert not [line for line in said if "jars" in line]


def test_a_fetch_is_announced_before_it_starts(stack: Stack) -> None:
    said: list[str] = []
    with pytest.raises(MissingToolError, match="`mvn` is not on PATH"):
        stack.start_kafka(said.append)
    assert said == [
        f"fetching Kafka {stack.settings.kafka_version} jars from Maven Central "
        "(once: they are cached)"
    ]
