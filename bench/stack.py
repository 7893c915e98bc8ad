"""A private obshub stack for the bench: Kafka on free ports in a temporary state dir.

Settings from `hub.stack.private_settings`, as the test suite's, so the bench never
touches a running demo (`.obshub/`, port 9092). The worker is started only
when the runs need it; the access API is not started (no run reads it).
"""

from __future__ import annotations

import logging
from pathlib import Path

from hub.stack import Stack, private_settings
from hub.stack.processes import terminate
from hub.stack.services import services

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "deploy" / "demo"


def start_kafka(state_dir: Path) -> Stack:
    """Kafka started and provisioned (users, topics, ACLs); no hub process yet."""
    logging.getLogger("kafka").setLevel(logging.ERROR)
    stack = Stack(private_settings(state_dir))
    stack.up(with_services=False)
    return stack


def start_worker(stack: Stack) -> int:
    """Start the hub worker; its pid."""
    stack.start_services(("worker",))
    pid = services(stack.settings)["worker"].running_pid()
    if pid is None:  # start_services waited for its metrics endpoint: a bug if so
        raise RuntimeError("the worker is not running after start")
    return pid


def stop_worker(stack: Stack) -> None:
    pid = services(stack.settings)["worker"].running_pid()
    if pid is not None:
        terminate(pid, stack.settings.stop_timeout_s)
