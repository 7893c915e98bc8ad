"""Logging state for tests that configure it: restored afterwards (the test
process is shared by every test)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

CLIENT_LOGGERS = ("kafka", "aiokafka")


@contextmanager
def restored_logging(client_level: int | None = None) -> Iterator[None]:
    """The root logger's handlers and level and the Kafka clients' levels as they
    were; `client_level` sets the clients' level meanwhile."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    clients = {name: logging.getLogger(name).level for name in CLIENT_LOGGERS}
    if client_level is not None:
        for name in clients:
            logging.getLogger(name).setLevel(client_level)
    try:
        yield
    finally:
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)
        root.setLevel(level)
        for name, was in clients.items():
            logging.getLogger(name).setLevel(was)
