"""Releases on the live stack: atomic for every reader, registered, audited on a chain.

While a new period is released and then revised by a superseding drop, an
observatory app polls the API every 10 ms and its Kafka topic is read: every
answer and every message is a complete table of exactly one release. The
register then lists both releases with their provenance, and the audit
trail the worker and the API wrote verifies; copies of it with an event
edited, removed or moved do not.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from connectors.synthetic import generate_columns, write_csv
from contracts.principals import AUDIT_TOPIC, RELEASES_TOPIC, consumer_topic
from hub.api.tokens import TokenStore
from hub.audit import Stored
from hub.stack import Stack
from hub.stack.services import child_environment
from schemas.catalog import load_catalog
from schemas.codec import decode_message, encode_message
from tests.support.published import DEMO
from tests.support.wire import build_extract_drop, produce, read_topic, wait_until

pytestmark = pytest.mark.integration
CATALOG = load_catalog()
INDICATOR = "caf_monoparents_part"
PERIOD = "2025-06"  # no other test publishes it
OBSERVATORY = "observatoire-bordeaux"
CAF = DEMO / "conventions" / "caf33.yaml"
ROOT = Path(__file__).resolve().parents[2]
POLL_EVERY_S = 0.01


@dataclass
class Reads:
    answers: list[dict[str, Any]] = field(default_factory=list)  # 200 answers of the API
    messages: list[dict[str, Any]] = field(default_factory=list)  # the consumer's topic
    errors: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def live(kafka_stack: Stack) -> Iterator[Stack]:
    kafka_stack.start_services(("worker", "api"))
    yield kafka_stack
    kafka_stack.stop_services(("worker", "api"))


def poll_api(url: str, token: str, stop: threading.Event, reads: Reads) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    params = {"period": PERIOD, "level": "iris"}
    with httpx.Client(base_url=url, headers=headers, timeout=10) as client:
        while not stop.is_set():
            answer = client.get(f"/v1/indicators/{INDICATOR}", params=params)
            if answer.status_code == 200:
                reads.answers.append(answer.json())
            elif answer.status_code != 404:  # 404: nothing released yet
                reads.errors.append(f"{answer.status_code} {answer.text[:200]}")
            time.sleep(POLL_EVERY_S)


def read_consumer_topic(stack: Stack, stop: threading.Event, reads: Reads) -> None:
    topic = consumer_topic(OBSERVATORY)
    consumer = KafkaConsumer(
        **stack.credentials.get(OBSERVATORY).kafka_python_config(), enable_auto_commit=False
    )
    try:
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        consumer.seek_to_end(partition)
        consumer.position(partition)
        while not stop.is_set():
            for records in consumer.poll(timeout_ms=100).values():
                for record in records:
                    _, release = decode_message(CATALOG, record.value)
                    if (release["indicator"], release["period"]) == (INDICATOR, PERIOD):
                        reads.messages.append(release)
    finally:
        consumer.close()


def publish_caf(stack: Stack, scratch: Path, seed: int, rows: int) -> str:
    path = scratch / f"caf-{seed}.csv"
    write_csv(path, generate_columns("caf.allocataires", rows, PERIOD, seed=seed))
    report, sent = build_extract_drop(stack, CAF, path, PERIOD, "caf.allocataires")
    produce(stack.credentials.get("caf33"), sent)
    return report.drop_id


@pytest.fixture(scope="module")
def released(live: Stack, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A period released, then revised, while the API and the topic are read."""
    scratch = tmp_path_factory.mktemp("releases")
    token = TokenStore(live.settings.access_dir).issue(OBSERVATORY).token
    url = live.settings.api_url
    reads, stop = Reads(), threading.Event()
    readers = [
        threading.Thread(target=poll_api, args=(url, token, stop, reads), daemon=True),
        threading.Thread(target=read_consumer_topic, args=(live, stop, reads), daemon=True),
    ]
    for reader in readers:
        reader.start()
    headers = {"Authorization": f"Bearer {token}"}
    register_url = f"{url}/v1/releases"
    params = {"indicator": INDICATOR, "period": PERIOD}

    def register() -> list[dict[str, Any]]:
        return list(httpx.get(register_url, params=params, headers=headers).json()["releases"])

    try:
        first_drop = publish_caf(live, scratch, seed=41, rows=4000)
        wait_until(lambda: len(register()) == 1, 120, "the first release", every_s=0.2)
        time.sleep(0.5)  # a few polls of the first release alone
        second_drop = publish_caf(live, scratch, seed=42, rows=5000)
        wait_until(lambda: len(register()) == 2, 120, "the revision", every_s=0.2)
        wait_until(lambda: len(reads.messages) >= 2, 30, "both releases on the topic", 0.2)
        time.sleep(0.5)
    finally:
        stop.set()
        for reader in readers:
            reader.join(20)
    return {
        "reads": reads,
        "register": register(),
        "drops": (first_drop, second_drop),
        "token": token,
        "headers": headers,
    }


def test_every_api_answer_is_one_whole_release(live: Stack, released: dict[str, Any]) -> None:
    reads: Reads = released["reads"]
    assert reads.errors == []
    first, second = (entry["id"] for entry in released["register"])
    rows_of = {
        rid: httpx.get(
            f"{live.settings.api_url}/v1/releases/{rid}", headers=released["headers"]
        ).json()["rows"]
        for rid in (first, second)
    }
    iris = {r["code"] for r in rows_of[first] if r["level"] == "iris"}
    assert len(iris) == 66
    seen = []
    for answer in reads.answers:
        assert answer["release_id"] in (first, second), answer["release_id"]
        expected = [r for r in rows_of[answer["release_id"]] if r["level"] == "iris"]
        assert answer["rows"] == expected  # the whole table, of that release only
        if not seen or seen[-1] != answer["release_id"]:
            seen.append(answer["release_id"])
    assert seen == [first, second], "the API switches once, from the first release to the next"
    assert len(reads.answers) >= 50


def test_every_message_on_the_consumer_topic_is_one_whole_release(
    released: dict[str, Any],
) -> None:
    messages = released["reads"].messages
    first, second = (entry["id"] for entry in released["register"])
    assert [m["release_id"] for m in messages] == [first, second]
    for message in messages:
        levels = [row["level"] for row in message["rows"]]
        assert (levels.count("iris"), levels.count("commune")) == (66, 2)
    assert messages[1]["replaces"] == first


def test_the_register_lists_both_releases_with_their_provenance(
    live: Stack, released: dict[str, Any]
) -> None:
    first, second = released["register"]
    assert (first["replaces"], second["replaces"]) == (None, first["id"])
    for entry in (first, second):
        assert entry["sources"] == [
            {
                "partner": "caf33",
                "dataset": "caf.allocataires",
                "period": PERIOD,
                "convention": "caf33-obshub",
                "convention_version": entry["sources"][0]["convention_version"],
            }
        ]
        assert entry["rules"]["k"] == 11 and entry["audit"]["passed"] is True
    assert first["published_at"] < second["published_at"]
    old = httpx.get(
        f"{live.settings.api_url}/v1/releases/{first['id']}", headers=released["headers"]
    )
    assert old.status_code == 200 and old.json()["id"] == first["id"]
    current = httpx.get(
        f"{live.settings.api_url}/v1/indicators/{INDICATOR}",
        params={"period": PERIOD},
        headers=released["headers"],
    ).json()
    assert current["release_id"] == second["id"]
    assert old.json()["rows"] != current["rows"]  # the first still says what it published


def test_the_kafka_python_example_of_the_docs_reads_whole_releases(
    live: Stack, released: dict[str, Any], tmp_path: Path
) -> None:
    text = (ROOT / "docs" / "consumers.md").read_text(encoding="utf-8")
    example = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    assert len(example) == 1
    script = tmp_path / "read_releases.py"
    script.write_text(example[0], encoding="utf-8")
    env = {
        "PATH": os.environ["PATH"],
        "OBSHUB_CLIENT_PROPERTIES": str(
            live.settings.credentials_dir / f"{OBSERVATORY}.properties"
        ),
        "OBSHUB_RELEASE_SCHEMA": str(ROOT / "schemas/avro/protocol/indicator_release.v1.avsc"),
        "GROUP_ID": f"{OBSERVATORY}-docs-{secrets.token_hex(4)}",
        "TIMEOUT_MS": "8000",
    }
    run = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    first, second = (entry["id"] for entry in released["register"])
    ours = [line for line in run.stdout.splitlines() if line.startswith(f"{INDICATOR} {PERIOD} ")]
    assert ours == [
        f"{INDICATOR} {PERIOD} {first} replaces None 68 rows",
        f"{INDICATOR} {PERIOD} {second} replaces {first} 68 rows",
    ]


def obshub(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    env = child_environment(stack.settings)
    return subprocess.run(
        [sys.executable, "-m", "hub.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def copy_to(stack: Stack, topic: str, messages: list[Stored]) -> None:
    producer = KafkaProducer(**stack.credentials.get("hub").kafka_python_config(), acks="all")
    try:
        for message in messages:
            producer.send(topic, message.value, partition=message.partition).get(timeout=30)
    finally:
        producer.close()


def test_the_audit_trail_verifies_and_a_tampered_copy_does_not(
    live: Stack, released: dict[str, Any], fresh_topic: Callable[[str], str]
) -> None:
    def signed_heads() -> int:
        events = [
            decode_message(CATALOG, r.value)[1]
            for r in read_topic(live.credentials.get("hub"), AUDIT_TOPIC)
        ]
        return sum(1 for e in events if e.get("action") == "audit_chain")

    wait_until(signed_heads, 30, "a signed chain head", every_s=1)
    verified = obshub(live, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.startswith("audit chain whole: ")
    trail = [
        Stored(r.partition, r.offset, r.value)
        for r in read_topic(live.credentials.get("hub"), AUDIT_TOPIC)
    ]
    chained = [
        m for m in trail if m.partition == 0 and decode_message(CATALOG, m.value)[1].get("chain")
    ]
    first_chain = decode_message(CATALOG, chained[0].value)[1]["chain"]
    ours = [m for m in chained if decode_message(CATALOG, m.value)[1]["chain"] == first_chain]
    assert len(ours) >= 6

    def verdict(messages: list[Stored]) -> subprocess.CompletedProcess[str]:
        topic = fresh_topic("hub.audit-copy-")
        copy_to(live, topic, [Stored(0, i, m.value) for i, m in enumerate(messages)])
        return obshub(live, "audit", "verify", "--topic", topic)

    intact = verdict(ours)
    assert intact.returncode == 0 and "audit chain whole" in intact.stdout, intact.stdout
    schema = CATALOG.protocol("audit_event")
    record = decode_message(CATALOG, ours[2].value)[1]
    edited = Stored(0, 2, encode_message(schema, {**record, "reason": "edited"}))
    for tampered in (
        [*ours[:2], edited, *ours[3:]],  # an event edited
        [*ours[:3], *ours[4:]],  # an event removed
        [*ours[:2], ours[3], ours[2], *ours[4:]],  # two events swapped
    ):
        broken = verdict(tampered)
        assert broken.returncode == 1, broken.stdout
        assert broken.stdout.startswith("audit chain broken: chain "), broken.stdout
        assert "does not follow the event before it" in broken.stdout
    assert len(intact.stdout.strip().splitlines()) == 1


def test_a_restarted_worker_knows_what_it_published(
    live: Stack, released: dict[str, Any], tmp_path: Path
) -> None:
    """It reads its releases back: nothing unchanged is sent again, and the next
    revision names the release it replaces."""

    def on_register() -> list[dict[str, Any]]:
        records = read_topic(live.credentials.get("hub"), RELEASES_TOPIC)
        key = f"{INDICATOR}|{PERIOD}".encode()
        return [decode_message(CATALOG, r.value)[1] for r in records if r.key == key]

    before = on_register()
    assert len(before) == 2
    live.stop_services(("worker",))
    live.start_services(("worker",))
    time.sleep(3 * live.settings.conventions_poll_s + 2)  # its first rounds are done
    assert len(on_register()) == 2
    publish_caf(live, tmp_path, seed=43, rows=4500)
    third = wait_until(lambda: on_register()[2:], 120, "the third release", every_s=0.5)[0]
    assert third["replaces"] == before[1]["release_id"]
