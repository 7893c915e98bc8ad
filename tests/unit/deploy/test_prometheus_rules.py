"""deploy/prometheus: the configs and alert rules pass promtool, and every
alert has a unit test where it fires and one where it stays silent."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.unit.deploy.support import (
    ALERTS_FILE,
    ALERTS_TEST_FILE,
    PROMETHEUS_CONFIGS,
    alert_rules,
    load_yaml,
)

PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool missing: `make test` installs Debian's prometheus"
)

REQUIRED_ALERTS = {
    "ConventionExpiringSoon",
    "DropLate",
    "DropRejected",
    "RecordRejectRateHigh",
    "AccessDeniedSpike",
    "WorkerDown",
    "ConsumerLagGrowing",
    "ReleaseCheckFailed",
    "RevisionHeld",
}


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run(
        [PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


@needs_promtool
@pytest.mark.parametrize("config", PROMETHEUS_CONFIGS, ids=lambda p: p.name)
def test_promtool_check_config(config: Path) -> None:
    result = promtool("check", "config", config.name, cwd=config.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "alerts.yml" in result.stdout  # the rule file is found and checked too


@needs_promtool
def test_promtool_check_rules() -> None:
    result = promtool("check", "rules", ALERTS_FILE.name, cwd=ALERTS_FILE.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(alert_rules())} rules found" in result.stdout


@needs_promtool
def test_promtool_test_rules() -> None:
    result = promtool("test", "rules", ALERTS_TEST_FILE.name, cwd=ALERTS_TEST_FILE.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_the_required_alerts_exist() -> None:
    assert {rule["alert"] for rule in alert_rules()} >= REQUIRED_ALERTS


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda r: r["alert"])
def test_alert_has_severity_and_annotations(rule: dict[str, object]) -> None:
    labels = rule["labels"]
    annotations = rule["annotations"]
    assert isinstance(labels, dict) and isinstance(annotations, dict)
    assert labels["severity"] in {"warning", "critical"}
    assert annotations["summary"] and annotations["description"]


def test_every_alert_fires_in_a_test_and_stays_silent_in_another() -> None:
    fires: set[str] = set()
    silent: set[str] = set()
    for case in load_yaml(ALERTS_TEST_FILE)["tests"]:
        for check in case.get("alert_rule_test", []):
            (fires if check.get("exp_alerts") else silent).add(check["alertname"])
    alerts = {rule["alert"] for rule in alert_rules()}
    assert alerts - fires == set(), "alerts never seen firing in alerts_test.yml"
    assert alerts - silent == set(), "alerts never seen silent in alerts_test.yml"
