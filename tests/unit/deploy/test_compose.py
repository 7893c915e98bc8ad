"""docker-compose.yml agrees with the code and the embedded stack.

No Docker engine runs here, so the file is checked by reading it: every
file it mounts exists, every command is an `obshub` verb, every OBSHUB_*
variable is a setting, ports match the defaults and the Prometheus
targets, and every `${VAR}` the file needs is in the env example.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer.main
import yaml

from hub.cli import _register_plugins, app
from hub.settings import HubSettings

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]


def test_every_mounted_file_exists() -> None:
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"


def test_the_image_is_built_from_the_repository() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    for package in ("schemas", "contracts", "connectors", "hub", "deploy"):
        assert f"COPY {package} ./{package}" in dockerfile
    assert 'ENTRYPOINT ["obshub"]' in dockerfile


def test_commands_are_obshub_verbs() -> None:
    _register_plugins()
    verbs = set(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
    for name in ("init", "worker", "api"):
        assert SERVICES[name]["command"][0] in verbs, name
    demo = " ".join(SERVICES["demo-connector"]["command"])
    assert "obshub connector generate" in demo and "obshub connector publish" in demo
    for path in re.findall(r"/opt/obshub/(\S+)", demo):
        assert (ROOT / path).exists(), path


def test_obshub_variables_are_settings() -> None:
    from connectors.settings import ConnectorSettings

    fields = {f"OBSHUB_{name.upper()}" for name in HubSettings.model_fields}
    fields |= {f"OBSHUB_{name.upper()}" for name in ConnectorSettings.model_fields}
    for name, service in SERVICES.items():
        for variable in service.get("environment", {}):
            if variable.startswith("OBSHUB_") and name not in ("kafka", "grafana"):
                assert variable in fields, f"{name}: {variable}"
    for variable, value in SERVICES["worker"]["environment"].items():
        if value.startswith("/opt/obshub/"):  # files the image carries from the repository
            assert (ROOT / value.removeprefix("/opt/obshub/")).exists(), variable


def test_ports_agree_with_the_embedded_defaults_and_prometheus() -> None:
    defaults = HubSettings()
    assert SERVICES["api"]["environment"]["OBSHUB_API_PORT"] == str(defaults.api_port)
    assert SERVICES["worker"]["environment"]["OBSHUB_METRICS_PORT"] == str(defaults.metrics_port)
    prometheus = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.compose.yml").read_text())
    targets = {
        t
        for job in prometheus["scrape_configs"]
        for c in job["static_configs"]
        for t in c["targets"]
    }
    assert {f"worker:{defaults.metrics_port}", f"api:{defaults.api_port}"} <= targets
    kafka_script = (ROOT / "deploy/kafka/compose/start-kafka.sh").read_text()
    internal = SERVICES["worker"]["environment"]["OBSHUB_KAFKA_PORT"]
    assert f"INTERNAL://kafka:{internal}" in kafka_script
    assert "SCRAM-SHA-512" in kafka_script and "StandardAuthorizer" in kafka_script
    assert "allow.everyone.if.no.acl.found=false" in kafka_script


def test_every_required_variable_is_in_the_env_example() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    needed = set(re.findall(r"\$\{(\w+)", text))
    example = (ROOT / "deploy/compose.env.example").read_text()
    defined = set(re.findall(r"^(\w+)=", example, re.MULTILINE))
    assert needed <= defined


def test_grafana_and_prometheus_get_their_provisioning() -> None:
    grafana = SERVICES["grafana"]["volumes"]
    assert any(v.startswith("./deploy/grafana/dashboards:") for v in grafana)
    assert any(v.startswith("./deploy/grafana/provisioning:") for v in grafana)
    assert any("alerts.yml" in v for v in SERVICES["prometheus"]["volumes"])
