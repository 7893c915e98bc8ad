"""obshub's own runs: the connector, the whole pipeline, trailer → indicator latency.

The connector runs as a partner runs it, `python -m hub.cli connector
publish … --quiet --report FILE`, in its own process: its peak RSS is that
process's `VmHWM` (bench/peak.py), and its seconds are the ones publish_extract measures
from opening the extract to the trailer's acknowledgement (the report's
`seconds`; the process's wall time, with interpreter start-up and imports,
is in the details).
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.errors import RunFailedError
from bench.indicators import IndicatorWatcher, RowKey
from bench.machine import Finished, cpu_seconds, run_measured, vm_hwm_mb
from bench.results import Run
from bench.stack import DEMO
from connectors.publish import PublishRequest, publish_extract
from connectors.settings import ConnectorSettings
from hub.stack import Stack
from hub.stack.services import child_environment

CAF = ("caf33", "caf.allocataires")


@dataclass(frozen=True)
class Published:
    drop_id: str
    rows_accepted: int
    seconds: float  # publish_extract's own clock: open → trailer acknowledged
    process: Finished


def publish_cli(
    stack: Stack, source: Path, period: str, report: Path, partner_dataset: tuple[str, str] = CAF
) -> Published:
    """`obshub connector publish --quiet --report` in a child process, measured."""
    partner, dataset = partner_dataset
    args = [
        "connector",
        "publish",
        "--convention",
        str(stack.settings.conventions_dir / f"{partner}.yaml"),
        "--dataset",
        dataset,
        "--source",
        str(source),
        "--period",
        period,
        "--quiet",
        "--report",
        str(report),
        # the connector's own time: the end-to-end run measures up to the indicators
        "--no-wait",
    ]
    finished = run_measured(
        "hub.cli", args, report.with_suffix(".peak"), child_environment(stack.settings)
    )
    if finished.returncode != 0:
        raise RunFailedError("obshub_connector", f"exit {finished.returncode}: {finished.stdout}")
    data = json.loads(report.read_text(encoding="utf-8"))
    if not data["published"]:
        raise RunFailedError("obshub_connector", f"nothing published: {data}")
    return Published(data["drop_id"], data["rows_accepted"], data["seconds"], finished)


def connector_settings(stack: Stack) -> ConnectorSettings:
    return ConnectorSettings(state_dir=stack.settings.state_dir, keys_dir=DEMO / "keys")


def publish_in_process(
    stack: Stack, source: Path, period: str, partner_dataset: tuple[str, str] = CAF
) -> str:
    """publish_extract in this process (small drops); the drop id."""
    partner, dataset = partner_dataset
    request = PublishRequest(
        stack.settings.conventions_dir / f"{partner}.yaml", source, period, dataset=dataset
    )
    report = publish_extract(request, connector_settings(stack))
    if not report.published:
        raise RunFailedError("publish", f"{dataset} {period}: nothing published")
    return report.drop_id


def connector_run(published: Published) -> Run:
    return Run(
        "obshub_connector",
        published.rows_accepted,
        published.seconds,
        published.process.peak_rss_mb,
        {
            "seconds_from": "publish_extract: open the extract -> trailer acknowledged",
            "process_wall_s": round(published.process.wall_s, 3),
            "process_rows_per_s": round(published.rows_accepted / published.process.wall_s),
            "process_cpu_s": round(published.process.cpu_s, 3),
            "rows_per_cpu_s": round(published.rows_accepted / published.process.cpu_s),
            "peak_rss_of": "the connector process (VmHWM)",
            "worker_running": False,
        },
    )


def end_to_end(
    stack: Stack,
    watcher: IndicatorWatcher,
    source: Path,
    period: str,
    keys: set[RowKey],
    report: Path,
    worker_pid: int,
    timeout_s: float = 900,
) -> tuple[Run, dict[RowKey, dict[str, Any]]]:
    """From the start of the publish to the last indicator row of its period."""
    worker_cpu = cpu_seconds(worker_pid) or 0.0
    started = time.monotonic()
    published = publish_cli(stack, source, period, report)
    connector_done = time.monotonic()
    last, rows = watcher.wait_for(keys, started, timeout_s)
    seconds = last - started
    worker_cpu = (cpu_seconds(worker_pid) or 0.0) - worker_cpu
    run = Run(
        "obshub_end_to_end",
        published.rows_accepted,
        seconds,
        vm_hwm_mb(worker_pid),
        {
            "seconds_from": "connector process start -> last indicator row of the drop read",
            "connector_process_s": round(connector_done - started, 3),
            "after_connector_s": round(last - connector_done, 3),
            "indicator_rows": len(keys),
            "peak_rss_of": "hub worker (VmHWM), after this drop",
            "connector_peak_rss_mb": published.process.peak_rss_mb,
            "connector_cpu_s": round(published.process.cpu_s, 3),
            "worker_cpu_s": round(worker_cpu, 3),
            "worker_rows_per_cpu_s": round(published.rows_accepted / worker_cpu)
            if worker_cpu
            else None,
        },
    )
    return run, rows


def trailer_latencies(
    stack: Stack,
    watcher: IndicatorWatcher,
    source: Path,
    periods: list[tuple[str, set[RowKey]]],
    timeout_s: float = 300,
) -> list[float]:
    """Per drop: trailer acknowledged (publish_extract returned) → its last indicator row."""
    samples = []
    for period, keys in periods:
        started = time.monotonic()
        publish_in_process(stack, source, period)
        acked = time.monotonic()
        last, _ = watcher.wait_for(keys, started, timeout_s)
        samples.append(max(0.0, last - acked))
    return samples


_HISTOGRAM = re.compile(
    r'^obshub_drop_to_indicator_seconds_(sum|count)\{dataset="caf\.allocataires"\} (\S+)$', re.M
)


def worker_histogram(stack: Stack) -> dict[str, float]:
    """The worker's own `obshub_drop_to_indicator_seconds` sum and count for the CAF drops."""
    with urllib.request.urlopen(stack.settings.metrics_url, timeout=5) as response:
        text = response.read().decode()
    return {kind: float(value) for kind, value in _HISTOGRAM.findall(text)}


def read_drop_messages(stack: Stack, topic: str, drop_id: str) -> list[bytes]:
    """The values of one drop's messages (header, chunks, trailer), in order, as the admin."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(
        **stack.admin_credentials().kafka_python_config(), enable_auto_commit=False
    )
    try:
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        ends = consumer.end_offsets(parts)
        values: list[bytes] = []
        key = drop_id.encode()
        while any(consumer.position(tp) < ends[tp] for tp in parts):
            for records in consumer.poll(timeout_ms=500, max_records=1000).values():
                values += [r.value for r in records if r.key == key]
        return values
    finally:
        consumer.close()
