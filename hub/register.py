"""What the hub has published, read back from Kafka at the worker's start.

The compacted `indicators` topic holds, per `indicator|period`, the latest
release the hub published: `read_published` reads it to its end and gives
the id of each, so a restarted worker knows what a revision replaces and
does not send an unchanged release again. A message that is not an
`indicator_release` (a hub from before releases wrote per-cell rows) is
skipped: its periods are released again.
"""

from __future__ import annotations

import time

from contracts.principals import INDICATORS_TOPIC, KafkaCredentials
from hub.published import IndicatorRelease
from schemas.catalog import load_catalog
from schemas.codec import decode_message
from schemas.errors import SchemaError

READ_TIMEOUT_S = 120.0


def read_published(
    creds: KafkaCredentials, topic: str = INDICATORS_TOPIC
) -> dict[str, IndicatorRelease]:
    """`indicator|period` → the release published last for it."""
    from kafka import KafkaConsumer, TopicPartition

    catalog = load_catalog()
    consumer = KafkaConsumer(**creds.kafka_python_config(), enable_auto_commit=False)
    published: dict[str, IndicatorRelease] = {}
    try:
        ids = consumer.partitions_for_topic(topic) or set()
        parts = [TopicPartition(topic, p) for p in sorted(ids)]
        if not parts:
            return published
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        ends = consumer.end_offsets(parts)
        deadline = time.monotonic() + READ_TIMEOUT_S
        while any(consumer.position(tp) < ends[tp] for tp in parts):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{topic} not read to its end in {READ_TIMEOUT_S:.0f} s")
            for records in consumer.poll(timeout_ms=500, max_records=2000).values():
                for record in records:
                    if record.value is None:
                        continue
                    try:
                        schema, release = decode_message(catalog, record.value)
                    except SchemaError:
                        continue
                    if schema.name == "indicator_release":
                        one = IndicatorRelease.from_record(release)
                        published[one.key] = one
        return published
    finally:
        consumer.close()
