"""From the pure core's outcomes to messages on the hub's topics and to metrics.

`Emitter` sends quarantine events, drop aggregates, the receipt every drop
is owed (signed with the hub operator's key, on `receipts.<partner>`), what
a release step returned (each release whole on `hub.releases`, `indicators`
and the consumers' topics), and every audit event on the worker's chain of
`hub.audit` (`hub.audit_log.ChainWriter`, signed every
`OBSHUB_AUDIT_SIGN_S`); `StaleWatch` keeps, per indicator, whether its
newest period is held and why (metric `obshub_indicator_stale`, audit
events on each change).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import replace
from typing import Any

import faust
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts.periods import period_start
from contracts.principals import (
    AGGREGATES_TOPIC,
    AUDIT_TOPIC,
    INDICATORS_TOPIC,
    QUARANTINE_TOPIC,
    RELEASES_TOPIC,
    consumer_topic,
    receipts_topic,
)
from hub.audit import WORKER_PARTITION, Action, AuditChain, AuditEvent, indicator_event
from hub.audit_log import ChainWriter
from hub.context import HubContext
from hub.ingest import DropMessage, Outcome, Quarantine, Receipt
from hub.metrics import HubMetrics
from hub.release_step import ReleaseStep
from hub.releases import Held, aggregate_to_json, store_key
from schemas.codec import encode_message
from schemas.receipts import sign_receipt


def _event_id() -> str:
    return secrets.token_hex(12)


class Emitter:
    """Turns outcomes into messages on the hub's topics and into metrics."""

    def __init__(
        self,
        app: faust.App,
        ctx: HubContext,
        metrics: HubMetrics,
        operator: str,
        operator_key: Ed25519PrivateKey,
    ) -> None:
        raw = {"key_serializer": "raw", "value_serializer": "raw"}
        self.quarantine_topic = app.topic(QUARANTINE_TOPIC, **raw)
        self.audit_topic = app.topic(AUDIT_TOPIC, **raw)
        self.aggregates_topic = app.topic(AGGREGATES_TOPIC, **raw)
        self.indicators_topic = app.topic(INDICATORS_TOPIC, **raw)
        self.releases_topic = app.topic(RELEASES_TOPIC, **raw)
        self.ctx, self.metrics = ctx, metrics
        self._app = app
        self._topics: dict[str, Any] = {}
        self.operator, self._operator_key = operator, operator_key
        catalog = ctx.catalog
        self.schemas = {
            name: catalog.protocol(name)
            for name in (
                "quarantine_event",
                "audit_event",
                "drop_aggregate",
                "indicator_release",
                "receipt",
            )
        }

        async def send(key: bytes, value: bytes) -> None:
            await self.audit_topic.send(key=key, value=value, partition=WORKER_PARTITION)

        chain = AuditChain(WORKER_PARTITION, "hub", self.schemas["audit_event"])
        self.trail = ChainWriter(chain, send)

    async def sign_audit_head(self, now: dt.datetime) -> bool:
        """Sign the worker's audit chain head if events were written since the last."""
        return await self.trail.sign(self._operator_key, now)

    def _topic(self, name: str) -> Any:
        if name not in self._topics:
            self._topics[name] = self._app.topic(name, key_serializer="raw", value_serializer="raw")
        return self._topics[name]

    def consumer_topic(self, consumer: str) -> Any:
        """`indicators.<consumer>`: one consumer's consented releases."""
        return self._topic(consumer_topic(consumer))

    async def receipt(self, receipt: Receipt, now: dt.datetime) -> None:
        """The signed answer to a drop, on its partner's receipts topic."""
        record = {
            "drop_id": receipt.drop_id,
            "partner": receipt.partner,
            "convention_id": receipt.convention_id,
            "convention_version": receipt.convention_version,
            "dataset": receipt.dataset,
            "period": receipt.period,
            "outcome": "accepted" if receipt.accepted else "rejected",
            "repeat": receipt.repeat,
            "reason": receipt.reason,
            "detail": receipt.detail[:500],
            "records_aggregated": receipt.records_aggregated,
            "records_rejected": dict(receipt.records_rejected),
            "at": now,
            "signer": self.operator,
            "signature": b"",
        }
        schema = self.schemas["receipt"]
        value = encode_message(schema, sign_receipt(record, self._operator_key, schema))
        await self._topic(receipts_topic(receipt.partner)).send(
            key=receipt.drop_id.encode(), value=value
        )
        outcome = "accepted" if receipt.accepted else "rejected"
        self.metrics.receipts.labels(receipt.partner, outcome).inc()

    async def quarantine(
        self, q: Quarantine, message: DropMessage | None, now: dt.datetime
    ) -> None:
        record = {
            "event_id": _event_id(),
            "at": now,
            "topic": message.topic if message else "",
            "partition": message.partition if message else -1,
            "offset": message.offset if message else -1,
            "partner": q.partner,
            "drop_id": q.drop_id,
            "reason": q.reason,
            "detail": q.detail[:500],
        }
        value = encode_message(self.schemas["quarantine_event"], record)
        await self.quarantine_topic.send(key=(q.drop_id or "").encode(), value=value)
        self.metrics.quarantined.labels(q.partner or "", q.reason).inc()

    async def audit(self, event: AuditEvent) -> None:
        """One event on the worker's audit chain."""
        await self.trail.record(event)

    async def outcome(
        self, outcome: Outcome, message: DropMessage | None, now: dt.datetime
    ) -> None:
        labels = outcome.labels
        partner, convention, dataset = labels["partner"], labels["convention"], labels["dataset"]
        if message is not None:
            self.metrics.drop_messages.labels(partner, convention, dataset, outcome.kind).inc()
        for q in outcome.quarantine:
            await self.quarantine(q, message, now)
        for a in outcome.audit:
            await self.audit(a)
            if a.action is Action.DROP and a.outcome == "rejected":
                self.metrics.drops.labels(partner, convention, dataset, "rejected").inc()
                self.metrics.drop_rejections.labels(partner, convention, a.reason or "").inc()
        if outcome.records_aggregated:
            self.metrics.records.labels(partner, convention, dataset, "aggregated").inc(
                outcome.records_aggregated
            )
        for reason, count in outcome.records_rejected.items():
            self.metrics.records.labels(partner, convention, dataset, "rejected").inc(count)
            self.metrics.record_rejections.labels(partner, dataset, reason).inc(count)
        if outcome.receipt is not None and outcome.receipt.partner:
            await self.receipt(outcome.receipt, now)
        if outcome.aggregate is not None:
            aggregate = outcome.aggregate
            record = aggregate_to_json(aggregate, now.timestamp())
            record["accepted_at"] = now
            value = encode_message(self.schemas["drop_aggregate"], record)
            await self.aggregates_topic.send(key=store_key(aggregate).encode(), value=value)
            self.metrics.drops.labels(partner, convention, dataset, "accepted").inc()
            self.metrics.convention_last_drop.labels(convention, dataset).set(now.timestamp())

    async def release_step(self, step: ReleaseStep, now: dt.datetime) -> None:
        """Send what a release step returned: each release, whole, to the register,
        the compacted view and the consumers it is delivered to; then its audit."""
        metrics = self.metrics
        schema = self.schemas["indicator_release"]
        encoded: dict[str, bytes] = {}
        for release in step.releases:
            value = encode_message(schema, replace(release, published_at=now).to_record())
            encoded[release.release_id] = value
            key = release.key.encode()
            await self.releases_topic.send(key=key, value=value)
            await self.indicators_topic.send(key=key, value=value)
        for delivery in step.deliveries:
            await self.consumer_topic(delivery.consumer).send(
                key=delivery.release.key.encode(), value=encoded[delivery.release.release_id]
            )
        for event in step.audit:
            await self.audit(event)
            if event.action is Action.ACCESS:
                verdict = event.outcome
                metrics.access_requests.labels(event.consumer, event.indicator, verdict).inc()
        for (indicator, outcome), count in step.outcomes.items():
            if outcome != "unchanged":
                metrics.releases.labels(indicator, outcome).inc(count)
        for (indicator, status), count in step.cells.items():
            metrics.cells.labels(indicator, status).inc(count)


class StaleWatch:
    """Per indicator: is its newest period held, and why? (metric and audit on change)"""

    def __init__(self, emitter: Emitter) -> None:
        self.emitter = emitter
        self.stale: dict[str, Held] = {}

    async def update(self, step: ReleaseStep, now: dt.datetime) -> None:
        newest: dict[str, tuple[tuple[int, int], Held | None]] = {}
        for state in step.periods:
            _keep_newest(newest, state.indicator, state.period, state.held)
        for indicator, (_, held) in sorted(newest.items()):
            await self._set(indicator, held, now)

    async def _set(self, indicator: str, held: Held | None, now: dt.datetime) -> None:
        gauge = self.emitter.metrics.indicator_stale
        before = self.stale.get(indicator)
        if held is None:
            if before is None:
                return
            gauge.remove(indicator, before.reason)
            del self.stale[indicator]
            outcome, reason = "fresh", f"period {before.period} released"
        else:
            if before is not None and (before.reason, before.period) == (held.reason, held.period):
                return
            if before is not None:
                gauge.remove(indicator, before.reason)
            gauge.labels(indicator, held.reason).set(1)
            self.stale[indicator] = held
            outcome = "stale"
            reason = f"{held.reason}: period {held.period}: {held.message}"
        await self.emitter.audit(indicator_event(indicator, outcome, now, reason))


def _keep_newest(
    newest: dict[str, tuple[tuple[int, int], Held | None]],
    indicator: str,
    period: str,
    held: Held | None,
) -> None:
    start = period_start(period)
    if indicator not in newest or start >= newest[indicator][0]:
        newest[indicator] = (start, held)
