"""Access decisions on `hub.audit`, as `audit_event` messages.

`access_event` builds the record (pure). A sink records it: `KafkaAuditSink`
sends it with the hub principal and waits for the broker's acknowledgement,
so a request is only answered once its decision is on record;
`MemoryAuditSink` keeps events in a list, for tests. The event names the
consumer, the indicator, the decision, its reason code and time; never the
token, never a figure.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from contracts.consent import Decision
from contracts.principals import AUDIT_TOPIC, KafkaCredentials
from hub.api.errors import AuditUnavailableError
from schemas.catalog import load_catalog
from schemas.codec import encode_message

log = logging.getLogger(__name__)

AUDIT_SCHEMA = "audit_event"
CHANNEL = "api"
MAX_INDICATOR_LENGTH = 100  # a requested id is caller input: keep it bounded


class AuditSink(Protocol):
    async def record(self, event: Mapping[str, Any]) -> None:
        """Put one `audit_event` record on record, or raise `AuditUnavailableError`."""
        ...


def access_event(
    consumer: str,
    indicator: str | None,
    decision: Decision | None,
    at: datetime,
    *,
    granted: bool | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """The `audit_event` record of one access decision.

    `decision` gives the outcome, reason code and contributing conventions;
    without one (a catalog request, conventions unreadable), `granted` and
    `reason` do.
    """
    if decision is not None:
        granted, reason = decision.granted, decision.reason.value
    ids = sorted({ref.split(" ")[0] for ref in decision.conventions}) if decision else []
    return {
        "event_id": uuid.uuid4().hex,
        "at": at,
        "kind": "access_granted" if granted else "access_denied",
        "actor": consumer,
        "convention_id": ",".join(ids) or None,
        "consumer": consumer,
        "indicator": indicator[:MAX_INDICATOR_LENGTH] if indicator is not None else None,
        "channel": CHANNEL,
        "decision": "granted" if granted else "denied",
        "reason": reason,
    }


class MemoryAuditSink:
    """Events in a list (tests); `fail` makes `record` raise."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.fail = False

    async def record(self, event: Mapping[str, Any]) -> None:
        if self.fail:
            raise AuditUnavailableError("memory sink set to fail")
        self.events.append(dict(event))


class KafkaAuditSink:
    """`audit_event` messages on `hub.audit`, keyed by consumer, acknowledged."""

    def __init__(
        self, credentials: KafkaCredentials, *, topic: str = AUDIT_TOPIC, timeout_s: float = 10.0
    ) -> None:
        self.credentials = credentials
        self.topic = topic
        self.timeout_s = timeout_s
        self.schema = load_catalog().protocol(AUDIT_SCHEMA)
        self._producer: Any = None
        self._starting = asyncio.Lock()

    async def start(self) -> None:
        """Connect now if the broker answers; otherwise at the first event."""
        try:
            await self._ensure_started()
        except AuditUnavailableError as exc:
            log.warning("audit producer not started yet: %s", exc.reason)

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def record(self, event: Mapping[str, Any]) -> None:
        value = encode_message(self.schema, event)
        producer = await self._ensure_started()
        key = str(event.get("consumer") or event["actor"]).encode("utf-8")
        try:
            await asyncio.wait_for(
                producer.send_and_wait(self.topic, value, key=key), self.timeout_s
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
