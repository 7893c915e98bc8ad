"""Drops that do not arrive one after the other, and a drop that never ends.

The worker of this module's private stack gives up on an open drop after
`DROP_TIMEOUT_S` seconds without a message (OBSHUB_DROP_TIMEOUT_S, 600 s by
default), so an abandoned drop is seen to end within the test.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from contracts.principals import AGGREGATES_TOPIC, AUDIT_TOPIC
from hub.stack import Stack
from tests.support.published import (
    CAF_INDICATORS,
    CCAS_INDICATORS,
    DEMO,
    expected,
    problems,
    rows_of_period,
    write_extract,
)
from tests.support.stacks import private_stack, publish_insee
from tests.support.wire import (
    build_extract_drop,
    by_drop,
    decoded,
    indicator_rows,
    produce,
    quarantine_events,
    wait_until,
)

pytestmark = pytest.mark.integration
DROP_TIMEOUT_S = 5.0
MAY, JUNE, JULY = "2026-05", "2026-06", "2026-07"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    directory = tmp_path_factory.mktemp("lifecycle")
    with private_stack(directory, drop_timeout_s=DROP_TIMEOUT_S) as stack:
        yield stack


@pytest.fixture(scope="module")
def insee(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return publish_insee(stack, tmp_path_factory.mktemp("insee"))


def test_drops_of_two_partners_interleaved_are_each_accepted_exactly(
    stack: Stack, insee: dict[str, Path], tmp_path: Path
) -> None:
    """A caf33 drop and a ccas-bordeaux drop, message by message in turn, plus a
    second caf33 drop of another month woven into the same topic, one of whose
    chunks comes twice: each drop is accepted once and counted once."""
    conventions = DEMO / "conventions"
    caf_may = write_extract(tmp_path, "caf.allocataires", 2000, MAY, seed=51)
    caf_june = write_extract(tmp_path, "caf.allocataires", 1500, JUNE, seed=52)
    ccas_may = write_extract(tmp_path, "ccas.aides", 1500, MAY, seed=53)
    drops = [
        build_extract_drop(stack, conventions / "caf33.yaml", caf_may, MAY, chunk_size=200),
        build_extract_drop(
            stack, conventions / "ccas-bordeaux.yaml", ccas_may, MAY, chunk_size=150
        ),
        build_extract_drop(stack, conventions / "caf33.yaml", caf_june, JUNE, chunk_size=250),
    ]
    assert all(len(sent) >= 8 for _, sent in drops)
    june = drops[2][1]
    june[5:5] = [june[2]]  # its second chunk redelivered, as at-least-once delivery may
    woven = [m for turn in itertools.zip_longest(*(s for _, s in drops)) for m in turn if m]
    assert woven[:3] == [sent[0] for _, sent in drops]  # three headers first, then turns
    produce(stack.admin_credentials(), woven)

    in_may = expected({"caf.allocataires": caf_may, "ccas.aides": ccas_may, **insee}, tmp_path)
    in_june = expected({"caf.allocataires": caf_june, **insee}, tmp_path)

    def mismatches() -> list[str]:
        rows = indicator_rows(stack)
        return problems(rows, in_may, (*CAF_INDICATORS, *CCAS_INDICATORS), MAY) + problems(
            rows, in_june, CAF_INDICATORS, JUNE
        )

    wait_until(lambda: not mismatches(), 90, "the interleaved drops' indicators", every_s=2)
    audit = decoded(stack.admin_credentials(), AUDIT_TOPIC)
    quarantined = quarantine_events(stack)
    for report, _ in drops:
        assert [e["outcome"] for e in by_drop(audit, report.drop_id)] == ["accepted"]
        assert by_drop(quarantined, report.drop_id) == []


def test_a_drop_whose_trailer_never_comes_is_rejected_and_publishes_nothing(
    stack: Stack, insee: dict[str, Path], tmp_path: Path
) -> None:
    extract = write_extract(tmp_path, "caf.allocataires", 1200, JULY, seed=54)
    report, sent = build_extract_drop(
        stack, DEMO / "conventions" / "caf33.yaml", extract, JULY, chunk_size=200
    )
    *body, trailer = sent
    produce(stack.admin_credentials(), body)  # the connector died before its trailer

    def incomplete() -> list[dict]:
        return [
            e
            for e in by_drop(quarantine_events(stack), report.drop_id)
            if e["reason"] == "incomplete_drop"
        ]

    (event,) = wait_until(incomplete, 30 + DROP_TIMEOUT_S, "the incomplete_drop event")
    assert re.search(rf"\b{len(body)} message\(s\) rejected", event["detail"]), event["detail"]
    audit = by_drop(decoded(stack.admin_credentials(), AUDIT_TOPIC), report.drop_id)
    assert [(e["outcome"], e["reason"]) for e in audit] == [("rejected", "incomplete_drop")]

    # the trailer turns up after all: it is quarantined with the drop it belongs to
    produce(stack.admin_credentials(), [trailer])

    def late() -> list[dict]:
        return [
            e
            for e in by_drop(quarantine_events(stack), report.drop_id)
            if e["reason"] == "drop_rejected"
        ]

    wait_until(late, 30, "the late trailer's quarantine event")
    # nothing of it was aggregated nor published
    aggregates = decoded(stack.admin_credentials(), AGGREGATES_TOPIC)
    assert by_drop(aggregates, report.drop_id) == []
    assert rows_of_period(indicator_rows(stack), JULY) == []
