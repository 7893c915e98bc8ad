"""The broker itself dies in the middle of a drop and comes back.

The connector publishes a large extract through its real Kafka sink; once
the header and a few chunks are acknowledged, the broker is stopped, with
SIGKILL (no clean shutdown, no flushed segments) or with SIGTERM (a
controlled shutdown), and restarted a few seconds later on the same data.
The connector's producer keeps retrying while it is away; if the publish
still fails, the operator's remedy is to run the same publish again (the
drop id derives from the content, so it is the same drop).
The worker, which lost its broker too, must resume on its own, and the
published indicators must equal the independent computation.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from connectors.errors import ConnectorError
from connectors.kafka_sink import KafkaSink
from connectors.publish import PublishReport, PublishRequest, publish_extract
from connectors.settings import ConnectorSettings
from contracts.principals import AUDIT_TOPIC
from hub.stack import Stack, broker, processes
from hub.stack.services import services
from tests.support.published import CAF_INDICATORS, DEMO, expected, problems, write_extract
from tests.support.stacks import private_stack, publish_insee
from tests.support.wire import by_drop, decoded, indicator_rows, quarantine_events, wait_until

pytestmark = pytest.mark.integration
CHUNK_ROWS = 1000
CUT_AFTER_CHUNKS = 5


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with private_stack(tmp_path_factory.mktemp("broker-restart")) as stack:
        yield stack


@pytest.fixture(scope="module")
def insee(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return publish_insee(stack, tmp_path_factory.mktemp("insee"))


class CuttingSink:
    """The connector's real sink; once `after` chunks are acknowledged, `cut()` runs."""

    def __init__(self, inner: KafkaSink, after: int, cut: Callable[[], None]) -> None:
        self.inner, self.after, self.cut = inner, after, cut
        self.sent = 0

    def send(self, topic: str, key: bytes, value: bytes) -> None:
        self.inner.send(topic, key, value)
        self.sent += 1
        if self.sent == 1 + self.after:  # the header and `after` chunks
            self.inner.flush()
            self.cut()

    def flush(self) -> None:
        self.inner.flush()

    def close(self) -> None:
        self.inner.close()


def stop_broker(stack: Stack, signum: signal.Signals) -> None:
    pid = broker.running_pid(stack.layout)
    assert pid is not None
    os.kill(pid, signum)
    wait_until(lambda: not processes.is_alive(pid), 60, "the broker to stop", every_s=0.1)


@pytest.mark.parametrize(
    ("signum", "month", "seed"),
    [(signal.SIGKILL, "2026-03", 31), (signal.SIGTERM, "2026-02", 32)],
    ids=["SIGKILL", "SIGTERM"],
)
def test_a_broker_stopped_mid_drop_and_restarted_loses_nothing(
    stack: Stack,
    insee: dict[str, Path],
    tmp_path: Path,
    signum: signal.Signals,
    month: str,
    seed: int,
) -> None:
    extract = write_extract(tmp_path, "caf.allocataires", 20_000, month, seed=seed)
    settings = ConnectorSettings(
        state_dir=stack.settings.state_dir, keys_dir=DEMO / "keys", chunk_size=CHUNK_ROWS
    )
    request = PublishRequest(DEMO / "conventions" / "caf33.yaml", extract, month)
    worker_pid = services(stack.settings)["worker"].running_pid()
    cut = threading.Event()

    def cutting_sink(topic: str) -> CuttingSink:
        inner = KafkaSink(settings.kafka_credentials("caf33"), topic)
        return CuttingSink(inner, CUT_AFTER_CHUNKS, lambda: (stop_broker(stack, signum), cut.set()))

    outcome: dict[str, PublishReport | Exception] = {}

    def first_attempt() -> None:
        try:
            outcome["report"] = publish_extract(request, settings, sink_factory=cutting_sink)
        except ConnectorError as exc:  # what the CLI would print; the operator runs it again
            outcome["error"] = exc

    publisher = threading.Thread(target=first_attempt)
    publisher.start()
    assert cut.wait(120), "the connector never reached the cut"
    time.sleep(3)  # the broker stays away while the connector keeps sending
    _, ready_s = stack.start_kafka()
    assert ready_s is not None, "the broker was not restarted"
    publisher.join(timeout=180)
    assert not publisher.is_alive()
    retried = "report" not in outcome
    report = outcome.get("report") or publish_extract(request, settings)  # the retry
    assert isinstance(report, PublishReport) and report.published

    rows_expected = expected({"caf.allocataires": extract, **insee}, tmp_path)
    wait_until(
        lambda: not problems(indicator_rows(stack), rows_expected, CAF_INDICATORS, month),
        120,
        "the indicators of the interrupted drop",
        every_s=2,
    )
    accepted = [
        e
        for e in by_drop(decoded(stack.admin_credentials(), AUDIT_TOPIC), report.drop_id)
        if (e["action"], e["outcome"]) == ("drop", "accepted")
    ]
    assert len(accepted) == 1, accepted
    assert by_drop(quarantine_events(stack), report.drop_id) == []
    # the worker rode out the outage itself: same process, still answering
    assert services(stack.settings)["worker"].running_pid() == worker_pid, f"retried={retried}"
