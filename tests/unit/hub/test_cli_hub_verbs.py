"""Hub verbs in an install without the hub's libraries: one line, no traceback."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest
from typer.testing import CliRunner

from hub import cli


@pytest.mark.parametrize("verb", ["up", "worker", "api", "demo"])
def test_a_hub_verb_without_the_hub_says_what_to_install(
    verb: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.util.find_spec

    def without_faust(name: str, *args: Any, **kwargs: Any) -> Any:
        return None if name == "faust" else real(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", without_faust)
    result = CliRunner().invoke(cli.app, [verb])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "obshub: error: this verb needs the hub's libraries (faust missing): "
        "pip install 'obshub[hub]'"
    )
    assert result.exception is None or isinstance(result.exception, SystemExit)
