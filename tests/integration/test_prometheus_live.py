"""Debian's Prometheus against the live stack, after demo drops.

The worker and the API of the session stack run for real; the demo partners
publish through their connectors (with faulty rows the hub rejects), one
forged drop is rejected, consumers call the API (granted and denied). Then a
real Prometheus scrapes them, and every dashboard and alert expression must
be valid, and every dashboard expression must return data.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from kafka import KafkaProducer

from connectors.publish import PublishRequest, publish_extract
from connectors.settings import ConnectorSettings
from connectors.synthetic import generate_columns, write_csv
from hub.api.tokens import TokenStore
from hub.stack import Stack
from tests.conftest import free_port
from tests.support.drops import build_drop, caf_record
from tests.unit.deploy.support import (
    ALERTS_FILE,
    PrometheusApi,
    alert_exprs,
    dashboard_exprs,
    to_promql,
    variable_queries,
    wait_for,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        shutil.which("prometheus") is None,
        reason="prometheus missing: `make test` installs Debian's prometheus",
    ),
]
ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "deploy" / "demo"
PERIOD = "2026-05"
DROPS = [  # dataset, partner, rows, period, faults
    ("insee.menages", "insee", 1, "2024", 0.0),
    ("insee.population", "insee", 1, "2024", 0.0),
    ("caf.allocataires", "caf33", 3000, PERIOD, 0.02),
    ("france_travail.demandeurs", "francetravail33", 2000, PERIOD, 0.03),
    ("departement.apa", "cd33", 1000, "2026-Q2", 0.0),
    ("ccas.aides", "ccas-bordeaux", 800, PERIOD, 0.0),
]


def produce_demo_traffic(stack: Stack, directory: Path) -> None:
    settings = ConnectorSettings(state_dir=stack.settings.state_dir, keys_dir=DEMO / "keys")
    for dataset, partner, rows, period, faults in DROPS:
        path = directory / f"{dataset}.csv"
        write_csv(
            path,
            generate_columns(dataset, rows, "2026-05", seed=5),
            faults=faults,
            kinds=["outside_territory", "bad_number"],
            seed=5,
        )
        publish_extract(
            PublishRequest(DEMO / "conventions" / f"{partner}.yaml", path, period, dataset=dataset),
            settings,
        )
    # a drop signed with another partner's key: rejected, quarantined
    forged = build_drop(
        [caf_record(i) for i in range(20)], signer="insee", period="2026-04", drop_id="f" * 32
    )
    producer = KafkaProducer(**stack.admin_credentials().kafka_python_config(), acks="all")
    for message in forged:
        producer.send(message.topic, key=message.key, value=message.value)
    producer.flush()
    producer.close()
    tokens = TokenStore(stack.settings.access_dir)
    base = stack.settings.api_url
    for consumer, indicator in (
        ("observatoire-bordeaux", "caf_allocataires"),
        ("agora-le-bouscat", "defm_cat_a"),
        ("cabinet-etudes", "caf_allocataires"),
    ):
        token = tokens.issue(consumer).token
        wait_for("the API's view", lambda: httpx.get(f"{base}/healthz").status_code == 200, 60)
        httpx.get(
            f"{base}/v1/indicators/{indicator}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )


@pytest.fixture(scope="module")
def prometheus(
    kafka_stack: Stack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PrometheusApi]:
    kafka_stack.start_services(("worker", "api"))
    workdir = tmp_path_factory.mktemp("prometheus-live")
    produce_demo_traffic(kafka_stack, workdir)
    settings = kafka_stack.settings
    port = free_port()
    config = {
        "global": {"scrape_interval": "500ms", "evaluation_interval": "1s"},
        "rule_files": [str(ALERTS_FILE)],
        "scrape_configs": [
            {
                "job_name": "obshub-worker",
                "static_configs": [{"targets": [f"127.0.0.1:{settings.metrics_port}"]}],
            },
            {
                "job_name": "obshub-api",
                "metrics_path": "/metrics",
                "static_configs": [{"targets": [f"127.0.0.1:{settings.api_port}"]}],
            },
        ],
    }
    (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
    log = (workdir / "prometheus.log").open("w")
    process = subprocess.Popen(
        [
            shutil.which("prometheus") or "prometheus",
            f"--config.file={workdir / 'prometheus.yml'}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    api = PrometheusApi(f"http://127.0.0.1:{port}")
    try:
        wait_for("prometheus ready", api.ready, 30)

        def indicators_scraped() -> bool:
            answer = api.query('sum(obshub_cells_total{job="obshub-worker"})')
            return bool(answer["data"]["result"])

        wait_for("the worker's releases in Prometheus", indicators_scraped, 90)
        wait_for(
            "several scrapes",
            lambda: bool(
                api.query('count_over_time(up{job="obshub-api"}[1m]) >= 6')["data"]["result"]
            ),
            30,
        )
        yield api
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()
        kafka_stack.stop_services(("api", "worker"))


ALL = dashboard_exprs() + alert_exprs()


def test_every_expression_is_valid_against_the_live_stack(prometheus: PrometheusApi) -> None:
    invalid = [
        (where, prometheus.query(to_promql(expr)).get("error"))
        for where, expr in ALL
        if prometheus.query(to_promql(expr))["status"] != "success"
    ]
    assert invalid == []


def test_every_dashboard_panel_has_data_after_demo_drops(prometheus: PrometheusApi) -> None:
    empty = [
        where
        for where, expr in dashboard_exprs()
        if not prometheus.query(to_promql(expr))["data"]["result"]
    ]
    assert empty == []


def test_template_variables_list_the_live_conventions_and_consumers(
    prometheus: PrometheusApi,
) -> None:
    for where, var, selector, label in variable_queries():
        answer = prometheus.get(
            f"/api/v1/label/{label}/values", **{"match[]": to_promql(selector or "up")}
        )
        assert answer["data"], f"{where}: variable {var} lists nothing"


def test_the_forged_drop_shows_as_rejected(prometheus: PrometheusApi) -> None:
    answer = prometheus.query(
        'obshub_drop_rejections_total{partner="caf33",reason="bad_signature"}'
    )
    assert answer["data"]["result"], "the rejected drop is not in the metrics"
