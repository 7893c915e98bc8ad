"""The whole pipeline on the real broker: connectors → worker → indicators.

Every published row is compared with an independent computation over the
same extracts (tests/support/independent.py), secret cells included: a
published value must equal the independent one, and a cell the primary rule
makes secret must be secret.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer

from connectors.publish import PublishRequest, publish_extract
from connectors.settings import ConnectorSettings
from connectors.synthetic import generate_columns, write_csv
from contracts.keys import load_pseudonym_secret
from contracts.loading import load_indicator_catalog
from hub.demo import read_indicator_rows
from hub.stack import Stack
from hub.stack.processes import is_alive
from hub.stack.services import services
from schemas.catalog import load_catalog
from schemas.codec import decode_message
from tests.support.independent import Territory, expected_indicators
from tests.support.published import problems as problems_of

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "deploy" / "demo"
MONTH, QUARTER, YEAR = "2026-07", "2026-Q3", "2025"
AREAS = {"iris": 66, "commune": 2, "qpv": 3, "commune_hors_qpv": 2, "epci": 1, "quartier": 8}
EXTRACTS = {  # extract: (partner, rows, period); the extract's name starts with its dataset
    "insee.menages": ("insee", 1, YEAR),
    "insee.population": ("insee", 1, YEAR),
    "caf.allocataires": ("caf33", 8000, MONTH),
    "france_travail.demandeurs": ("francetravail33", 4000, MONTH),
    "departement.apa": ("cd33", 2500, QUARTER),
    # two CCAS on one dataset, each in its own commune: their counts add up
    "ccas.aides": ("ccas-bordeaux", 1500, MONTH),
    "ccas.aides/le-bouscat": ("ccas-le-bouscat", 400, MONTH),
}
PERIOD_OF = {  # the period each indicator is published for: its numerator's
    "apa_domicile_pour_100_75plus": QUARTER,
}


def publish(stack: Stack, name: str, path: Path) -> str:
    partner, _, period = EXTRACTS[name]
    dataset = name.split("/")[0]
    settings = ConnectorSettings(state_dir=stack.settings.state_dir, keys_dir=DEMO / "keys")
    request = PublishRequest(
        DEMO / "conventions" / f"{partner}.yaml", path, period, dataset=dataset
    )
    report = publish_extract(request, settings)
    assert report.published, report.to_json()
    return report.drop_id


def read_rows(stack: Stack) -> dict[tuple[str, str, str, str], dict[str, Any]]:
    """The latest row per key on `indicators`, read as the admin."""
    return read_indicator_rows(stack)


@pytest.fixture(scope="module")
def worker(kafka_stack: Stack) -> Iterator[Stack]:
    kafka_stack.start_services(("worker",))
    yield kafka_stack
    kafka_stack.stop_services(("worker",))  # waits: the next module may start its own


@pytest.fixture(scope="module")
def extracts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("extracts")
    paths = {}
    for name, (_, rows, period) in EXTRACTS.items():
        dataset = name.split("/")[0]
        path = directory / f"{name.replace('/', '-')}.csv"
        write_csv(
            path,
            generate_columns(dataset, rows, period if period != QUARTER else "2026-08", seed=21),
        )
        paths[name] = path
    return paths


def compare(stack: Stack, extracts: dict[str, Path]) -> list[str]:
    """Every difference between the published rows and the independent computation."""
    by_dataset: dict[str, Any] = {k: v for k, v in extracts.items() if "/" not in k}
    by_dataset["ccas.aides"] = {
        EXTRACTS[name][0]: path for name, path in extracts.items() if name.startswith("ccas.aides")
    }
    territory = Territory.load(DEMO / "territory")
    expected = expected_indicators(
        by_dataset, territory, load_pseudonym_secret(DEMO / "keys" / "cd33.pseudonym.key")
    )
    rows = read_rows(stack)
    found: list[str] = []
    for indicator in expected:
        period = PERIOD_OF.get(indicator, MONTH)
        found += problems_of(rows, expected, [indicator], period)
    return found


def wait_for_match(stack: Stack, extracts: dict[str, Path], timeout_s: float = 90) -> list[str]:
    deadline = time.monotonic() + timeout_s
    problems = ["not read yet"]
    while time.monotonic() < deadline:
        problems = compare(stack, extracts)
        if not problems:
            return []
        time.sleep(2)
    return problems


def test_every_indicator_matches_an_independent_computation(
    worker: Stack, extracts: dict[str, Path]
) -> None:
    for dataset in EXTRACTS:
        publish(worker, dataset, extracts[dataset])
    problems = wait_for_match(worker, extracts)
    assert problems == [], "\n".join(problems[:20])
    rows = read_rows(worker)
    secret = [k for k, r in rows.items() if r["status"] == "secret" and k[1] in (MONTH, QUARTER)]
    assert secret, "the demo extracts should make some cells secret"


def test_publishing_the_same_extracts_again_changes_nothing(
    worker: Stack, extracts: dict[str, Path]
) -> None:
    assert wait_for_match(worker, extracts) == []
    before = read_rows(worker)
    for name in ("caf.allocataires", "ccas.aides", "ccas.aides/le-bouscat"):
        publish(worker, name, extracts[name])
    time.sleep(5)
    after = read_rows(worker)
    assert {k: r["release_id"] for k, r in after.items()} == {
        k: r["release_id"] for k, r in before.items()
    }


def chunks_ingested(stack: Stack) -> float:
    """The worker's count of CAF chunks read, from its metrics."""
    import urllib.request

    url = f"http://127.0.0.1:{stack.settings.metrics_port}/metrics"
    text = urllib.request.urlopen(url, timeout=5).read().decode()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("obshub_drop_messages_total{")
        and 'dataset="caf.allocataires"' in line
        and 'kind="chunk"' in line
    )


def test_a_worker_killed_mid_drop_recovers_the_same_indicators(
    worker: Stack, extracts: dict[str, Path], tmp_path: Path
) -> None:
    big = tmp_path / "caf-big.csv"
    write_csv(big, generate_columns("caf.allocataires", 120_000, MONTH, seed=22))
    service = services(worker.settings)["worker"]
    pid = service.running_pid()
    assert pid is not None
    before = chunks_ingested(worker)
    publisher = threading.Thread(target=publish, args=(worker, "caf.allocataires", big))
    publisher.start()
    # some chunks are in, the trailer is not (30 chunks: the worker is far from it)
    deadline = time.monotonic() + 60
    while chunks_ingested(worker) < before + 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)
    while is_alive(pid):  # its metrics port is free once it is gone
        time.sleep(0.05)
    publisher.join(timeout=120)
    worker.start_services(("worker",))  # recovers its tables from their changelogs
    extracts = dict(extracts, **{"caf.allocataires": big})
    problems = wait_for_match(worker, extracts, timeout_s=120)
    assert problems == [], "\n".join(problems[:20])


def test_the_worker_reports_its_work_in_metrics(worker: Stack) -> None:
    import urllib.request

    url = f"http://127.0.0.1:{worker.settings.metrics_port}/metrics"
    text = urllib.request.urlopen(url, timeout=5).read().decode()
    assert 'obshub_drops_total{convention="caf33-obshub",dataset="caf.allocataires",' in text
    assert "obshub_cells_total" in text and "obshub_drop_to_indicator_seconds_bucket" in text


def test_a_consumer_reads_its_consented_releases_on_its_own_topic(worker: Stack) -> None:
    """observatoire-bordeaux, with its own credentials, under its ACLs: one
    message per release, each the whole table (66 IRIS and 2 communes)."""
    creds = worker.credentials.get("observatoire-bordeaux")
    consumer = KafkaConsumer(
        "indicators.observatoire-bordeaux",
        **creds.kafka_python_config(),
        group_id="observatoire-bordeaux-tests",
        auto_offset_reset="earliest",
        consumer_timeout_ms=8000,
    )
    records = list(consumer)
    consumer.close()
    indicators = {record.key.split(b"|")[0] for record in records}
    assert len(indicators) == 9
    iris_of = {"33063": 56, "33069": 10}
    latest = {}
    for record in records:
        _, release = decode_message(load_catalog(), record.value)
        assert record.key == f"{release['indicator']}|{release['period']}".encode()
        communes = {row["code"] for row in release["rows"] if row["level"] == "commune"}
        iris = [row for row in release["rows"] if row["level"] == "iris"]
        # whole for the communes its drops cover (the CCAS of Bordeaux, then both)
        assert {row["code"][:5] for row in iris} == communes, release["indicator"]
        assert len(iris) == sum(iris_of[c] for c in communes), release["indicator"]
        latest[release["indicator"]] = len(release["rows"])
    # every area of each of its levels: 66 IRIS, 2 communes, 3 QPV, 2 communes
    # hors QPV, 1 EPCI, 8 quartiers
    assert latest == {
        indicator.id: sum(AREAS[level] for level in indicator.levels)
        for indicator in load_indicator_catalog(DEMO / "indicators.yaml").each()
    }
