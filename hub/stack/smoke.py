"""A short authenticated round trip through the broker, as a live check."""

from __future__ import annotations

import secrets
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from contracts.principals import HUB_APP_ID, HUB_PRINCIPAL, drops_topic
from hub.errors import StackError
from hub.stack.runner import Stack


class RoundTripError(StackError):
    def __init__(self, topic: str, detail: str) -> None:
        super().__init__(f"round trip on {topic} failed: {detail}")


def round_trip(stack: Stack, partner: str = "caf33", timeout_s: float = 30.0) -> str:
    """`partner` writes a probe to its drops topic; the hub reads it back.

    Both sides authenticate with their own SCRAM credentials and are held to
    their ACLs, so this proves users, ACLs and topics as well as the broker.
    """
    topic = drops_topic(partner)
    token = secrets.token_hex(8).encode()
    writer = stack.credentials.get(partner)
    reader = stack.credentials.get(HUB_PRINCIPAL)
    started = time.monotonic()
    producer = KafkaProducer(**writer.kafka_python_config(), acks="all")
    try:
        meta = producer.send(topic, key=b"probe", value=b"obshub-probe:" + token).get(timeout_s)
    finally:
        producer.close()
    consumer = KafkaConsumer(
        **reader.kafka_python_config(),
        group_id=f"{HUB_APP_ID}-probe",
        enable_auto_commit=False,
    )
    try:
        tp = TopicPartition(topic, meta.partition)
        consumer.assign([tp])
        consumer.seek(tp, meta.offset)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                for record in records:
                    if record.value.endswith(token):
                        elapsed = time.monotonic() - started
                        return (
                            f"round trip ok: {partner} wrote {topic}[{meta.partition}]"
                            f"@{meta.offset}, {HUB_PRINCIPAL} read it back "
                            f"in {elapsed * 1000:.0f} ms"
                        )
    finally:
        consumer.close()
    raise RoundTripError(topic, f"probe not read back within {timeout_s:.0f}s")
