"""A minimal faust app that counts records per IRIS, one Kafka message per record.

What a first stream-processing design would do, to show why obshub moves
records in chunks. Run as `python -m bench.naive_app APP_ID TOPIC COUNT DIR`
with the admin's client settings in BENCH_BOOTSTRAP, BENCH_USERNAME and
BENCH_PASSWORD. A message `warmup` makes it write DIR/ready (the parent then
knows the agent consumes); after COUNT records it writes DIR/done.json with
the time and the counts. The parent stops it (SIGTERM).
"""

from __future__ import annotations

import atexit
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import faust

from bench.peak import own_peak_rss_mb

WARMUP = b"warmup"


def create_app(app_id: str, topic_name: str, count: int, directory: Path) -> faust.App:
    app = faust.App(
        app_id,
        broker=f"kafka://{os.environ['BENCH_BOOTSTRAP']}",
        broker_credentials=faust.SASLCredentials(
            username=os.environ["BENCH_USERNAME"],
            password=os.environ["BENCH_PASSWORD"],
            mechanism="SCRAM-SHA-512",
        ),
        store="memory://",
        datadir=str(directory / "faust"),
        web_enabled=False,
        topic_replication_factor=1,
        consumer_auto_offset_reset="earliest",
    )
    topic = app.topic(topic_name, key_serializer="raw", value_serializer="raw")
    counts: Counter[str] = Counter()

    @app.agent(topic, concurrency=1)  # type: ignore[untyped-decorator]  # faust is untyped
    async def count_per_iris(stream: Any) -> None:
        seen = 0
        async for value in stream:
            if value == WARMUP:
                (directory / "ready").write_text("ready\n", encoding="utf-8")
                continue
            counts[value.split(b";", 2)[1].decode()] += 1
            seen += 1
            if seen == count:
                done = {"done_at": time.time(), "records": seen, "counts": dict(counts)}
                (directory / "done.json").write_text(json.dumps(done), encoding="utf-8")

    return app


def _write_peak(directory: Path) -> None:
    peak = own_peak_rss_mb()
    (directory / "peak").write_text("" if peak is None else f"{peak:.1f}\n", encoding="ascii")


def main() -> None:
    app_id, topic_name, count, directory = sys.argv[1:5]
    atexit.register(_write_peak, Path(directory))
    app = create_app(app_id, topic_name, int(count), Path(directory))
    worker = faust.Worker(app, loglevel="WARNING", quiet=True)
    worker.execute_from_commandline()


if __name__ == "__main__":
    main()
