"""A private obshub stack for the bench: Kafka on free ports in a temporary state dir.

Like the test suite's `stack_settings` (tests/conftest.py), so the bench never
touches a running demo (`.obshub/`, port 9092). The worker is started only
when the runs need it; the access API is not started (no run reads it).
"""

from __future__ import annotations

import logging
from pathlib import Path

from hub.settings import HubSettings
from hub.stack import Stack
from hub.stack.processes import listening_port, terminate
from hub.stack.services import services

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "deploy" / "demo"


def free_port() -> int:
    """A port to listen on, outside the ephemeral range (see `listening_port`)."""
    return listening_port()


def private_settings(state_dir: Path) -> HubSettings:
    return HubSettings(
        state_dir=state_dir,
        kafka_port=free_port(),
        controller_port=free_port(),
        api_port=free_port(),
        metrics_port=free_port(),
    )


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
