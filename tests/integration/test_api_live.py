"""The access API for real: `obshub api` under uvicorn, the real broker, httpx.

Rows are published on `indicators` as the hub principal, for a period no
other test uses, so the test holds whatever else the session publishes.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from kafka import KafkaProducer

from contracts.principals import AUDIT_TOPIC, INDICATORS_TOPIC, RELEASES_TOPIC
from hub.stack import Stack
from schemas.catalog import load_catalog
from schemas.codec import decode_message, encode_message
from tests.conftest import free_port
from tests.support.wire import read_topic, release_record

pytestmark = pytest.mark.integration
SCHEMAS = load_catalog()
START_TIMEOUT_S = 60.0


def env_for(stack: Stack, port: int) -> dict[str, str]:
    return dict(
        os.environ,
        OBSHUB_STATE_DIR=str(stack.settings.state_dir),
        OBSHUB_KAFKA_PORT=str(stack.settings.kafka_port),
        OBSHUB_API_PORT=str(port),
        OBSHUB_LOG_LEVEL="INFO",
    )


def cli(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hub.cli", *args],
        env=env_for(stack, free_port()),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def token_for(stack: Stack, consumer: str) -> dict[str, str]:
    result = cli(stack, "access", "token", consumer)
    assert result.returncode == 0, result.stderr
    return {"Authorization": f"Bearer {result.stdout.strip()}"}


@contextmanager
def running_api(stack: Stack, log: Path) -> Iterator[str]:
    """`obshub api` in a subprocess, until its view has caught up."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "hub.cli", "api"],
            env=env_for(stack, port),
            stdout=out,
            stderr=out,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def publish(stack: Stack, releases: list[dict[str, Any]]) -> None:
    producer = KafkaProducer(
        **stack.credentials.get("hub").kafka_python_config(), acks="all", enable_idempotence=False
    )
    schema = SCHEMAS.protocol("indicator_release")
    try:
        for release in releases:  # one at a time: their order is the point
            key = f"{release['indicator']}|{release['period']}".encode()
            for topic in (RELEASES_TOPIC, INDICATORS_TOPIC):
                producer.send(topic, encode_message(schema, release), key=key).get(timeout=30)
    finally:
        producer.close()


def audit_messages(stack: Stack) -> list[bytes]:
    """Every message on `hub.audit`, every partition (the API writes its own)."""
    return [r.value for r in read_topic(stack.credentials.get("hub"), AUDIT_TOPIC)]


def test_the_api_serves_audits_and_rebuilds_its_view(kafka_stack: Stack, tmp_path: Path) -> None:
    period = f"19{secrets.randbelow(100):02d}-{1 + secrets.randbelow(12):02d}"
    started = datetime.now(UTC).replace(microsecond=0)
    first_cells = [("iris", "330630101", 12.0), ("iris", "330630102", None)]
    first_cells.append(("commune", "33063", 40.0))
    later_cells = [("iris", "330630101", 14.0), ("iris", "330630102", None)]
    later_cells.append(("commune", "33063", 41.0))
    publish(
        kafka_stack,
        [
            release_record("caf_allocataires", period, first_cells, "a1"),
            release_record("caf_allocataires", period, later_cells, "b2", replaces="a1"),
        ],
    )
    observatory = token_for(kafka_stack, "observatoire-bordeaux")
    agora = token_for(kafka_stack, "agora-le-bouscat")
    url_path = "/v1/indicators/caf_allocataires"
    log = tmp_path / "api.log"

    with running_api(kafka_stack, log) as url:
        first = httpx.get(f"{url}{url_path}", params={"period": period}, headers=observatory)
        assert first.status_code == 200, first.text
        rows = {(r["level"], r["code"]): r for r in first.json()["rows"]}
        assert first.json()["release_id"] == "b2"  # the later release, whole
        assert rows[("iris", "330630101")]["value"] == 14.0
        assert rows[("iris", "330630102")]["value"] is None
        assert rows[("iris", "330630102")]["status"] == "secret"
        assert rows[("commune", "33063")]["value"] == 41.0
        assert httpx.get(f"{url}{url_path}").status_code == 401
        denied = httpx.get(f"{url}/v1/indicators/defm_cat_a", headers=agora)
        assert denied.status_code == 403
        csv_text = httpx.get(
            f"{url}{url_path}", params={"period": period, "format": "csv"}, headers=agora
        ).text
        assert csv_text.splitlines()[0].startswith("indicator,level,code")
        metrics = httpx.get(f"{url}/metrics").text
        assert 'consumer="agora-le-bouscat",decision="denied",indicator="defm_cat_a"' in metrics

    with running_api(kafka_stack, log) as url:  # a fresh process rebuilds the same view
        again = httpx.get(f"{url}{url_path}", params={"period": period}, headers=observatory)
        assert again.json() == first.json()
        assert cli(kafka_stack, "access", "revoke", "observatoire-bordeaux").returncode == 0
        revoked = httpx.get(f"{url}{url_path}", params={"period": period}, headers=observatory)
        assert revoked.status_code == 401

    messages = audit_messages(kafka_stack)
    events = [decode_message(SCHEMAS, value)[1] for value in messages]
    ours = [e for e in events if e["at"] >= started and e["channel"] == "api"]
    assert {
        (e["consumer"], e["indicator"], e["outcome"], e["reason"])
        for e in ours
        if e["indicator"] is not None
    } >= {
        ("observatoire-bordeaux", "caf_allocataires", "granted", "granted"),
        ("agora-le-bouscat", "defm_cat_a", "denied", "consumer_not_named"),
        ("agora-le-bouscat", "caf_allocataires", "granted", "granted"),
    }
    for header in (observatory, agora):
        secret = header["Authorization"].split()[1].split(".", 1)[1].encode()
        assert not any(secret in value for value in messages)
