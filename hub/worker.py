"""The hub worker: faust-streaming agents around the pure core.

`create_app(settings, ctx, metrics)` builds the faust app (no module-level
app). Agents:

- `ingest` reads every `drops.<partner>` topic; per message it calls
  `hub.ingest.ingest_message` with the drop's state from the `drop-states`
  table (keyed by drop id, as the messages are, so table and topics are
  co-partitioned), stores the new state, and sends what the outcome says:
  quarantine and audit events, the aggregate of an accepted drop.
- `expire` handles the ticks a timer sends for stale open drops (a table is
  only written from a stream, so the timer goes through an internal topic
  keyed like the drops).
- `release` reads `hub.aggregates`, keeps the latest accepted aggregate per
  dataset, period and convention in the `aggregates` table, recomputes the
  indicators the new drop affects and publishes every release that passes
  its audit to `indicators`.

Delivery is at-least-once; idempotence lives in the states (see
`hub.ingest`). Agents run with concurrency 1; per-message work is bounded by
the chunk size. A domain error is quarantined by the core; anything else
propagates and stops the worker (faust crashes the app on an agent error).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import secrets
from typing import Any

import faust
from kafka.errors import KafkaError
from prometheus_client import start_http_server

from contracts.principals import (
    AGGREGATES_TOPIC,
    AUDIT_TOPIC,
    HUB_APP_ID,
    INDICATORS_TOPIC,
    QUARANTINE_TOPIC,
    consumer_topic,
    drops_topic,
    load_credentials,
)
from contracts.status import assess
from hub.context import HubContext
from hub.fanout import fanout_decisions
from hub.ingest import Audit, DropMessage, Outcome, Quarantine, expire_if_stale, ingest_message
from hub.metrics import HubMetrics
from hub.releases import (
    aggregate_to_json,
    by_dataset,
    indicator_rows,
    releases_for,
    store_key,
)
from hub.settings import HubSettings
from hub.stack.lag import group_lag
from hub.tables import CellStatus
from schemas.codec import decode_message, encode_message

log = logging.getLogger(__name__)
EXPIRY_TOPIC = f"{HUB_APP_ID}-expiry"
DROP_PARTITIONS = 3


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _event_id() -> str:
    return secrets.token_hex(12)


class Emitter:
    """Turns outcomes into messages on the hub's topics and into metrics."""

    def __init__(self, app: faust.App, ctx: HubContext, metrics: HubMetrics) -> None:
        raw = {"key_serializer": "raw", "value_serializer": "raw"}
        self.quarantine_topic = app.topic(QUARANTINE_TOPIC, **raw)
        self.audit_topic = app.topic(AUDIT_TOPIC, **raw)
        self.aggregates_topic = app.topic(AGGREGATES_TOPIC, **raw)
        self.indicators_topic = app.topic(INDICATORS_TOPIC, **raw)
        self.ctx, self.metrics = ctx, metrics
        self._app = app
        self._consumer_topics: dict[str, Any] = {}
        catalog = ctx.catalog
        self.schemas = {
            name: catalog.protocol(name)
            for name in ("quarantine_event", "audit_event", "drop_aggregate", "indicator_row")
        }

    def consumer_topic(self, consumer: str) -> Any:
        """`indicators.<consumer>`: one consumer's consented rows."""
        if consumer not in self._consumer_topics:
            self._consumer_topics[consumer] = self._app.topic(
                consumer_topic(consumer), key_serializer="raw", value_serializer="raw"
            )
        return self._consumer_topics[consumer]

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
        if outcome.aggregate is not None:
            aggregate = outcome.aggregate
            record = aggregate_to_json(aggregate, now.timestamp())
            record["accepted_at"] = now
            value = encode_message(self.schemas["drop_aggregate"], record)
            await self.aggregates_topic.send(key=store_key(aggregate).encode(), value=value)
            self.metrics.drops.labels(partner, convention, dataset, "accepted").inc()
            self.metrics.convention_last_drop.labels(convention, dataset).set(now.timestamp())


def create_app(settings: HubSettings, ctx: HubContext, metrics: HubMetrics) -> faust.App:
    creds = load_credentials(settings.hub_credentials_path)
    app = faust.App(
        HUB_APP_ID,
        broker=f"kafka://{creds.bootstrap_servers}",
        broker_credentials=faust.SASLCredentials(
            username=creds.username, password=creds.password, mechanism=creds.mechanism
        ),
        store="memory://",
        datadir=str(settings.state_dir / "worker"),
        web_enabled=False,
        topic_replication_factor=1,
        topic_partitions=DROP_PARTITIONS,
        consumer_auto_offset_reset="earliest",
        broker_commit_every=50,
        broker_commit_interval=1.0,
        producer_max_request_size=4_000_000,
        stream_wait_empty=False,
        # aiokafka fetches a partition again only once its records are consumed,
        # and meanwhile a fetch for the idle partitions waits faust's fixed 1.5 s
        # (fetch_max_wait_ms): at 1 MB (two sealed chunks) per partition and
        # fetch, a large drop stalled up to 1.5 s every few chunks. 32 MB (about
        # 80 chunks, over a second of work) hides the wait (bench/README.md).
        consumer_max_fetch_size=32 * 1024**2,
    )
    raw = {"key_serializer": "raw", "value_serializer": "raw"}
    partners = sorted({c.producer for c in ctx.conventions.all()} | set(settings.partners))
    drops = app.topic(*[drops_topic(p) for p in partners], **raw)
    expiry = app.topic(EXPIRY_TOPIC, partitions=DROP_PARTITIONS, internal=True, **raw)
    aggregates_in = app.topic(AGGREGATES_TOPIC, **raw)
    # JSON keys and values: the states are plain dicts (hub.ingest)
    states = app.Table("drop-states", partitions=DROP_PARTITIONS, key_type=str)
    store = app.Table("aggregates", partitions=1, key_type=str)
    emit = Emitter(app, ctx, metrics)

    @app.agent(drops, concurrency=1)
    async def ingest(stream: Any) -> None:
        async for event in stream.events():
            message = event.message
            drop = DropMessage(
                message.topic, message.partition, message.offset, event.key, event.value
            )
            key = drop.key.decode("utf-8", "replace") if drop.key else None
            state = states.get(key) if key else None
            now = utcnow()
            outcome = ingest_message(ctx, drop, state, now)
            if outcome.state is not None and key:
                states[key] = outcome.state
            await emit.outcome(outcome, drop, now)

    @app.agent(expiry, concurrency=1)
    async def expire(stream: Any) -> None:
        async for event in stream.events():
            key = event.key.decode()
            state = states.get(key)
            if state is None:
                continue
            now = utcnow()
            outcome = expire_if_stale(state, now, settings.drop_timeout_s)
            if outcome is not None and outcome.state is not None:
                states[key] = outcome.state
                await emit.outcome(outcome, None, now)

    @app.timer(interval=max(1.0, min(30.0, settings.drop_timeout_s / 4)))
    async def find_stale_drops() -> None:
        now = utcnow().timestamp()
        for key, state in list(states.items()):
            if (
                state.get("status") == "open"
                and now - state["last_seen"] >= settings.drop_timeout_s
            ):
                await expiry.send(key=key.encode(), value=b"tick")

    @app.agent(aggregates_in, concurrency=1)
    async def release(stream: Any) -> None:
        async for event in stream.events():
            _, record = decode_message(ctx.catalog, event.value)
            accepted_at = record["accepted_at"]
            entry = dict(record, accepted_at=accepted_at.timestamp())
            store[event.key.decode()] = entry
            aggregates = by_dataset(store.values())
            # Suppression and its LP audits take CPU: off the event loop, so the
            # consumer's heartbeats go on (a blocked loop means a rebalance).
            planned = await asyncio.get_running_loop().run_in_executor(
                None,
                releases_for,
                record["dataset"],
                ctx.indicators,
                aggregates,
                ctx.territory,
                ctx.conventions,
                record["period"],
            )
            now = utcnow()
            for plan in planned:
                indicator = plan.indicator.id
                if not plan.release.passed:
                    metrics.releases.labels(indicator, "failed_audit").inc()
                    await emit.audit(
                        {
                            "kind": "release_failed_audit",
                            "actor": "hub",
                            "indicator": indicator,
                            "reason": f"period {plan.release.period}",
                        },
                        now,
                    )
                    continue
                decisions = fanout_decisions(
                    indicator, now, ctx.conventions.all(), ctx.indicators, ctx.trust
                )
                granted = [c for c, d in decisions.items() if d.granted]
                for key, row in indicator_rows(plan, now):
                    value = encode_message(emit.schemas["indicator_row"], row)
                    await emit.indicators_topic.send(key=key, value=value)
                    for consumer in granted:
                        await emit.consumer_topic(consumer).send(key=key, value=value)
                for consumer, decision in decisions.items():
                    await emit.audit(
                        {
                            "kind": "access_granted" if decision.granted else "access_denied",
                            "actor": "hub",
                            "consumer": consumer,
                            "indicator": indicator,
                            "channel": "kafka",
                            "decision": "granted" if decision.granted else "denied",
                            "reason": decision.reason.value,
                        },
                        now,
                    )
                    metrics.access_requests.labels(
                        consumer, indicator, "granted" if decision.granted else "denied"
                    ).inc()
                for cell in plan.release.cells:
                    status = {CellStatus.OK: "published"}.get(cell.status, cell.status.value)
                    metrics.cells.labels(indicator, status).inc()
                metrics.releases.labels(indicator, "published").inc()
            metrics.drop_to_indicator.labels(record["dataset"]).observe(
                (utcnow() - accepted_at).total_seconds()
            )

    @app.timer(interval=10.0)
    async def watch_conventions() -> None:
        if ctx.conventions.reload_if_changed():
            log.info("conventions reloaded count=%d", len(ctx.conventions.all()))
        publish_convention_gauges(ctx, metrics)
        # the last accepted drops survive a restart in the aggregates table
        for entry in list(store.values()):
            metrics.convention_last_drop.labels(entry["convention_id"], entry["dataset"]).set(
                max(entry["accepted_at"], 0.0)
            )

    async def measure_lag() -> None:
        loop = asyncio.get_running_loop()
        try:
            lag = await loop.run_in_executor(None, group_lag, creds, HUB_APP_ID, "drops.")
        except (KafkaError, OSError) as exc:  # a metric, never a reason to stop the worker
            log.warning("consumer lag not measured reason=%s", exc)
            return
        metrics.publish_consumer_lag(lag)

    @app.timer(interval=15.0)
    async def watch_lag() -> None:
        await measure_lag()

    @app.task
    async def serve_metrics() -> None:
        metrics.worker_up.set(1)
        start_http_server(
            settings.metrics_port, addr=settings.metrics_host, registry=metrics.registry
        )
        publish_convention_gauges(ctx, metrics)
        log.info("metrics port=%d", settings.metrics_port)
        await measure_lag()

    return app


def publish_convention_gauges(ctx: HubContext, metrics: HubMetrics) -> None:
    """Validity, status and cadence per convention; which conventions feed each indicator."""
    now = utcnow()
    conventions = ctx.conventions.all()
    for convention in conventions:
        metrics.publish_convention(
            convention.id,
            valid_from=convention.validity.starts_at.timestamp(),
            valid_until=convention.validity.ends_at.timestamp(),
            applicable=not assess(convention, ctx.trust, now),
            cadences={d: t.cadence.value for d, t in convention.datasets.items()},
        )
    for indicator in ctx.indicators.each():
        metrics.publish_indicator_sources(
            indicator.id,
            [(c.id, d) for d in indicator.datasets for c in conventions if d in c.datasets],
        )


def run_worker(settings: HubSettings) -> None:
    """`obshub worker`: the worker in the foreground until SIGTERM/SIGINT."""
    from hub.context import load_context

    ctx = load_context(settings)
    metrics = HubMetrics()
    app = create_app(settings, ctx, metrics)
    level = os.environ.get("OBSHUB_LOG_LEVEL", "WARNING").upper()
    worker = faust.Worker(app, loglevel=level, quiet=True)
    worker.execute_from_commandline()
