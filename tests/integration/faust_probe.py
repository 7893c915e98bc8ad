"""A minimal faust-streaming app for the compatibility test.

Usage: faust_probe.py BOOTSTRAP USER PASSWORD TOPIC APP_ID COUNT DATADIR

Consumes COUNT messages from TOPIC authenticated with SCRAM-SHA-512, commits
their offsets, prints `consumed COUNT` and stops itself with SIGTERM (faust's
graceful shutdown).
"""

import asyncio
import os
import signal
import sys

import faust

bootstrap, user, password, topic_name, app_id, count, datadir = sys.argv[1:8]
target = int(count)

app = faust.App(
    app_id,
    broker=f"kafka://{bootstrap}",
    broker_credentials=faust.SASLCredentials(
        username=user, password=password, mechanism="SCRAM-SHA-512"
    ),
    store="memory://",
    datadir=datadir,
    web_enabled=False,
    topic_replication_factor=1,
    topic_partitions=1,
    broker_commit_every=1,
)
topic = app.topic(topic_name, key_serializer="raw", value_serializer="raw")
seen: list[bytes] = []
background: set[asyncio.Future[None]] = set()


async def _finish() -> None:
    await asyncio.sleep(0.5)
    await app.consumer.commit()
    print(f"consumed {len(seen)}", flush=True)
    os.kill(os.getpid(), signal.SIGTERM)


@app.agent(topic)
async def consume(stream):  # type: ignore[no-untyped-def]
    async for value in stream:
        seen.append(value)
        if len(seen) == target:
            background.add(asyncio.ensure_future(_finish()))


if __name__ == "__main__":
    sys.argv = [sys.argv[0], "worker", "--loglevel", "warn", "--without-web"]
    app.main()
