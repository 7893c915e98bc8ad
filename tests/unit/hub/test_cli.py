from typing import Any

import typer.main

from hub.cli import _register_plugins, app, format_status


def commands_without_help(command: Any, path: str) -> list[str]:
    """Every (sub)command lacking help text; typer's click groups have `.commands`."""
    missing = []
    for name, sub in getattr(command, "commands", {}).items():
        if not (sub.help or sub.short_help):
            missing.append(f"{path} {name}")
        missing += commands_without_help(sub, f"{path} {name}")
    return missing


def test_every_command_has_help() -> None:
    _register_plugins()
    root = typer.main.get_command(app)
    assert {"up", "down", "status", "demo"} <= set(root.commands)  # type: ignore[attr-defined]
    assert commands_without_help(root, "obshub") == []


def test_format_status_marks_stopped_services() -> None:
    text = format_status(
        {
            "kafka": {"pid": 42, "bootstrap": "127.0.0.1:9092"},
            "worker": {"pid": None, "metrics": "http://127.0.0.1:9108/metrics"},
            "api": {"pid": None, "url": "http://127.0.0.1:8080"},
        }
    )
    assert text.splitlines()[0].split() == ["kafka", "running", "(pid", "42)", "127.0.0.1:9092"]
    assert "stopped" in text.splitlines()[1]


def test_format_status_sums_the_hub_lag() -> None:
    text = format_status(
        {
            "kafka": {"pid": 42, "bootstrap": "127.0.0.1:9092"},
            "worker": {"pid": None, "metrics": "m"},
            "api": {"pid": None, "url": "u"},
            "hub_lag": {"drops.caf33": 3, "drops.insee": 0, "drops.cd33": 2},
        }
    )
    assert text.splitlines()[-1] == "hub lag 5 message(s) on drops.* (drops.caf33 3, drops.cd33 2)"
