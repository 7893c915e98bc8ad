"""deploy/grafana: dashboards are well formed, read only metrics hub/metrics.py
exports, and every PromQL expression (dashboards and alerts) is accepted by a
real Prometheus. That Prometheus scrapes a HubMetrics registry filled as after
a demo, so each dashboard expression must also return data: a panel that
stays empty is a defect."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry, start_http_server

from hub.metrics import HubMetrics
from hub.stack.processes import listening_port
from tests.unit.deploy.support import (
    ALERTS_FILE,
    GRAFANA_DIR,
    PROMETHEUS_OWN,
    PrometheusApi,
    alert_exprs,
    dashboard_exprs,
    data_panels,
    hub_metric_families,
    hub_metric_names,
    load_dashboards,
    load_yaml,
    metric_names,
    provisioned_datasource_uid,
    to_promql,
    variable_queries,
    variables_outside_regex_matchers,
    wait_for,
)

PROMETHEUS = shutil.which("prometheus")
needs_prometheus = pytest.mark.skipif(
    PROMETHEUS is None, reason="prometheus missing: `make test` installs Debian's prometheus"
)
DASHBOARD_EXPRS = dashboard_exprs()
ALL_EXPRS = DASHBOARD_EXPRS + alert_exprs()


# --- structure -------------------------------------------------------------


def test_provisioning_points_at_the_dashboards_and_prometheus() -> None:
    provider = load_yaml(GRAFANA_DIR / "provisioning" / "dashboards" / "obshub.yml")
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
    source = load_yaml(GRAFANA_DIR / "provisioning" / "datasources" / "prometheus.yml")
    assert source["datasources"][0]["url"] == "http://prometheus:9090"
    assert source["datasources"][0]["type"] == "prometheus"


def test_dashboards_have_unique_uids_and_titles() -> None:
    dashboards = load_dashboards().values()
    uids = [d["uid"] for d in dashboards]
    titles = [d["title"] for d in dashboards]
    assert all(uids) and len(set(uids)) == len(uids)
    assert all(titles) and len(set(titles)) == len(titles)


@pytest.mark.parametrize("name", list(load_dashboards()))
def test_dashboard_panels_query_the_provisioned_datasource(name: str) -> None:
    dashboard = load_dashboards()[name]
    uid = provisioned_datasource_uid()
    panels = list(data_panels(dashboard))
    assert len(panels) >= 5
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(set(ids)) == len(ids)
    for panel in panels:
        where = f"{name}: {panel['title']}"
        assert panel["title"] and set(panel["gridPos"]) == {"h", "w", "x", "y"}, where
        assert panel["datasource"]["uid"] == uid, where
        assert panel["targets"], f"{where}: no target"
        ref_ids = [t["refId"] for t in panel["targets"]]
        assert len(set(ref_ids)) == len(ref_ids), where
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == uid, where
            assert target["expr"].strip(), where
    for var in dashboard["templating"]["list"]:
        assert var["datasource"]["uid"] == uid, f"{name}: variable {var['name']}"


@pytest.mark.parametrize(("where", "expr"), DASHBOARD_EXPRS, ids=[w for w, _ in DASHBOARD_EXPRS])
def test_template_variables_are_regex_matchers(where: str, expr: str) -> None:
    assert variables_outside_regex_matchers(expr) == []


def test_every_variable_used_is_defined() -> None:
    for name, dashboard in load_dashboards().items():
        defined = {v["name"] for v in dashboard["templating"]["list"]}
        text = json.dumps([list(data_panels(dashboard)), dashboard["templating"]])
        used = {m for m in _variables(text) if not m.startswith("__")}
        assert used <= defined, f"{name}: undefined variables {used - defined}"


def _variables(text: str) -> set[str]:
    return set(re.findall(r"\$\{?([a-zA-Z_]\w*)\}?", text))


# --- metric names ----------------------------------------------------------


def test_metric_name_scan_finds_selectors_only() -> None:
    expr = (
        'sum by (le, dataset) (rate(obshub_x_bucket{a=~"$v"}[5m])) / on (dataset) '
        "group_left () up offset 1h > 0.05 unless absent(ALERTS) or vector(0) * time()"
    )
    assert metric_names(expr) == {"obshub_x_bucket", "up", "ALERTS"}


@pytest.mark.parametrize(("where", "expr"), ALL_EXPRS, ids=[w for w, _ in ALL_EXPRS])
def test_expressions_read_only_exported_metrics(where: str, expr: str) -> None:
    names = metric_names(to_promql(expr))
    assert names, "no metric selected"
    assert names - hub_metric_names() - PROMETHEUS_OWN == set()


def test_variables_read_only_exported_metrics() -> None:
    for where, var, selector, _label in variable_queries():
        assert selector is not None, f"{where}: {var} lists a label across every metric"
        assert metric_names(to_promql(selector)) <= hub_metric_names(), f"{where}: {var}"


def test_every_hub_metric_is_on_a_dashboard_or_in_an_alert() -> None:
    used = set().union(*(metric_names(to_promql(expr)) for _, expr in ALL_EXPRS))
    unused = {
        family
        for family in hub_metric_families()
        if not any(name == family or name.startswith(f"{family}_") for name in used)
    }
    assert unused == set()


# --- a real Prometheus -----------------------------------------------------


def _free_port() -> int:
    return listening_port()


def _demo_metrics() -> HubMetrics:
    """HubMetrics as the worker and the API leave them after `make demo`."""
    m = HubMetrics(CollectorRegistry())
    now = time.time()
    conventions = {
        "caf33-obshub": ("caf33", "caf.allocataires", "monthly"),
        "insee-obshub": ("insee", "insee.menages", "yearly"),
    }
    for convention, (partner, dataset, cadence) in conventions.items():
        m.publish_convention(
            convention,
            valid_from=1735686000,
            valid_until=1830207600,
            applicable=True,
            cadences={dataset: cadence},
        )
        m.convention_last_drop.labels(convention, dataset).set(now - 60)
        m.publish_indicator_sources("rsa_pour_100_menages", [(convention, dataset)])
        m.publish_consumer_lag({f"drops.{partner}": 0})
    m.publish_indicator_sources("caf_allocataires", [("caf33-obshub", "caf.allocataires")])
    m.drop_rejections.labels("caf33", "caf33-obshub", "bad_chunk")
    m.record_rejections.labels("caf33", "caf.allocataires", "outside_territory")
    m.quarantined.labels("caf33", "bad_seal")
    m.releases.labels("caf_allocataires", "failed_check")
    m.worker_up.set(1)
    _drop(m)
    return m


def _drop(m: HubMetrics) -> None:
    """One more demo drop of each kind: counters move between two scrapes."""
    for convention, partner, dataset in (
        ("caf33-obshub", "caf33", "caf.allocataires"),
        ("insee-obshub", "insee", "insee.menages"),
    ):
        for kind, n in (("header", 1), ("chunk", 12), ("trailer", 1)):
            m.drop_messages.labels(partner, convention, dataset, kind).inc(n)
        m.drops.labels(partner, convention, dataset, "accepted").inc()
        m.drops.labels(partner, convention, dataset, "rejected").inc()
        m.records.labels(partner, convention, dataset, "aggregated").inc(5000)
        m.records.labels(partner, convention, dataset, "rejected").inc(12)
        m.receipts.labels(partner, "accepted").inc()
        m.receipts.labels(partner, "rejected").inc()
        m.drop_to_indicator.labels(dataset).observe(1.7)
    m.drop_rejections.labels("caf33", "caf33-obshub", "bad_chunk").inc()
    m.record_rejections.labels("caf33", "caf.allocataires", "outside_territory").inc(12)
    m.quarantined.labels("caf33", "bad_seal").inc()
    for indicator in ("caf_allocataires", "rsa_pour_100_menages"):
        m.cells.labels(indicator, "published").inc(40)
        m.cells.labels(indicator, "secret_primary").inc(3)
        m.cells.labels(indicator, "secret_secondary").inc(2)
        m.releases.labels(indicator, "published").inc()
    for consumer, indicator in (
        ("observatoire-bordeaux", "caf_allocataires"),
        ("agora-le-bouscat", "defm_cat_a"),
    ):
        m.access_requests.labels(consumer, indicator, "granted").inc(3)
        m.access_requests.labels(consumer, indicator, "denied").inc()


def _scrapes(api: PrometheusApi) -> int:
    result = api.query('count_over_time(up{job="obshub-worker"}[1m])')["data"]["result"]
    return int(result[0]["value"][1]) if result else 0


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusApi]:
    """One throwaway Prometheus (empty TSDB, free port, 1 s scrapes) for every
    expression, scraping a demo-filled HubMetrics and loading alerts.yml."""
    if PROMETHEUS is None:
        pytest.skip("prometheus missing: `make test` installs Debian's prometheus")
    metrics = _demo_metrics()
    exporter_port, web_port = _free_port(), _free_port()
    server, thread = start_http_server(exporter_port, addr="127.0.0.1", registry=metrics.registry)
    workdir: Path = tmp_path_factory.mktemp("prometheus")
    config = {
        "global": {"scrape_interval": "250ms", "evaluation_interval": "1s"},
        "rule_files": [str(ALERTS_FILE)],
        "scrape_configs": [
            {
                "job_name": job,
                "static_configs": [{"targets": [f"127.0.0.1:{exporter_port}"]}],
            }
            for job in ("obshub-worker", "obshub-api")
        ],
    }
    (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
    log = (workdir / "prometheus.log").open("w")
    process = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={workdir / 'prometheus.yml'}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{web_port}",
            "--log.level=warn",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        api = PrometheusApi(f"http://127.0.0.1:{web_port}")
        wait_for("prometheus ready", api.ready)
        wait_for("a first scrape", lambda: _scrapes(api) >= 1)
        _drop(metrics)  # rates see counters move
        wait_for("three scrapes", lambda: _scrapes(api) >= 3)
        yield api
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@needs_prometheus
@pytest.mark.parametrize(("where", "expr"), ALL_EXPRS, ids=[w for w, _ in ALL_EXPRS])
def test_expression_is_valid_promql(prometheus: PrometheusApi, where: str, expr: str) -> None:
    answer = prometheus.query(to_promql(expr))
    assert answer["status"] == "success", answer.get("error")


@needs_prometheus
@pytest.mark.parametrize(("where", "expr"), DASHBOARD_EXPRS, ids=[w for w, _ in DASHBOARD_EXPRS])
def test_dashboard_expression_returns_data(
    prometheus: PrometheusApi, where: str, expr: str
) -> None:
    answer = prometheus.query(to_promql(expr))
    assert answer["status"] == "success", answer.get("error")
    assert answer["data"]["result"], "empty after a demo: the panel would stay blank"


@needs_prometheus
def test_template_variables_list_values(prometheus: PrometheusApi) -> None:
    for where, var, selector, label in variable_queries():
        assert selector is not None
        answer = prometheus.get(f"/api/v1/label/{label}/values", **{"match[]": to_promql(selector)})
        assert answer["status"] == "success", f"{where}: {var}: {answer.get('error')}"
        assert answer["data"], f"{where}: variable {var} lists nothing"


@needs_prometheus
def test_prometheus_loaded_every_alert_rule(prometheus: PrometheusApi) -> None:
    groups = prometheus.get("/api/v1/rules")["data"]["groups"]
    loaded = {rule["name"] for group in groups for rule in group["rules"]}
    assert loaded == {where.removeprefix("alerts.yml: ") for where, _ in alert_exprs()}
    unhealthy = [r["name"] for g in groups for r in g["rules"] if r.get("health") == "err"]
    assert unhealthy == []
