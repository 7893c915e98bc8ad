"""Helpers of the security suite: the hub's processes, conventions, whole-topic reads."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from contracts.keys import load_signing_key
from contracts.principals import KafkaCredentials
from contracts.signing import sign_file
from hub.stack import Stack, processes
from hub.stack.services import services
from schemas.catalog import load_catalog
from schemas.codec import decode_message

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "deploy" / "demo"
KEYS = DEMO / "keys"
HUB_OPERATOR = "hub-operator"
PARTNERS = ("caf33", "francetravail33", "cd33", "ccas-bordeaux", "ccas-le-bouscat", "insee")
KAFKA_CONSUMERS = ("observatoire-bordeaux",)  # the demo consumers with the kafka channel
API_ONLY_CONSUMERS = ("agora-le-bouscat", "cabinet-etudes")
STOP_TIMEOUT_S = 40.0


# -- the hub's processes ------------------------------------------------------


def service_pid(stack: Stack, name: str) -> int | None:
    return services(stack.settings)[name].running_pid()


def stop_service(stack: Stack, name: str) -> None:
    """Stop `name` of this stack's state dir if it runs (SIGTERM, then SIGKILL)."""
    pid = service_pid(stack, name)
    if pid is not None:
        processes.terminate(pid, STOP_TIMEOUT_S)


@contextmanager
def running_service(stack: Stack, name: str) -> Iterator[int]:
    """`name` (worker | api) started with `stack`'s settings, stopped afterwards.

    An instance another module of the session left running, or asked to stop
    and is still shutting down, is stopped first (`start_services` would take
    it for ours), so the one we start runs with our settings.
    """
    stop_service(stack, name)
    stack.start_services((name,))
    pid = service_pid(stack, name)
    assert pid is not None, f"the {name} did not start"
    environ = processes.read_environ(pid)
    assert environ.get("OBSHUB_CONVENTIONS_DIR") == str(stack.settings.conventions_dir.resolve())
    try:
        yield pid
    finally:
        processes.terminate(pid, STOP_TIMEOUT_S)


# -- conventions --------------------------------------------------------------


def demo_conventions(directory: Path) -> Path:
    """A private copy of the demo conventions (the hub reads them while it runs)."""
    directory.mkdir(parents=True, exist_ok=True)
    for path in sorted((DEMO / "conventions").glob("*.yaml")):
        shutil.copy(path, directory / path.name)
    return directory


def rewrite_convention(
    source: Path,
    target: Path,
    replacements: Mapping[str, str],
    signers: Mapping[str, str],
) -> None:
    """Write `source` with its text `replacements` made, signed afresh as `signers`
    say (party: whose demo key signs for it), to `target`, atomically."""
    text = source.read_text(encoding="utf-8")
    for old, new in replacements.items():
        assert old in text, f"{old!r} not in {source}"
        text = text.replace(old, new, 1)
    with tempfile.TemporaryDirectory() as staging:
        draft = Path(staging) / target.name
        draft.write_text(text, encoding="utf-8")
        for party, key in signers.items():
            sign_file(draft, load_signing_key(KEYS / f"{key}.key"), party)
        install(draft, target)


def install(source: Path, target: Path) -> None:
    """Copy `source` over `target` atomically (a new inode: watchers see the change)."""
    partial = target.with_name(f".{target.name}.partial")
    shutil.copy(source, partial)
    os.replace(partial, target)


# -- reading topics -----------------------------------------------------------


def read_topics(
    credentials: KafkaCredentials,
    topics: list[str] | None = None,
    timeout_s: float = 60.0,
    include_internal: bool = False,
) -> dict[str, list[Any]]:
    """Every record of `topics` (default: all, Kafka's own `__*` too if
    `include_internal`), from the beginning to the end offsets at the time of
    the call, by topic."""
    consumer = KafkaConsumer(
        **credentials.kafka_python_config(),
        enable_auto_commit=False,
        max_partition_fetch_bytes=8 << 20,
        fetch_max_bytes=64 << 20,
    )
    try:
        names = topics if topics is not None else sorted(consumer.topics())
        names = [t for t in names if include_internal or not t.startswith("__")]
        parts = [
            TopicPartition(topic, p)
            for topic in names
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        records: dict[str, list[Any]] = {topic: [] for topic in names}
        if not parts:
            return records
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        ends = consumer.end_offsets(parts)
        deadline = time.monotonic() + timeout_s
        while any(consumer.position(tp) < ends[tp] for tp in parts):
            assert time.monotonic() < deadline, "could not read the topics to their end"
            for tp, batch in consumer.poll(timeout_ms=500).items():
                records[tp.topic] += [r for r in batch if r.offset < ends[tp]]
        return records
    finally:
        consumer.close()


class TopicTail:
    """The records that arrive on `topics` from now on, decoded, as they come."""

    def __init__(self, credentials: KafkaCredentials, topics: list[str]) -> None:
        self.consumer = KafkaConsumer(**credentials.kafka_python_config(), enable_auto_commit=False)
        parts = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(self.consumer.partitions_for_topic(topic) or ())
        ]
        self.consumer.assign(parts)
        self.consumer.seek_to_end(*parts)
        for tp in parts:  # resolve the end offsets now, before anything is published
            self.consumer.position(tp)
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.catalog = load_catalog()

    def poll(self) -> list[tuple[str, dict[str, Any]]]:
        for tp, batch in self.consumer.poll(timeout_ms=250).items():
            self.events += [(tp.topic, decode_message(self.catalog, r.value)[1]) for r in batch]
        return self.events

    def wait_for(
        self, done: Callable[[list[tuple[str, dict[str, Any]]]], bool], timeout_s: float
    ) -> list[tuple[str, dict[str, Any]]]:
        deadline = time.monotonic() + timeout_s
        while not done(self.poll()):
            assert time.monotonic() < deadline, "the expected events did not come in time"
        return self.events

    def close(self) -> None:
        self.consumer.close()


def decode_all(records: list[Any]) -> list[dict[str, Any]]:
    """The Avro records of `records`' values (single-object encoding)."""
    catalog = load_catalog()
    return [decode_message(catalog, r.value)[1] for r in records]
