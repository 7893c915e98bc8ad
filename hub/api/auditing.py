"""Access decisions on `hub.audit`, on the API's own audit chain.

The gate builds each decision's event with `hub.audit.access_event` (the
consumer, the indicator, the decision, its reason code and time; never the
token, never a figure). A sink records it: `KafkaAuditSink` links it into
the API process's own chain (on partition `API_PARTITION` of `hub.audit`;
see `hub.audit`),
sends it with the hub principal and waits for the broker's
acknowledgement, so a request is only answered once its decision is on
record, and signs the chain's head every `OBSHUB_AUDIT_SIGN_S` seconds
with the hub operator's key; `MemoryAuditSink` keeps events in a list, for
tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts.principals import AUDIT_TOPIC, KafkaCredentials
from hub.api.errors import AuditUnavailableError
from hub.audit import API_PARTITION, AuditChain, AuditEvent
from hub.audit_log import ChainWriter
from schemas.catalog import load_catalog

log = logging.getLogger(__name__)

AUDIT_SCHEMA = "audit_event"
CHANNEL = "api"
MAX_INDICATOR_LENGTH = 100  # a requested id is caller input: keep it bounded


class AuditSink(Protocol):
    async def record(self, event: AuditEvent) -> None:
        """Put one event on record, or raise `AuditUnavailableError`."""
        ...


class MemoryAuditSink:
    """Events in a list (tests); `fail` makes `record` raise."""

    def __init__(self) -> None:
        self.events: list[AuditEvent] = []
        self.fail = False

    async def record(self, event: AuditEvent) -> None:
        if self.fail:
            raise AuditUnavailableError("memory sink set to fail")
        self.events.append(event)


class KafkaAuditSink:
    """Events on the API's chain of `hub.audit`, acknowledged, its head signed."""

    def __init__(
        self,
        credentials: KafkaCredentials,
        operator_key: Ed25519PrivateKey,
        *,
        topic: str = AUDIT_TOPIC,
        timeout_s: float = 10.0,
        sign_every_s: float = 30.0,
    ) -> None:
        self.credentials = credentials
        self.topic = topic
        self.timeout_s = timeout_s
        self.sign_every_s = sign_every_s
        self._operator_key = operator_key
        chain = AuditChain(API_PARTITION, "hub-api", load_catalog().protocol(AUDIT_SCHEMA))
        self.trail = ChainWriter(chain, self._send)
        self._producer: Any = None
        self._starting = asyncio.Lock()
        self._signer: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Connect now if the broker answers (otherwise at the first event); sign
        the chain's head at intervals."""
        try:
            await self._ensure_started()
        except AuditUnavailableError as exc:
            log.warning("audit producer not started yet: %s", exc)
        self._signer = asyncio.create_task(self._sign_periodically(), name="obshub-api-audit-sign")

    async def stop(self) -> None:
        if self._signer is not None:
            self._signer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._signer
            self._signer = None
        if self._producer is not None:
            with contextlib.suppress(AuditUnavailableError):
                await self.trail.sign(self._operator_key, datetime.now(UTC))
            await self._producer.stop()
            self._producer = None

    async def record(self, event: AuditEvent) -> None:
        await self.trail.record(event)

    async def _sign_periodically(self) -> None:
        while True:
            await asyncio.sleep(self.sign_every_s)
            try:
                await self.trail.sign(self._operator_key, datetime.now(UTC))
            except AuditUnavailableError as exc:
                log.warning("audit chain head not signed: %s", exc)

    async def _send(self, key: bytes, value: bytes) -> None:
        producer = await self._ensure_started()
        try:
            await asyncio.wait_for(
                producer.send_and_wait(self.topic, value, key=key, partition=API_PARTITION),
                self.timeout_s,
            )
        except (KafkaError, TimeoutError) as exc:
            raise AuditUnavailableError(f"{type(exc).__name__}: {exc}") from exc

    async def _ensure_started(self) -> Any:
        async with self._starting:
            if self._producer is None:
                producer = AIOKafkaProducer(**self.credentials.kafka_python_config(), acks="all")
                try:
                    await asyncio.wait_for(producer.start(), self.timeout_s)
                except (KafkaError, TimeoutError) as exc:
                    await producer.stop()
                    raise AuditUnavailableError(f"cannot reach the broker: {exc}") from exc
                self._producer = producer
            return self._producer
