"""The security suite's hub: the worker and the API on the session's broker.

Both run as real processes (`python -m hub.cli worker|api`) under the
session's state dir, each with a private copy of the demo conventions (the
demo files stay untouched). The worker's copy also holds `caf33-forged`: the
CAF convention under another id, countersigned by the hub operator but
"signed for caf33" with France Travail's key. Tests change the API's copy
while it runs (expiry, replacement), which the worker never sees.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.stack import Stack
from tests.security.support import (
    DEMO,
    HUB_OPERATOR,
    demo_conventions,
    rewrite_convention,
    running_service,
)

FORGED_ID = "caf33-forged"


@pytest.fixture(scope="package")
def conventions_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = demo_conventions(tmp_path_factory.mktemp("conventions"))
    rewrite_convention(
        DEMO / "conventions" / "caf33.yaml",
        directory / f"{FORGED_ID}.yaml",
        {"id: caf33-obshub": f"id: {FORGED_ID}"},
        {HUB_OPERATOR: HUB_OPERATOR, "caf33": "francetravail33"},
    )
    return directory


@pytest.fixture(scope="package")
def worker_stack(kafka_stack: Stack, conventions_dir: Path) -> Stack:
    """The session's stack, the worker reading `conventions_dir`."""
    return Stack(kafka_stack.settings.model_copy(update={"conventions_dir": conventions_dir}))


@pytest.fixture(scope="package")
def api_stack(kafka_stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Stack:
    """The session's stack, the API reading a conventions directory of its own."""
    directory = demo_conventions(tmp_path_factory.mktemp("api-conventions"))
    return Stack(kafka_stack.settings.model_copy(update={"conventions_dir": directory}))


@pytest.fixture(scope="package")
def api(api_stack: Stack) -> Iterator[str]:
    """The access API's base URL, once its view has caught up with `indicators`."""
    with running_service(api_stack, "api"):
        yield api_stack.settings.api_url


@pytest.fixture(scope="package")
def worker(worker_stack: Stack) -> Iterator[Stack]:
    with running_service(worker_stack, "worker"):
        yield worker_stack
