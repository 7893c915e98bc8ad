"""The transport's ceiling: a drop's bytes through Kafka, no processing.

The same messages as one obshub drop (header, sealed chunks, trailer: the
same bytes, so the same sizes) are produced with kafka-python (acks=all,
idempotent, as the connector's sink) and consumed with aiokafka (the
client faust uses) in another process, started and positioned first.
Seconds run from the first send to the consumer holding the last message.

Run as `python -m bench.transport TOPIC COUNT`, this module is that
consumer: it reads the admin's client settings from the environment
(BENCH_BOOTSTRAP, BENCH_USERNAME, BENCH_PASSWORD), prints `ready` once
positioned, then one JSON line when it has read COUNT messages.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Sequence

from bench.errors import RunFailedError
from bench.peak import own_peak_rss_mb
from bench.results import Run
from contracts.principals import KafkaCredentials

MAX_REQUEST_BYTES = 1_000_000  # as connectors.kafka_sink


def create_topic(admin: KafkaCredentials, prefix: str, partitions: int = 1) -> str:
    from kafka.admin import NewTopic

    from hub.stack.provision import admin_client

    name = f"{prefix}{secrets.token_hex(4)}"
    client = admin_client(admin)
    try:
        client.create_topics([NewTopic(name, partitions, 1)])
    finally:
        client.close()
    return name


def consumer_environment(admin: KafkaCredentials) -> dict[str, str]:
    return dict(
        os.environ,
        BENCH_BOOTSTRAP=admin.bootstrap_servers,
        BENCH_USERNAME=admin.username,
        BENCH_PASSWORD=admin.password,
    )


def transport_run(admin: KafkaCredentials, messages: Sequence[bytes], key: bytes, rows: int) -> Run:
    """`messages` produced with kafka-python, consumed with aiokafka in a child process."""
    from kafka import KafkaProducer

    topic = create_topic(admin, "bench-transport-")
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.transport", topic, str(len(messages))],
        env=consumer_environment(admin),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        if child.stdout.readline().strip() != "ready":
            raise RunFailedError("kafka_transport", "the aiokafka consumer did not start")
        producer = KafkaProducer(
            **admin.kafka_python_config(),
            acks="all",
            enable_idempotence=True,
            linger_ms=10,
            max_request_size=MAX_REQUEST_BYTES,
        )
        started_wall = time.time()
        started = time.monotonic()
        for value in messages:
            producer.send(topic, key=key, value=value)
        producer.flush()
        produced_s = time.monotonic() - started
        producer.close()
        line = child.stdout.readline()
        if not line:
            raise RunFailedError("kafka_transport", "the aiokafka consumer ended early")
        done = json.loads(line)
        child.wait(30)
    finally:
        if child.returncode is None:
            child.kill()
            child.wait()
    seconds = done["done_at"] - started_wall
    return Run(
        "kafka_transport",
        rows,
        seconds,
        None,
        {
            "messages": len(messages),
            "bytes": sum(len(m) for m in messages),
            "produce_and_flush_s": round(produced_s, 3),
            "seconds_from": "first send (kafka-python, acks=all) -> last message read (aiokafka)",
            "consumer_peak_rss_mb": done.get("peak_rss_mb"),
        },
    )


async def _consume(topic: str, count: int) -> dict[str, float]:
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(
        bootstrap_servers=os.environ["BENCH_BOOTSTRAP"],
        security_protocol="SASL_PLAINTEXT",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_plain_username=os.environ["BENCH_USERNAME"],
        sasl_plain_password=os.environ["BENCH_PASSWORD"],
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    partition = TopicPartition(topic, 0)
    consumer.assign([partition])
    await consumer.start()
    try:
        await consumer.seek_to_beginning(partition)
        await consumer.position(partition)
        print("ready", flush=True)
        seen = size = 0
        while seen < count:
            batches = await consumer.getmany(timeout_ms=200)
            for records in batches.values():
                seen += len(records)
                size += sum(len(r.value or b"") for r in records)
        return {"done_at": time.time(), "messages": seen, "bytes": size}
    finally:
        await consumer.stop()


def main() -> None:
    topic, count = sys.argv[1], int(sys.argv[2])
    done: dict[str, float | None] = dict(asyncio.run(_consume(topic, count)))
    done["peak_rss_mb"] = own_peak_rss_mb()
    print(json.dumps(done), flush=True)


if __name__ == "__main__":
    main()
