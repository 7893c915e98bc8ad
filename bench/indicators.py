"""Watching the `indicators` topic: when was a drop's last release complete?

`IndicatorWatcher` reads `indicators` as the admin principal in a thread,
from the end of the topic as it was when the watcher started, and notes
when each row arrives (a release, one message, brings all of its rows). A
drop's rows are known by their period (each drop of the bench has its
own) and by the keys the catalog and the territory call for
(`expected_keys`): every IRIS and commune of every indicator that reads
`caf.allocataires`, when all of its datasets have a drop.
"""

from __future__ import annotations

import csv
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.errors import RunFailedError
from contracts.indicators import IndicatorCatalog, Level
from contracts.principals import KafkaCredentials
from hub.published import flat_rows
from schemas.catalog import load_catalog
from schemas.codec import decode_message

RowKey = tuple[str, str, str, str]  # indicator, period, level, code


@dataclass(frozen=True)
class TerritoryCodes:
    iris: tuple[str, ...]
    communes: tuple[str, ...]

    @classmethod
    def load(cls, directory: Path) -> TerritoryCodes:
        with (directory / "iris.csv").open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle, delimiter=";"))
        return cls(
            tuple(sorted(r["CODE_IRIS"] for r in rows)),
            tuple(sorted({r["DEPCOM"] for r in rows})),
        )


def expected_keys(
    catalog: IndicatorCatalog,
    territory: TerritoryCodes,
    dataset: str,
    datasets_present: Iterable[str],
    period: str,
) -> set[RowKey]:
    """The rows a drop of `dataset` for `period` makes the hub publish."""
    present = set(datasets_present) | {dataset}
    keys: set[RowKey] = set()
    for indicator in catalog.each():
        if indicator.numerator.dataset != dataset or not set(indicator.datasets) <= present:
            continue
        if Level.IRIS in indicator.levels:
            keys |= {(indicator.id, period, "iris", code) for code in territory.iris}
        if Level.COMMUNE in indicator.levels:
            keys |= {(indicator.id, period, "commune", code) for code in territory.communes}
    return keys


class IndicatorWatcher:
    """A consumer thread on `indicators` that notes each row's arrival time."""

    def __init__(self, admin: KafkaCredentials) -> None:
        self._admin = admin
        self._lock = threading.Lock()
        self._arrivals: list[tuple[float, RowKey, dict[str, Any]]] = []
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="indicator-watcher", daemon=True)

    def __enter__(self) -> IndicatorWatcher:
        self._thread.start()
        if not self._ready.wait(60):
            raise RunFailedError("indicator watcher", "could not reach the indicators topic")
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        from kafka import KafkaConsumer, TopicPartition

        catalog = load_catalog()
        try:
            consumer = KafkaConsumer(
                **self._admin.kafka_python_config(),
                enable_auto_commit=False,
                fetch_max_wait_ms=50,
            )
            parts = [
                TopicPartition("indicators", p)
                for p in consumer.partitions_for_topic("indicators") or ()
            ]
            consumer.assign(parts)
            consumer.seek_to_end(*parts)
            for tp in parts:
                consumer.position(tp)  # resolve the end now, before anything is published
            self._ready.set()
            while not self._stop.is_set():
                for records in consumer.poll(timeout_ms=100).values():
                    now = time.monotonic()
                    for record in records:
                        _, release = decode_message(catalog, record.value)
                        with self._lock:
                            for row in flat_rows(release):
                                key = (row["indicator"], row["period"], row["level"], row["code"])
                                self._arrivals.append((now, key, row))
            consumer.close()
        except BaseException as exc:  # reported by wait_for, in the main thread
            self._error = exc
            self._ready.set()

    def wait_for(
        self, keys: set[RowKey], since: float, timeout_s: float
    ) -> tuple[float, dict[RowKey, dict[str, Any]]]:
        """Monotonic time at which the last of `keys` had arrived after `since`, and the rows."""
        deadline = time.monotonic() + timeout_s
        while True:
            if self._error is not None:
                raise RunFailedError("indicator watcher", repr(self._error))
            first: dict[RowKey, float] = {}
            rows: dict[RowKey, dict[str, Any]] = {}
            with self._lock:
                arrivals = list(self._arrivals)
            for at, key, row in arrivals:
                if at >= since and key in keys:
                    first.setdefault(key, at)
                    rows[key] = row
            if len(first) == len(keys):
                return max(first.values()), rows
            if time.monotonic() > deadline:
                raise RunFailedError(
                    "indicators",
                    f"{len(keys) - len(first)} of {len(keys)} expected rows still missing "
                    f"after {timeout_s:.0f}s",
                )
            time.sleep(0.02)
