"""The audit trail on Kafka: writing a chain, reading it back.

`ChainWriter` is what the worker and the API record events with;
`read_trail` reads every message of the topic for `obshub audit verify`
(kafka-python, in the calling thread).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable, Callable
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts.principals import AUDIT_TOPIC, KafkaCredentials
from hub.audit import AuditChain, AuditEvent, Stored
from hub.errors import AuditTrailError

READ_TIMEOUT_S = 60.0


def _consumer(creds: KafkaCredentials) -> Any:
    from kafka import KafkaConsumer

    return KafkaConsumer(**creds.kafka_python_config(), enable_auto_commit=False)


def read_trail(creds: KafkaCredentials, topic: str = AUDIT_TOPIC) -> list[Stored]:
    """Every message of `topic` now, each partition in offset order."""
    from kafka import TopicPartition

    consumer = _consumer(creds)
    try:
        ids = consumer.partitions_for_topic(topic)
        if ids is None:
            raise AuditTrailError(f"no topic {topic} (or no right to read it)")
        parts = [TopicPartition(topic, p) for p in sorted(ids)]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        ends = consumer.end_offsets(parts)
        stored: list[Stored] = []
        deadline = time.monotonic() + READ_TIMEOUT_S
        while any(consumer.position(tp) < ends[tp] for tp in parts):
            if time.monotonic() > deadline:
                raise AuditTrailError(f"{topic} not read to its end in {READ_TIMEOUT_S:.0f} s")
            for tp, records in consumer.poll(timeout_ms=500, max_records=5000).items():
                stored += [Stored(tp.partition, r.offset, bytes(r.value)) for r in records]
        return stored
    finally:
        consumer.close()


class ChainWriter:
    """One writer's audit chain (the worker's, an API process's).

    `record` links an event and sends it; links and sends happen one at a
    time, under a lock, so the partition holds them in chain order. A send
    that fails leaves the chain as it was before the event. `sign` appends
    a signed head when events were written since the last one."""

    def __init__(self, chain: AuditChain, send: Callable[[bytes, bytes], Awaitable[None]]) -> None:
        self.chain = chain
        self._send = send
        self._lock = asyncio.Lock()

    async def record(self, event: AuditEvent) -> None:
        async with self._lock:
            saved = (self.chain.seq, self.chain.prev, self.chain.unsigned)
            value = self.chain.link(event)
            try:
                await self._send(event.object.encode(), value)
            except BaseException:
                self.chain.seq, self.chain.prev, self.chain.unsigned = saved
                raise

    async def sign(self, key: Ed25519PrivateKey, at: dt.datetime) -> bool:
        """Sign the head if anything was written since the last signature."""
        async with self._lock:
            if self.chain.unsigned == 0:
                return False
            saved = (self.chain.seq, self.chain.prev, self.chain.unsigned)
            value = self.chain.sign_head(key, at)
            try:
                await self._send(f"partition:{self.chain.partition}".encode(), value)
            except BaseException:
                self.chain.seq, self.chain.prev, self.chain.unsigned = saved
                raise
            return True
