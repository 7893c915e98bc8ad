"""The hub worker: faust-streaming agents around the pure core.

`create_app(settings, ctx, metrics)` builds the faust app (no module-level
app). Agents:

- `ingest` reads every `drops.<partner>` topic; per message it calls
  `hub.ingest.ingest_message` with the drop's state from the `drop-states`
  table (keyed by drop id, as the messages are, so table and topics are
  co-partitioned), stores the new state, and sends what the outcome says:
  quarantine and audit events, the receipt owed to the partner, the
  aggregate of an accepted drop.
- `expire` handles the ticks a timer sends for stale open drops (a table is
  only written from a stream, so the timer goes through an internal topic
  keyed like the drops).
- `releases` reads `hub.aggregates`, keeps the latest accepted aggregate per
  dataset, period and convention in the `aggregates` table, and runs the
  pure release step (`hub.release_step`) for the new drop: every release
  that changed goes out whole, as one message, to `hub.releases` (the
  register), `indicators` (the compacted view) and the consumers' topics;
  the worker keeps the release published per indicator and period (read
  back from the compacted `indicators` topic at start, `hub.register`), so
  a revision names the release it replaces, is audited against it (held
  when unsafe or frozen), and an unchanged release is not sent again.

Every audit event goes on the worker's chain of `hub.audit`, whose head is
signed with the hub operator's key every `OBSHUB_AUDIT_SIGN_S` seconds
(`hub.audit`).

Conventions are applied live: every `OBSHUB_CONVENTIONS_POLL_S` seconds
(3 by default) the worker re-reads the conventions directory, the trust
store and the revocations when a file changed; when where a convention
stands changes, it follows the partners' topics (a new partner's topic is
read as soon as it exists, a removed one's no longer) and recomputes the
indicators that read the datasets of the conventions that changed, so a
renewal, a revocation or an expiry reaches the releases without a restart.

Delivery is at-least-once; idempotence lives in the states (see
`hub.ingest`). Agents run with concurrency 1; per-message work is bounded by
the chunk size. A domain error is quarantined by the core; anything else
propagates and stops the worker (faust crashes the app on an agent error).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

import faust
from kafka.errors import KafkaError
from prometheus_client import start_http_server

from contracts.lifecycle import Standing, Survey
from contracts.principals import (
    AGGREGATES_TOPIC,
    HUB_APP_ID,
    drops_topic,
    load_credentials,
)
from hub.audit import convention_event
from hub.context import HubContext
from hub.drop_state import DropState
from hub.emitter import Emitter, StaleWatch
from hub.ingest import DropMessage, expire_if_stale, ingest_message
from hub.kafka_admin import group_lag, topics_with_prefix
from hub.metrics import HubMetrics
from hub.published import IndicatorRelease
from hub.register import read_published
from hub.release_step import Change, release_step
from hub.releases import by_dataset
from hub.settings import HubSettings
from schemas.codec import decode_message

log = logging.getLogger(__name__)
EXPIRY_TOPIC = f"{HUB_APP_ID}-expiry"
DROP_PARTITIONS = 3


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


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
    follower = TopicFollower(app, creds, settings.partners)
    drops = app.topic(*follower.initial(ctx.conventions.survey(utcnow())), **raw)
    expiry = app.topic(EXPIRY_TOPIC, partitions=DROP_PARTITIONS, internal=True, **raw)
    aggregates_in = app.topic(AGGREGATES_TOPIC, **raw)
    # JSON keys and values: a drop's state is stored as `DropState.to_json()` and read back
    # with `DropState.from_json` (hub.drop_state), here and nowhere else
    states = app.Table("drop-states", partitions=DROP_PARTITIONS, key_type=str)
    store = app.Table("aggregates", partitions=1, key_type=str)
    published: dict[str, IndicatorRelease] = {}  # indicator|period -> release, read back
    published_known = asyncio.Event()
    emit = Emitter(app, ctx, metrics, settings.operator, ctx.operator_key)
    stale = StaleWatch(emit)
    standings: dict[str, tuple[str, frozenset[str]]] = {}  # convention id -> (standing, datasets)

    @app.agent(drops, concurrency=1)
    async def ingest(stream: Any) -> None:
        async for event in stream.events():
            message = event.message
            drop = DropMessage(
                message.topic, message.partition, message.offset, event.key, event.value
            )
            key = drop.key.decode("utf-8", "replace") if drop.key else None
            stored = states.get(key) if key else None
            state = DropState.from_json(stored) if stored is not None else None
            now = utcnow()
            outcome = ingest_message(ctx, drop, state, now)
            if outcome.state is not None and key:
                states[key] = outcome.state.to_json()
            await emit.outcome(outcome, drop, now)

    @app.agent(expiry, concurrency=1)
    async def expire(stream: Any) -> None:
        async for event in stream.events():
            key = event.key.decode()
            stored = states.get(key)
            if stored is None:
                continue
            now = utcnow()
            outcome = expire_if_stale(DropState.from_json(stored), now, settings.drop_timeout_s)
            if outcome is not None and outcome.state is not None:
                states[key] = outcome.state.to_json()
                await emit.outcome(outcome, None, now)

    @app.timer(interval=max(1.0, min(30.0, settings.drop_timeout_s / 4)))
    async def find_stale_drops() -> None:
        now = utcnow()
        for key, stored in list(states.items()):
            if DropState.from_json(stored).is_stale(now, settings.drop_timeout_s):
                await expiry.send(key=key.encode(), value=b"tick")

    @app.task
    async def read_back_published() -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                published.update(await loop.run_in_executor(None, read_published, creds))
                break
            except (KafkaError, OSError, TimeoutError) as exc:
                log.warning("published releases not read yet reason=%s", exc)
                await asyncio.sleep(2.0)
        log.info("published releases read back count=%d", len(published))
        published_known.set()

    async def release(dataset: str, since: str | None) -> None:
        """Run the release step for a change (off the event loop) and send what it says."""
        await published_known.wait()
        now = utcnow()
        survey = ctx.conventions.survey(now)
        aggregates = by_dataset(store.values())
        # Suppression and its disclosure checks take CPU: off the event loop, so
        # the consumer's heartbeats go on (a blocked loop means a rebalance).
        step = await asyncio.get_running_loop().run_in_executor(
            None,
            release_step,
            aggregates,
            ctx.indicators,
            ctx.territory,
            survey,
            Change(dataset, since),
            dict(published),
            now,
        )
        now = utcnow()
        await emit.release_step(step, now)
        for one in step.releases:
            published[one.key] = one
        await stale.update(step, now)

    @app.agent(aggregates_in, concurrency=1)
    async def releases(stream: Any) -> None:
        async for event in stream.events():
            _, record = decode_message(ctx.catalog, event.value)
            accepted_at = record["accepted_at"]
            store[event.key.decode()] = dict(record, accepted_at=accepted_at.timestamp())
            await release(record["dataset"], record["period"])
            metrics.drop_to_indicator.labels(record["dataset"]).observe(
                (utcnow() - accepted_at).total_seconds()
            )

    async def apply_conventions() -> None:
        """Where conventions stand now: gauges, topics followed, and the releases of the
        datasets whose conventions changed standing (at start: those an ended one holds)."""
        now = utcnow()
        survey = ctx.conventions.survey(now)
        publish_convention_gauges(survey, ctx, metrics)
        current: dict[str, tuple[str, frozenset[str]]] = {}
        for status in survey.statuses:  # by version: the last one's text, every dataset
            _, before = current.get(status.convention.id, ("", frozenset()))
            current[status.convention.id] = (
                f"{status.ref} {status.standing}",
                before | frozenset(status.convention.datasets),
            )
        first = not standings
        affected: set[str] = set()
        starting = False
        if first:  # nothing to compare with: hold what an ended convention blocks
            affected = {
                d for s in survey.representatives() if not s.in_force for d in s.convention.datasets
            }
            starting = True
        for convention_id in sorted(set(current) | set(standings)):
            now_text, now_datasets = current.get(convention_id, ("", frozenset()))
            was_text, was_datasets = standings.get(convention_id, ("", frozenset()))
            if now_text == was_text:
                continue
            if not first:
                affected |= now_datasets | was_datasets
            standing = now_text.rsplit(" ", 1)[-1] if now_text else "removed"
            reason = now_text or f"{convention_id} removed"
            await emit.audit(convention_event(convention_id, standing, now, reason))
        standings.clear()
        standings.update(current)
        await follower.follow(survey)  # a new partner's topic, whatever else waits
        if store:
            await published_known.wait()
            if starting and not published:  # a hub upgraded from per-cell rows
                affected |= {entry["dataset"] for entry in store.values()}
            for dataset in sorted(affected):
                await release(dataset, None)

    @app.timer(interval=settings.conventions_poll_s)
    async def watch_conventions() -> None:
        if ctx.conventions.reload_if_changed():
            log.info("conventions reloaded count=%d", len(ctx.conventions.all()))
        await apply_conventions()
        # the last accepted drops survive a restart in the aggregates table
        for entry in list(store.values()):
            metrics.convention_last_drop.labels(entry["convention_id"], entry["dataset"]).set(
                max(entry["accepted_at"], 0.0)
            )

    @app.timer(interval=settings.audit_sign_s)
    async def sign_audit_chain() -> None:
        await emit.sign_audit_head(utcnow())

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
        publish_convention_gauges(ctx.conventions.survey(utcnow()), ctx, metrics)
        log.info("metrics port=%d", settings.metrics_port)
        await measure_lag()

    return app


class TopicFollower:
    """Keeps the ingest agent's subscription equal to the partners' drops topics.

    The partners are the producers of every convention the hub holds that
    is not a draft (an ended convention's topic is still read, so late
    drops get their rejection and receipt), plus `OBSHUB_PARTNERS`; a topic
    is followed once it exists. faust reads the topic names of its
    channels when it resubscribes, so the names are changed in place on the
    agent's channels and the conductor is told (faust's own pattern
    subscription does not work with aiokafka); its wait before
    resubscribing is cut from 45 s to 1 s so a new partner is read within
    seconds.
    """

    RESUBSCRIBE_AFTER_S = 1.0

    def __init__(self, app: faust.App, creds: Any, extra: tuple[str, ...]) -> None:
        self.app, self.creds, self.extra = app, creds, extra
        self.followed: list[str] = []
        app.topics._resubscribe_sleep_lock_seconds = self.RESUBSCRIBE_AFTER_S

    def wanted(self, survey: Survey) -> set[str]:
        partners = {s.convention.producer for s in survey.representatives()} | set(self.extra)
        return {drops_topic(p) for p in partners}

    def initial(self, survey: Survey) -> list[str]:
        """The topics to subscribe to at start (faust creates none: provisioning does)."""
        self.followed = sorted(self.wanted(survey))
        return self.followed

    async def follow(self, survey: Survey) -> None:
        wanted = self.wanted(survey)
        if wanted == set(self.followed):
            return
        loop = asyncio.get_running_loop()
        try:
            existing = await loop.run_in_executor(None, topics_with_prefix, self.creds, "drops.")
        except (KafkaError, OSError) as exc:
            log.warning("partner topics not listed reason=%s", exc)
            return
        names = sorted(wanted & set(existing))
        if not names or names == self.followed:
            return
        log.info(
            "following partner topics added=%s removed=%s",
            sorted(set(names) - set(self.followed)),
            sorted(set(self.followed) - set(names)),
        )
        before = set(self.followed)
        for channel in list(self.app.topics):
            if before & set(channel.topics):
                channel.topics = list(names)
        self.followed = names
        self.app.topics._flag_changes()


def publish_convention_gauges(survey: Survey, ctx: HubContext, metrics: HubMetrics) -> None:
    """Validity, standing and cadence per convention; which conventions feed each indicator."""
    represented = {s.convention.id: s for s in survey.representatives()}
    for status in survey.statuses:
        convention = status.convention
        shown = represented.get(convention.id)
        if shown is not None and shown is not status:
            continue  # an id is shown by what stands for it
        if shown is None and any(
            s.convention.id == convention.id and s.convention.version > convention.version
            for s in survey.statuses
        ):
            continue  # drafts only: the latest draft
        metrics.publish_convention(
            convention.id,
            valid_from=convention.validity.starts_at.timestamp(),
            valid_until=convention.validity.ends_at.timestamp(),
            applicable=status.standing is Standing.IN_FORCE,
            cadences={d: t.cadence.value for d, t in convention.datasets.items()},
            standing=status.standing.value,
            cause=status.cause,
        )
    for indicator in ctx.indicators.each():
        metrics.publish_indicator_sources(
            indicator.id,
            [(s.convention.id, d) for d in indicator.datasets for s in survey.providers(d)],
        )


def run_worker(settings: HubSettings) -> None:
    """`obshub worker`: the worker in the foreground until SIGTERM/SIGINT."""
    from hub.context import load_context
    from hub.settings import GOVERNANCE_PATHS

    settings.require(
        *GOVERNANCE_PATHS, "sealing_key_path", "operator_key_path", "hub_credentials_path"
    )
    ctx = load_context(settings)
    metrics = HubMetrics()
    app = create_app(settings, ctx, metrics)
    worker = faust.Worker(app, loglevel=settings.log_level.upper(), quiet=True)
    worker.execute_from_commandline()
