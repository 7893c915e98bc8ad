"""From the pure core's outcomes to messages on the hub's topics and to metrics.

`Emitter` sends quarantine and audit events, drop aggregates, the receipt
every drop is owed (signed with the hub operator's key, on
`receipts.<partner>`), and the releases of a `ReleasePlan` with their
fan-out to consumers' topics; `StaleWatch` keeps, per indicator, whether
its newest period is held and why (metric `obshub_indicator_stale`, audit
events on each change).
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

import faust
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts.lifecycle import Survey
from contracts.periods import period_start
from contracts.principals import (
    AGGREGATES_TOPIC,
    AUDIT_TOPIC,
    INDICATORS_TOPIC,
    QUARANTINE_TOPIC,
    consumer_topic,
    receipts_topic,
)
from hub.context import HubContext
from hub.fanout import fanout_decisions
from hub.ingest import Audit, DropMessage, Outcome, Quarantine, Receipt
from hub.metrics import HubMetrics
from hub.releases import Held, ReleasePlan, aggregate_to_json, indicator_rows, store_key
from hub.tables import CellStatus
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
                "indicator_row",
                "receipt",
            )
        }

    def _topic(self, name: str) -> Any:
        if name not in self._topics:
            self._topics[name] = self._app.topic(name, key_serializer="raw", value_serializer="raw")
        return self._topics[name]

    def consumer_topic(self, consumer: str) -> Any:
        """`indicators.<consumer>`: one consumer's consented rows."""
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

    async def audit(self, a: Audit | dict[str, Any], now: dt.datetime) -> None:
        if isinstance(a, Audit):
            record: dict[str, Any] = {
                "kind": a.kind,
                "actor": a.actor,
                "drop_id": a.drop_id,
                "convention_id": a.convention_id,
                "dataset": a.dataset,
                "reason": a.reason,
            }
        else:
            record = dict(a)
        record.update(event_id=_event_id(), at=now)
        value = encode_message(self.schemas["audit_event"], record)
        await self.audit_topic.send(key=str(record.get("drop_id") or "").encode(), value=value)

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
            await self.audit(a, now)
            if a.kind == "drop_rejected":
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

    async def release_plan(self, plan: ReleasePlan, survey: Survey, now: dt.datetime) -> None:
        """Publish every release of `plan` that passed its audit, with its fan-out."""
        ctx, metrics = self.ctx, self.metrics
        for planned in plan.releases:
            indicator = planned.indicator.id
            if not planned.release.passed:
                metrics.releases.labels(indicator, "failed_audit").inc()
                await self.audit(
                    {
                        "kind": "release_failed_audit",
                        "actor": "hub",
                        "indicator": indicator,
                        "reason": f"period {planned.release.period}",
                    },
                    now,
                )
                continue
            decisions = fanout_decisions(indicator, survey, ctx.indicators)
            granted = [c for c, d in decisions.items() if d.granted]
            for key, row in indicator_rows(planned, now):
                value = encode_message(self.schemas["indicator_row"], row)
                await self.indicators_topic.send(key=key, value=value)
                for consumer in granted:
                    await self.consumer_topic(consumer).send(key=key, value=value)
            for consumer, decision in decisions.items():
                verdict = "granted" if decision.granted else "denied"
                await self.audit(
                    {
                        "kind": f"access_{verdict}",
                        "actor": "hub",
                        "consumer": consumer,
                        "indicator": indicator,
                        "channel": "kafka",
                        "decision": verdict,
                        "reason": decision.reason.value,
                    },
                    now,
                )
                metrics.access_requests.labels(consumer, indicator, verdict).inc()
            for cell in planned.release.cells:
                status = {CellStatus.OK: "published"}.get(cell.status, cell.status.value)
                metrics.cells.labels(indicator, status).inc()
            metrics.releases.labels(indicator, "published").inc()
        for held in plan.held:
            metrics.releases.labels(held.indicator, "held").inc()


class StaleWatch:
    """Per indicator: is its newest period held, and why? (metric and audit on change)"""

    def __init__(self, emitter: Emitter) -> None:
        self.emitter = emitter
        self.stale: dict[str, Held] = {}

    async def update(self, plan: ReleasePlan, now: dt.datetime) -> None:
        newest: dict[str, tuple[tuple[int, int], Held | None]] = {}
        for planned in plan.releases:
            held_audit = (
                None
                if planned.release.passed
                else _failed(planned.indicator.id, planned.release.period)
            )
            _keep_newest(newest, planned.indicator.id, planned.release.period, held_audit)
        for one in plan.held:
            _keep_newest(newest, one.indicator, one.period, one)
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
            kind, reason = "indicator_fresh", f"period {before.period} released"
        else:
            if before is not None and (before.reason, before.period) == (held.reason, held.period):
                return
            if before is not None:
                gauge.remove(indicator, before.reason)
            gauge.labels(indicator, held.reason).set(1)
            self.stale[indicator] = held
            kind, reason = "indicator_stale", f"{held.reason}: period {held.period}: {held.message}"
        event = {"kind": kind, "actor": "hub", "indicator": indicator, "reason": reason[:500]}
        await self.emitter.audit(event, now)


def _failed(indicator: str, period: str) -> Held:
    return Held(indicator, period, "failed_audit", "the release failed its disclosure audit")


def _keep_newest(
    newest: dict[str, tuple[tuple[int, int], Held | None]],
    indicator: str,
    period: str,
    held: Held | None,
) -> None:
    start = period_start(period)
    if indicator not in newest or start >= newest[indicator][0]:
        newest[indicator] = (start, held)
