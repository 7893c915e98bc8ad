"""Shared material for the deploy tests: the Prometheus and Grafana files,
their PromQL expressions, and the metric names hub/metrics.py exports."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from prometheus_client import CollectorRegistry

from hub.metrics import HubMetrics

ROOT = Path(__file__).resolve().parents[3]
PROMETHEUS_DIR = ROOT / "deploy" / "prometheus"
ALERTS_FILE = PROMETHEUS_DIR / "alerts.yml"
ALERTS_TEST_FILE = PROMETHEUS_DIR / "alerts_test.yml"
PROMETHEUS_CONFIGS = (PROMETHEUS_DIR / "prometheus.yml", PROMETHEUS_DIR / "prometheus.compose.yml")
GRAFANA_DIR = ROOT / "deploy" / "grafana"
DASHBOARDS_DIR = GRAFANA_DIR / "dashboards"
DASHBOARD_FILES = ("convention-compliance.json", "pipeline.json", "access-audit.json")

# Metrics of Prometheus itself that dashboards and alerts may read.
PROMETHEUS_OWN = frozenset({"up", "ALERTS"})

# What Grafana puts in place of its built-in variables before querying.
GRAFANA_BUILTINS = {"__rate_interval": "1m", "__interval": "1m", "__range": "1h"}

_VARIABLE = re.compile(r"\$\{?(\w+)\}?")
_LABEL_VALUES = re.compile(r"^label_values\((?:(?P<selector>.+),\s*)?(?P<label>\w+)\)$")
_KEYWORDS = frozenset(
    {"by", "without", "on", "ignoring", "group_left", "group_right"}
    | {"and", "or", "unless", "bool", "offset", "inf", "nan"}
)


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def load_dashboards() -> dict[str, dict[str, Any]]:
    return {
        name: json.loads((DASHBOARDS_DIR / name).read_text(encoding="utf-8"))
        for name in DASHBOARD_FILES
    }


def provisioned_datasource_uid() -> str:
    data = load_yaml(GRAFANA_DIR / "provisioning" / "datasources" / "prometheus.yml")
    uid: str = data["datasources"][0]["uid"]
    return uid


def data_panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel that queries, rows' nested panels included."""
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            yield from panel.get("panels", [])
        else:
            yield panel


def dashboard_exprs() -> list[tuple[str, str]]:
    """(where, PromQL as Grafana writes it) for every panel target."""
    exprs = []
    for name, dashboard in load_dashboards().items():
        for panel in data_panels(dashboard):
            for target in panel["targets"]:
                exprs.append((f"{name}: {panel['title']} [{target['refId']}]", target["expr"]))
    return exprs


def variable_queries() -> list[tuple[str, str, str | None, str]]:
    """(where, variable name, series selector or None, label) of every query variable."""
    out = []
    for name, dashboard in load_dashboards().items():
        for var in dashboard["templating"]["list"]:
            if var["type"] != "query":
                continue
            query = var["query"]["query"] if isinstance(var["query"], dict) else var["query"]
            match = _LABEL_VALUES.match(query.strip())
            assert match, f"{name}: variable {var['name']}: not a label_values() query: {query}"
            out.append((name, var["name"], match["selector"], match["label"]))
    return out


def alert_rules() -> list[dict[str, Any]]:
    return [rule for group in load_yaml(ALERTS_FILE)["groups"] for rule in group["rules"]]


def alert_exprs() -> list[tuple[str, str]]:
    return [(f"alerts.yml: {rule['alert']}", rule["expr"]) for rule in alert_rules()]


def to_promql(expr: str) -> str:
    """`expr` as Grafana sends it: built-ins replaced, each template variable
    matching everything (variables are only used in `=~` matchers)."""
    return _VARIABLE.sub(lambda m: GRAFANA_BUILTINS.get(m[1], ".*"), expr)


def variables_outside_regex_matchers(expr: str) -> list[str]:
    """Template variables used other than as `label=~"$var"` (multi-value breaks `=`)."""
    bare = re.sub(r'=~"\$\{?\w+\}?"', "", expr)
    return [m[1] for m in _VARIABLE.finditer(bare) if m[1] not in GRAFANA_BUILTINS]


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects (a lexical scan, enough for ours):
    strings, label matchers, ranges, grouping clauses and function names removed."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    text = re.sub(r"\boffset\s+\w+", " ", text)
    names = set()
    for match in re.finditer(r"(?<![\w.:])([a-zA-Z_:][\w:]*)(\s*\()?", text):
        word, is_call = match[1], match[2]
        if not is_call and word.lower() not in _KEYWORDS:
            names.add(word)
    return names


def hub_metric_names(metrics: HubMetrics | None = None) -> set[str]:
    """The series names HubMetrics exports: counters with `_total`, histograms
    with `_bucket`, `_sum` and `_count` (their `_created` is not queried)."""
    metrics = metrics or HubMetrics(CollectorRegistry())
    names: set[str] = set()
    for family in metrics.registry.collect():
        if family.type == "counter":
            names.add(f"{family.name}_total")
        elif family.type == "histogram":
            names |= {f"{family.name}_{suffix}" for suffix in ("bucket", "sum", "count")}
        else:
            names.add(family.name)
    return names


def hub_metric_families(metrics: HubMetrics | None = None) -> set[str]:
    metrics = metrics or HubMetrics(CollectorRegistry())
    return {family.name for family in metrics.registry.collect()}


class PrometheusApi:
    def __init__(self, base: str) -> None:
        self.base = base

    def get(self, path: str, **params: str) -> dict[str, Any]:
        url = f"{self.base}{path}?{urllib.parse.urlencode(params)}"
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                body: dict[str, Any] = json.load(response)
        except urllib.error.HTTPError as exc:  # 400 bad_data carries a JSON body
            body = json.load(exc)
        return body

    def ready(self) -> bool:
        with urllib.request.urlopen(f"{self.base}/-/ready", timeout=2) as response:
            return bool(response.status == 200)

    def query(self, expr: str) -> dict[str, Any]:
        return self.get("/api/v1/query", query=expr)


def wait_for(what: str, check: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")
