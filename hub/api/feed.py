"""Fills a `ReleaseView` from the `hub.releases` topic, in the background.

Every start reads the topic from the beginning (partitions assigned by hand,
nothing committed), so a fresh API process rebuilds its view from the topic
alone: restart-safe without any state of its own. It joins no consumer
group: a group would hold no offsets, and aiokafka's group coordinator
fails on the reassignment partition discovery needs (below). The client id
`obshub-hub-api` names it in the broker's logs and metrics. The view is marked ready
once the consumer has reached the end offsets the topic had at start.

A message that does not decode as an `indicator_release` is logged and skipped
(the worker owns that topic; one bad message must not stop the API). Any
other failure is a bug: it is logged with its traceback, the view is marked
failed and `/healthz` says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from contracts.principals import RELEASES_TOPIC, KafkaCredentials
from hub.api.view import ReleaseView
from hub.published import IndicatorRelease
from schemas.catalog import SchemaCatalog, load_catalog
from schemas.codec import decode_message
from schemas.errors import SchemaError

log = logging.getLogger(__name__)

CLIENT_ID = "obshub-hub-api"
RELEASE_SCHEMA = "indicator_release"


class ReleaseFeed:
    """A background aiokafka consumer of `topic` applying releases to `view`."""

    def __init__(
        self,
        view: ReleaseView,
        credentials: KafkaCredentials,
        *,
        topic: str = RELEASES_TOPIC,
        retry_s: float = 2.0,
        schemas: SchemaCatalog | None = None,
    ) -> None:
        self.view = view
        self.credentials = credentials
        self.topic = topic
        self.retry_s = retry_s
        self.schemas = schemas or load_catalog()
        self.skipped = 0
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start consuming in a task; returns at once (see `view.ready`)."""
        self._task = asyncio.create_task(self._run(), name="obshub-api-release-feed")
        self._task.add_done_callback(self._finished)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def _finished(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            self.view.ready = False
            self.view.failure = f"{type(exc).__name__}: {exc}"
            log.error("release feed stopped error=%r", exc, exc_info=exc)

    async def _run(self) -> None:
        while True:
            consumer = AIOKafkaConsumer(
                **self.credentials.kafka_python_config(),
                client_id=CLIENT_ID,
                group_id=None,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
            )
            try:
                await consumer.start()
                partitions = await self._partitions(consumer)
                if partitions is None:
                    log.warning("topic missing topic=%s retry_s=%.1f", self.topic, self.retry_s)
                else:
                    await self._consume(consumer, partitions)
            except KafkaError as exc:
                log.warning("release feed: %s; retrying in %.1fs", exc, self.retry_s)
            finally:
                await consumer.stop()
            await asyncio.sleep(self.retry_s)

    async def _partitions(self, consumer: Any) -> list[TopicPartition] | None:
        """Every partition of the topic, None if the topic does not exist (yet).

        aiokafka's consumer learns a topic's partitions only once it has a
        partition of it assigned, so partition 0 (which every topic has) is
        assigned first and the others read from the metadata that brings.
        """
        if self.topic not in await consumer.topics():
            return None
        consumer.assign([TopicPartition(self.topic, 0)])
        for _ in range(100):
            ids = consumer.partitions_for_topic(self.topic)
            if ids:
                return [TopicPartition(self.topic, p) for p in sorted(ids)]
            await asyncio.sleep(0.1)
        return None

    async def _consume(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
        log.info("release feed from the beginning topic=%s end=%s", self.topic, end)
        while True:
            if not self.view.ready and await _reached(consumer, end):
                self.view.ready = True
                log.info("release view ready rows=%d", len(self.view))
            batches = await consumer.getmany(*partitions, timeout_ms=500)
            for records in batches.values():
                for record in records:
                    self.apply(record.key, record.value)

    def apply(self, key: bytes | None, value: bytes | None) -> None:
        """Apply one message of the topic to the view: one whole release."""
        if value is None:
            self.skipped += 1
            log.warning("skipped empty message topic=%s key=%r", self.topic, key)
            return
        try:
            schema, record = decode_message(self.schemas, value)
        except SchemaError as exc:
            self.skipped += 1
            log.warning("skipped message topic=%s reason=%s", self.topic, exc)
            return
        if schema.name != RELEASE_SCHEMA:
            self.skipped += 1
            log.warning("skipped message topic=%s schema=%s", self.topic, schema.label)
            return
        self.view.apply(IndicatorRelease.from_record(record))


async def _reached(consumer: Any, end: dict[TopicPartition, int]) -> bool:
    for partition, offset in end.items():
        if await consumer.position(partition) < offset:
            return False
    return True
