"""`naive_per_record`: one Kafka message per record through a faust agent.

The slice's CSV lines are produced one message each (kafka-python,
acks=all, batched by the producer) to a fresh topic; the faust app of
bench/naive_app.py counts them per IRIS in its own process. Seconds run from
the first send to the agent counting the last record; the counts must equal
the slice's own.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from bench.errors import CountsMismatchError, RunFailedError
from bench.results import Run
from bench.transport import MAX_REQUEST_BYTES, consumer_environment, create_topic
from contracts.principals import KafkaCredentials

WARMUP = b"warmup"


def _wait_for(path: Path, child: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        if child.poll() is not None:
            raise RunFailedError("naive_per_record", f"the faust app exited ({child.returncode})")
        if time.monotonic() > deadline:
            raise RunFailedError("naive_per_record", f"no {path.name} after {timeout_s:.0f}s")
        time.sleep(0.05)


def naive_run(
    admin: KafkaCredentials,
    lines: list[bytes],
    expected: Mapping[str, int],
    directory: Path,
    timeout_s: float = 600,
) -> Run:
    from kafka import KafkaProducer

    directory.mkdir(parents=True, exist_ok=True)
    topic = create_topic(admin, "bench-naive-")
    app_id = f"obshub-bench-naive-{secrets.token_hex(3)}"
    log = (directory / "faust.log").open("wb")
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.naive_app", app_id, topic, str(len(lines)), str(directory)],
        env=consumer_environment(admin),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        producer = KafkaProducer(
            **admin.kafka_python_config(),
            acks="all",
            enable_idempotence=True,
            linger_ms=10,
            max_request_size=MAX_REQUEST_BYTES,
        )
        producer.send(topic, value=WARMUP)
        producer.flush()
        _wait_for(directory / "ready", child, 120)
        started_wall = time.time()
        started = time.monotonic()
        for line in lines:
            producer.send(topic, value=line)
        producer.flush()
        produced_s = time.monotonic() - started
        producer.close()
        _wait_for(directory / "done.json", child, timeout_s)
        done = json.loads((directory / "done.json").read_text(encoding="utf-8"))
    finally:
        if child.poll() is None:
            os.kill(child.pid, signal.SIGTERM)  # faust stops cleanly, and writes its peak
            try:
                child.wait(60)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        log.close()
    peak = (
        (directory / "peak").read_text(encoding="ascii").strip()
        if (directory / "peak").exists()
        else ""
    )
    peak_rss_mb = float(peak) if peak else None
    if done["counts"] != dict(expected):
        raise CountsMismatchError([f"faust per-record counts differ from the slice's: {done}"])
    return Run(
        "naive_per_record",
        len(lines),
        done["done_at"] - started_wall,
        peak_rss_mb,
        {
            "seconds_from": "first send -> the faust agent counted the last record",
            "produce_and_flush_s": round(produced_s, 3),
            "peak_rss_of": "the faust app process (VmHWM)",
        },
    )
