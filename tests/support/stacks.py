"""Private stacks: a broker and hub processes of a test module's own.

A module whose faults (a broker stopped, conventions rewritten, a short
drop timeout) must not reach the session broker other suites share builds
its own stack under a temporary state dir, with the settings it needs, and
stops it at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hub.stack import Stack
from tests.conftest import stack_settings
from tests.support.published import DEMO, INSEE_YEAR, insee_extracts
from tests.support.wire import build_extract_drop, produce


@contextmanager
def private_stack(
    state_dir: Path, services: tuple[str, ...] = ("worker",), **settings: Any
) -> Iterator[Stack]:
    """A broker and the hub's `services` of our own; `settings` override the defaults."""
    stack = Stack(stack_settings(state_dir).model_copy(update=settings))
    try:
        stack.up(with_services=False)
        stack.start_services(services)
        yield stack
    finally:
        stack.down()


def publish_insee(stack: Stack, scratch: Path) -> dict[str, Path]:
    """The demo territory's households and population, as insee: the denominators."""
    extracts = insee_extracts(scratch)
    for dataset, path in extracts.items():
        convention = DEMO / "conventions" / "insee.yaml"
        _, sent = build_extract_drop(stack, convention, path, INSEE_YEAR, dataset)
        produce(stack.credentials.get("insee"), sent)
    return extracts
