"""The embedded broker, for real: SCRAM authentication, ACLs, three clients."""

from __future__ import annotations

import asyncio
import secrets
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.errors import (
    GroupAuthorizationFailedError,
    KafkaTimeoutError,
    TopicAuthorizationFailedError,
)

from contracts.principals import KafkaCredentials
from hub.stack import Stack

pytestmark = pytest.mark.integration


def test_scram_round_trip_with_kafka_python(
    kafka_stack: Stack, fresh_topic: Callable[[str], str]
) -> None:
    topic = fresh_topic("drops.rt-")  # readable by the hub, writable by admin
    admin = kafka_stack.admin_credentials()
    hub = kafka_stack.credentials.get("hub")
    payload = secrets.token_bytes(32)
    producer = KafkaProducer(**admin.kafka_python_config(), acks="all")
    meta = producer.send(topic, key=b"k", value=payload).get(timeout=30)
    producer.close()
    consumer = KafkaConsumer(
        topic,
        **hub.kafka_python_config(),
        group_id="obshub-hub-rt",
        auto_offset_reset="earliest",
        consumer_timeout_ms=15000,
    )
    values = [record.value for record in consumer]
    consumer.close()
    assert meta.offset == 0
    assert values == [payload]


def test_scram_round_trip_with_aiokafka(
    kafka_stack: Stack, fresh_topic: Callable[[str], str]
) -> None:
    topic = fresh_topic("drops.aio-")
    admin = kafka_stack.admin_credentials().kafka_python_config()
    hub = kafka_stack.credentials.get("hub").kafka_python_config()

    async def run() -> list[bytes]:
        producer = AIOKafkaProducer(**admin, acks="all")
        await producer.start()
        try:
            await producer.send_and_wait(topic, b"one", key=b"k")
            await producer.send_and_wait(topic, b"two", key=b"k")
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(
            topic, **hub, group_id="obshub-hub-aio", auto_offset_reset="earliest"
        )
        await consumer.start()
        try:
            got: list[bytes] = []
            while len(got) < 2:
                batch = await consumer.getmany(timeout_ms=10000)
                assert batch, "no message within 10 s"
                got += [m.value for msgs in batch.values() for m in msgs]
            return got
        finally:
            await consumer.stop()

    assert asyncio.run(run()) == [b"one", b"two"]


def test_wrong_password_is_refused(kafka_stack: Stack) -> None:
    good = kafka_stack.admin_credentials()
    bad = KafkaCredentials(good.bootstrap_servers, good.username, good.password + "x")
    log = kafka_stack.layout.log_file
    before = log.read_text(encoding="utf-8").count("Failed authentication")
    with pytest.raises(KafkaTimeoutError, match="Unable to bootstrap"):
        KafkaAdminClient(**bad.kafka_python_config(), bootstrap_timeout_ms=3000)
    deadline = time.monotonic() + 10
    while log.read_text(encoding="utf-8").count("Failed authentication") == before:
        assert time.monotonic() < deadline, "the broker logged no failed authentication"
        time.sleep(0.2)
    assert "invalid credentials with SASL mechanism SCRAM-SHA-512" in log.read_text()


def test_unknown_user_is_refused(kafka_stack: Stack) -> None:
    creds = KafkaCredentials(kafka_stack.settings.bootstrap_servers, "nobody", "pw")
    with pytest.raises(KafkaTimeoutError):
        KafkaAdminClient(**creds.kafka_python_config(), bootstrap_timeout_ms=3000)


def test_partner_writes_its_own_topic_and_nothing_else(kafka_stack: Stack) -> None:
    caf = kafka_stack.credentials.get("caf33").kafka_python_config()
    producer = KafkaProducer(**caf, acks="all", max_block_ms=10000)
    try:
        assert producer.send("drops.caf33", key=b"d", value=b"ok").get(timeout=30).offset >= 0
        with pytest.raises(TopicAuthorizationFailedError, match=r"drops\.francetravail33"):
            producer.send("drops.francetravail33", key=b"d", value=b"no").get(timeout=30)
    finally:
        producer.close()


def test_partner_cannot_read_anything(kafka_stack: Stack) -> None:
    caf = kafka_stack.credentials.get("caf33").kafka_python_config()
    for topic in ("drops.caf33", "indicators", "hub.audit"):
        consumer = KafkaConsumer(
            topic, **caf, group_id="caf33", auto_offset_reset="earliest", consumer_timeout_ms=5000
        )
        try:
            with pytest.raises((GroupAuthorizationFailedError, TopicAuthorizationFailedError)):
                list(consumer)
        finally:
            consumer.close()


def test_faust_app_authenticates_consumes_and_commits(
    kafka_stack: Stack, fresh_topic: Callable[[str], str], tmp_path: Path
) -> None:
    topic = fresh_topic("drops.faust-")
    app_id = f"obshub-hub-probe-{secrets.token_hex(3)}"
    admin = kafka_stack.admin_credentials()
    producer = KafkaProducer(**admin.kafka_python_config(), acks="all")
    for i in range(7):
        producer.send(topic, key=b"k", value=f"m{i}".encode())
    producer.flush()
    producer.close()
    hub = kafka_stack.credentials.get("hub")
    probe = Path(__file__).with_name("faust_probe.py")
    result = subprocess.run(
        [
            sys.executable,
            str(probe),
            hub.bootstrap_servers,
            hub.username,
            hub.password,
            topic,
            app_id,
            "7",
            str(tmp_path / "faust"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr  # faust routes print() to its log
    assert "consumed 7" in output, output[-4000:]
    assert result.returncode == 0, output[-4000:]
    client = KafkaAdminClient(**admin.kafka_python_config())
    try:
        offsets = client.list_group_offsets(app_id)[app_id]
    finally:
        client.close()
    committed = {tp.topic: meta.offset for tp, meta in offsets.items()}
    assert committed.get(topic) == 7
