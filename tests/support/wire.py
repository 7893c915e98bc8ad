"""Kafka and metrics plumbing for tests against a running stack.

Read a topic from the beginning to its current end, produce a list of
messages in order and learn where each landed, build a drop's messages with
the real connector into memory (so a test decides when and as whom they are
produced), and read the worker's Prometheus counters.
"""

from __future__ import annotations

import datetime as dt
import time
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from prometheus_client.parser import text_string_to_metric_families

from connectors.publish import PublishReport, PublishRequest, publish_extract
from connectors.settings import ConnectorSettings
from contracts.principals import INDICATORS_TOPIC, QUARANTINE_TOPIC, KafkaCredentials
from hub.published import flat_rows
from hub.stack import Stack
from schemas.catalog import load_catalog
from schemas.codec import decode_message, encode_message

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "deploy" / "demo"
CATALOG = load_catalog()


@dataclass(frozen=True)
class Sent:
    topic: str
    key: bytes | None
    value: bytes


@dataclass(frozen=True)
class Placed:
    """Where the broker put a message we produced."""

    topic: str
    partition: int
    offset: int


@dataclass
class ListSink:
    """The connector's `Sink`, into memory."""

    sent: list[Sent] = field(default_factory=list)

    def send(self, topic: str, key: bytes, value: bytes) -> None:
        self.sent.append(Sent(topic, key, value))

    def flush(self) -> None:
        return None

    def close(self) -> None:
        return None


def build_extract_drop(
    stack: Stack,
    convention: Path,
    extract: Path,
    period: str,
    dataset: str | None = None,
    *,
    chunk_size: int = 500,
    now: dt.datetime | None = None,
) -> tuple[PublishReport, list[Sent]]:
    """The messages `obshub connector publish` would send for this extract."""
    sink = ListSink()
    settings = ConnectorSettings(
        state_dir=stack.settings.state_dir, keys_dir=DEMO / "keys", chunk_size=chunk_size
    )
    request = PublishRequest(convention, extract, period, dataset=dataset)
    report = publish_extract(request, settings, sink_factory=lambda _topic: sink, now=now)
    assert report.published, report.to_json()
    return report, sink.sent


def produce(creds: KafkaCredentials, messages: Iterable[Sent]) -> list[Placed]:
    """Send `messages` in order (one producer, acks=all) and wait for each."""
    producer = KafkaProducer(
        **creds.kafka_python_config(),
        acks="all",
        linger_ms=5,
        max_request_size=1_100_000,
    )
    try:
        futures = [producer.send(m.topic, key=m.key, value=m.value) for m in messages]
        producer.flush()
        placed = []
        for future in futures:
            meta = future.get(timeout=60)
            placed.append(Placed(meta.topic, meta.partition, meta.offset))
        return placed
    finally:
        producer.close()


def read_topic(creds: KafkaCredentials, topic: str) -> list[Any]:
    """Every record of `topic` now, all partitions, without a consumer group."""
    consumer = KafkaConsumer(**creds.kafka_python_config(), enable_auto_commit=False)
    try:
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        ends = consumer.end_offsets(parts)
        records: list[Any] = []
        deadline = time.monotonic() + 60
        while any(consumer.position(tp) < ends[tp] for tp in parts):
            assert time.monotonic() < deadline, f"{topic} not read to its end in 60 s"
            for batch in consumer.poll(timeout_ms=500, max_records=5000).values():
                records += batch
        return records
    finally:
        consumer.close()


def end_offsets(creds: KafkaCredentials, topic: str) -> dict[int, int]:
    consumer = KafkaConsumer(**creds.kafka_python_config(), enable_auto_commit=False)
    try:
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        return {tp.partition: offset for tp, offset in consumer.end_offsets(parts).items()}
    finally:
        consumer.close()


def decoded(creds: KafkaCredentials, topic: str) -> list[dict[str, Any]]:
    return [decode_message(CATALOG, r.value)[1] for r in read_topic(creds, topic)]


def quarantine_events(stack: Stack) -> list[dict[str, Any]]:
    return decoded(stack.admin_credentials(), QUARANTINE_TOPIC)


def indicator_rows(stack: Stack) -> dict[tuple[str, str, str, str], dict[str, Any]]:
    """Per (indicator, period, level, code), the row of the latest release on
    `indicators` (a release replaces its whole table)."""
    latest = {}
    for release in decoded(stack.admin_credentials(), INDICATORS_TOPIC):
        latest[(release["indicator"], release["period"])] = release
    return {
        (row["indicator"], row["period"], row["level"], row["code"]): row
        for release in latest.values()
        for row in flat_rows(release)
    }


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(url: str) -> Samples:
    """Every sample of a Prometheus text page, by name and labels."""
    text = urllib.request.urlopen(url, timeout=10).read().decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of `name` over the samples whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


def wait_until(check: Any, timeout_s: float, what: str, every_s: float = 1.0) -> Any:
    """Call `check` until it returns something truthy; that value."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out after {timeout_s:.0f}s: {what}"
        time.sleep(every_s)


def by_drop(events: Sequence[dict[str, Any]], drop_id: str) -> list[dict[str, Any]]:
    return [e for e in events if e.get("drop_id") == drop_id]


# A release's `rules` under the default secret statistique, as on the wire.
DEFAULT_RULES = {
    "method": "suppression",
    "k": 11,
    "complement": True,
    "min_denominator": 50,
    "secondary_suppression": True,
}


def release_record(
    indicator: str,
    period: str,
    cells: Sequence[tuple[str, str, float | None]],
    release_id: str,
    replaces: str | None = None,
) -> dict[str, Any]:
    """An `indicator_release` record as the worker would write it: (level, code,
    value) per cell, None for a secret one; a count indicator (no denominator)."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)  # what timestamp-millis keeps
    return {
        "release_id": release_id,
        "indicator": indicator,
        "period": period,
        "levels": ["iris", "commune"],
        "replaces": replaces,
        "rules": dict(DEFAULT_RULES),
        "check": {
            "passed": True,
            "secret_primary": sum(1 for *_, v in cells if v is None),
            "secret_secondary": 0,
            "narrowest_interval": None,
        },
        "sources": [
            {
                "drop_id": f"drop-{release_id}",
                "partner": "caf33",
                "dataset": "caf.allocataires",
                "period": period,
                "convention": "caf33-obshub",
                "convention_version": 1,
            }
        ],
        "created_at": now,
        "published_at": now,
        "rows": [
            {
                "level": level,
                "code": code,
                "value": value,
                "numerator": value,
                "denominator": None,
                "status": "ok" if value is not None else "secret",
            }
            for level, code, value in cells
        ],
    }


def publish_releases(stack: Stack, records: Iterable[dict[str, Any]]) -> None:
    """`indicator_release` records on `hub.releases` and `indicators`, as the hub."""
    from contracts.principals import RELEASES_TOPIC

    schema = CATALOG.protocol("indicator_release")
    producer = KafkaProducer(**stack.credentials.get("hub").kafka_python_config(), acks="all")
    try:
        for record in records:
            key = f"{record['indicator']}|{record['period']}".encode()
            for topic in (RELEASES_TOPIC, INDICATORS_TOPIC):
                producer.send(topic, encode_message(schema, record), key=key)
        producer.flush(timeout=30)
    finally:
        producer.close()
