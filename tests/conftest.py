"""Shared fixtures: one real broker per test session, on free ports.

The broker runs under a temporary state dir, so it never collides with a
running demo (`.obshub/`, port 9092). Integration tests get a fresh topic
and consumer group each, through `fresh_topic`.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hub.settings import HubSettings
from hub.stack import Stack, private_settings
from hub.stack.processes import listening_port

free_port = listening_port  # a port to listen on, outside the ephemeral range


def stack_settings(state_dir: Path) -> HubSettings:
    """Settings for a private stack under `state_dir` on free ports; the audit
    chain heads are signed within seconds."""
    return private_settings(state_dir, kafka_heap="384m", audit_sign_s=2.0)


@pytest.fixture(scope="session")
def kafka_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    logging.getLogger("kafka.net.sasl").setLevel(logging.ERROR)
    stack = Stack(stack_settings(tmp_path_factory.mktemp("obshub-state")))
    stack.up(with_services=False)  # tests start the worker or the API when they need them
    yield stack
    stack.down()


@pytest.fixture
def fresh_topic(kafka_stack: Stack) -> Callable[[str], str]:
    """Create a topic named `<prefix><random>` with the admin principal."""
    from kafka.admin import NewTopic

    from hub.stack.provision import admin_client

    def make(prefix: str) -> str:
        name = f"{prefix}{secrets.token_hex(4)}"
        client = admin_client(kafka_stack.admin_credentials())
        try:
            client.create_topics([NewTopic(name, 1, 1)])
        finally:
            client.close()
        return name

    return make
