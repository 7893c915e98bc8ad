"""The access API killed with SIGKILL and started again serves the same rows.

The API keeps no state of its own: a new process rebuilds its view from the
`indicators` topic and reads the tokens' hashes from the state dir. Real
drops go through the worker first, so the view holds real releases (secret
cells included); the responses of every consented indicator, at both
levels, in JSON and CSV, must be byte for byte the same after the restart.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hub.api.tokens import TokenStore
from hub.stack import Stack, processes
from hub.stack.services import services
from tests.support.published import (
    CAF_INDICATORS,
    CCAS_INDICATORS,
    DEMO,
    expected,
    problems,
    write_extract,
)
from tests.support.stacks import private_stack, publish_insee
from tests.support.wire import build_extract_drop, indicator_rows, produce, wait_until

pytestmark = pytest.mark.integration
MONTH = "2026-08"
CONSUMERS = ("observatoire-bordeaux", "agora-le-bouscat")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Worker and API on a private broker, with one month of CAF and CCAS drops published."""
    directory = tmp_path_factory.mktemp("api-restart")
    scratch = tmp_path_factory.mktemp("extracts")
    with private_stack(directory) as stack:
        extracts = publish_insee(stack, scratch)
        for dataset, partner, rows in (
            ("caf.allocataires", "caf33", 3000),
            ("ccas.aides", "ccas-bordeaux", 1500),
        ):
            extracts[dataset] = write_extract(scratch, dataset, rows, MONTH, seed=61)
            convention = DEMO / "conventions" / f"{partner}.yaml"
            _, sent = build_extract_drop(stack, convention, extracts[dataset], MONTH)
            produce(stack.credentials.get(partner), sent)
        rows_expected = expected(extracts, scratch)
        wait_until(
            lambda: (
                not problems(
                    indicator_rows(stack), rows_expected, (*CAF_INDICATORS, *CCAS_INDICATORS), MONTH
                )
            ),
            90,
            "the month's indicators",
            every_s=2,
        )
        stack.start_services(("api",))
        yield stack


def snapshot(url: str, tokens: dict[str, str]) -> dict[tuple[str, ...], tuple[int, str]]:
    """Every answer a consumer can get about this month: (status, body) by request."""
    answers: dict[tuple[str, ...], tuple[int, str]] = {}
    with httpx.Client(base_url=url, timeout=30) as client:
        for consumer, token in tokens.items():
            headers = {"Authorization": f"Bearer {token}"}
            listing = client.get("/v1/indicators", headers=headers)
            answers[(consumer, "list")] = (listing.status_code, listing.text)
            for indicator in (*CAF_INDICATORS, *CCAS_INDICATORS):
                for level in ("iris", "commune"):
                    for fmt in ("json", "csv"):
                        params = {"period": MONTH, "level": level, "format": fmt}
                        answer = client.get(
                            f"/v1/indicators/{indicator}", params=params, headers=headers
                        )
                        answers[(consumer, indicator, level, fmt)] = (
                            answer.status_code,
                            answer.text,
                        )
    return answers


def test_the_api_killed_and_restarted_serves_the_same_rows(stack: Stack, tmp_path: Path) -> None:
    store = TokenStore(stack.settings.access_dir)
    tokens = {consumer: store.issue(consumer).token for consumer in CONSUMERS}
    url = stack.settings.api_url
    api = services(stack.settings)["api"]
    pid = api.running_pid()
    assert pid is not None
    before = snapshot(url, tokens)
    served = [k for k, (status, _) in before.items() if status == 200 and k[-1] == "json"]
    assert len(served) >= 2 * len(CAF_INDICATORS), "the API should serve this month's rows"
    assert any(status == 403 for status, _ in before.values()), "and deny some of them"
    assert any('"secret"' in body for status, body in before.values() if status == 200)

    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not processes.is_alive(pid), 10, "the API to die", every_s=0.1)
    assert api.running_pid() is None
    # the kernel releases the dead process's listening port a moment later
    port = stack.settings.api_port
    wait_until(lambda: processes.port_is_free("127.0.0.1", port), 10, "the port", every_s=0.1)
    stack.start_services(("api",))  # waits until /healthz: the view has caught up
    assert api.running_pid() not in (None, pid)

    after = snapshot(url, tokens)
    changed = sorted(k for k in before if before[k] != after.get(k))
    assert changed == [], f"answers differ after the restart: {changed[:5]}"
