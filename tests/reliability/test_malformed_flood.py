"""A flood of malformed messages on a partner topic, around one valid drop.

Some three thousand messages drawn with hypothesis (tests/support/malformed.py:
random bytes, truncated and re-fingerprinted copies of real messages, valid
Avro protocol messages with absurd values, oversized chunks and headers) are
produced as admin on `drops.caf33`, with the messages of one real drop
spread among them. The worker must stay up, quarantine every malformed
message once with a reason, accept the valid drop with exact indicators,
and account for every message it read:

    messages read = messages of accepted drops + messages quarantined + repeats

Here every malformed message is quarantined on its own (none of them opens
a drop, so none is folded into a drop-level rejection) and nothing is
repeated, so the identity is checked with repeats = 0, both on the worker's
counters and message by message on `hub.quarantine` (topic, partition, offset).
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contracts.loading import load_convention
from contracts.principals import AUDIT_TOPIC
from hub.stack import Stack
from hub.stack.services import services
from schemas.catalog import load_catalog
from tests.support import malformed as fuzz
from tests.support.drops import build_drop, caf_record
from tests.support.published import CAF_INDICATORS, DEMO, expected, problems, write_extract
from tests.support.stacks import private_stack, publish_insee
from tests.support.wire import (
    Sent,
    build_extract_drop,
    by_drop,
    decoded,
    end_offsets,
    indicator_rows,
    produce,
    quarantine_events,
    read_topic,
    scrape,
    total,
    wait_until,
)

pytestmark = pytest.mark.integration
MONTH = "2026-04"
TOPIC = "drops.caf33"
SEED = 20261104
FAMILIES = {  # family: how many to draw
    "random_bytes": 500,
    "truncated": 400,
    "wrong_fingerprint": 300,
    "absurd_chunk": 600,
    "absurd_trailer": 400,
    "absurd_header": 600,
    "foreign_message": 200,
    "oversized_chunk": 2,
    "oversized_header": 1,
}
MAX_VALUE_BYTES = 1_048_000  # the broker's message.max.bytes (1,048,588) less a batch's overhead
READ = "obshub_drop_messages_total"
CHANGELOG = "obshub-hub-drop-states-changelog"
KNOWN_CONVENTIONS = sorted(load_convention(p).id for p in (DEMO / "conventions").glob("*.yaml"))


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with private_stack(tmp_path_factory.mktemp("flood")) as stack:
        yield stack


@pytest.fixture(scope="module")
def insee(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return publish_insee(stack, tmp_path_factory.mktemp("insee"))


def draw_flood(valid: list[Sent]) -> list[fuzz.Malformed]:
    """FAMILIES' counts of each family, drawn with fixed seeds, in one fixed shuffle.

    Copies of real messages (truncated, re-fingerprinted) are cut from the
    valid drop and from a decoy drop that is never published whole; their
    bytes differ between runs only by the drops' random keys."""
    catalog = load_catalog()
    valid_id = valid[0].key.decode() if valid[0].key else ""
    decoy_id = "d" * 32
    records = [caf_record(i) for i in range(60)]
    decoy = [(m.key, m.value) for m in build_drop(records, 20, drop_id=decoy_id)]
    templates = [(m.key, m.value) for m in valid] + decoy
    exclude = [valid_id, decoy_id]
    strategies = {
        "random_bytes": fuzz.random_bytes(),
        "truncated": fuzz.truncated(templates),
        "wrong_fingerprint": fuzz.wrong_fingerprint(decoy, catalog),
        "absurd_chunk": fuzz.absurd_chunk(catalog, exclude),
        "absurd_trailer": fuzz.absurd_trailer(catalog, exclude),
        "absurd_header": fuzz.absurd_header(catalog, KNOWN_CONVENTIONS, exclude),
        "foreign_message": fuzz.foreign_message(catalog, exclude),
        "oversized_chunk": fuzz.oversized_chunk(catalog, exclude, MAX_VALUE_BYTES),
        "oversized_header": fuzz.oversized_header(catalog, exclude, MAX_VALUE_BYTES),
    }
    drawn: list[fuzz.Malformed] = []
    for index, (family, count) in enumerate(FAMILIES.items()):
        drawn += fuzz.generate(strategies[family], count, SEED + index)
    random.Random(SEED).shuffle(drawn)  # families mix on the topic as in a real storm
    return drawn


def interleave(valid: list[Sent], flood: list[fuzz.Malformed]) -> list[Sent | fuzz.Malformed]:
    """The flood with the valid drop's messages spread evenly through it, in order."""
    step = len(flood) // (len(valid) + 1)
    out: list[Sent | fuzz.Malformed] = []
    for i, bad in enumerate(flood):
        if i % step == step // 2 and i // step < len(valid):
            out.append(valid[i // step])
        out.append(bad)
    return out


def sent(message: Sent | fuzz.Malformed) -> Sent:
    return message if isinstance(message, Sent) else Sent(TOPIC, message.key, message.value)


def test_a_flood_of_malformed_messages_is_quarantined_and_accounted(
    stack: Stack, insee: dict[str, Path], tmp_path: Path
) -> None:
    extract = write_extract(tmp_path, "caf.allocataires", 3000, MONTH, seed=41)
    report, valid = build_extract_drop(
        stack, DEMO / "conventions" / "caf33.yaml", extract, MONTH, chunk_size=300
    )
    flood = draw_flood(valid)
    stream = interleave(valid, flood)
    assert len(stream) == len(valid) + len(flood) > 3000
    worker = services(stack.settings)["worker"]
    worker_pid = worker.running_pid()
    admin = stack.admin_credentials()
    url = stack.settings.metrics_url
    before = scrape(url)
    start = end_offsets(admin, TOPIC)

    placed = produce(admin, [sent(m) for m in stream])
    bad = {
        (p.partition, p.offset): m
        for m, p in zip(stream, placed, strict=True)
        if isinstance(m, fuzz.Malformed)
    }
    good = {(p.partition, p.offset) for m, p in zip(stream, placed, strict=True) if m in valid}

    def read_so_far() -> float:
        return total(scrape(url), READ, partner="caf33") - total(before, READ, partner="caf33")

    wait_until(lambda: read_so_far() >= len(stream), 120, "the worker to read the flood")

    def ours() -> list[dict[str, Any]]:
        return [
            e
            for e in quarantine_events(stack)
            if e["topic"] == TOPIC and e["offset"] >= start[e["partition"]]
        ]

    events = wait_until(lambda: len(q := ours()) >= len(bad) and q, 60, "quarantine events")

    # the worker stayed up: the same process, its metrics answering
    assert worker.running_pid() == worker_pid
    after = scrape(url)

    # every malformed message quarantined exactly once, with a reason; no valid one
    where = Counter((e["partition"], e["offset"]) for e in events)
    assert set(where) == set(bad), "the quarantined messages are not the malformed ones"
    assert max(where.values()) == 1 and not good & set(where)
    assert all(e["reason"] and e["detail"] for e in events)
    families = Counter(bad[(e["partition"], e["offset"])].family for e in events)
    assert families == Counter(FAMILIES)

    # the accounting, on the worker's own counters: read = accepted + quarantined + repeats (0)
    def delta(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    on_topic = sum(end_offsets(admin, TOPIC).values()) - sum(start.values())
    read = delta(READ, partner="caf33")
    quarantined = delta("obshub_quarantine_messages_total", partner="caf33")
    in_accepted_drop = 1 + report.chunks + 1  # its header, chunks and trailer
    assert on_topic == read == len(stream) and quarantined == len(flood)
    assert read == in_accepted_drop + quarantined + 0
    assert delta("obshub_drops_total", partner="caf33", outcome="accepted") == 1
    audit = by_drop(decoded(admin, AUDIT_TOPIC), report.drop_id)
    assert [(e["action"], e["outcome"]) for e in audit] == [("drop", "accepted")]

    # noise mints no time series: labels only take values the hub knows
    for (name, labels), _ in after.items():
        if name.startswith("obshub_drop"):
            assert dict(labels).get("convention", "") in {"", *KNOWN_CONVENTIONS}, name
            assert dict(labels).get("dataset", "") in {"", *load_catalog().datasets()}, name

    # a refused header's state reached the table's changelog (keys are JSON
    # strings), so a restarted worker recovers it: it was not too large to write
    persisted = {r.key for r in read_topic(admin, CHANGELOG)}
    refused = [m.key for m in flood if m.family == "oversized_header" and m.key]
    assert refused and all(json.dumps(key.decode()).encode() in persisted for key in refused)

    # the valid drop's indicators are exact
    rows_expected = expected({"caf.allocataires": extract, **insee}, tmp_path)
    wait_until(
        lambda: not problems(indicator_rows(stack), rows_expected, CAF_INDICATORS, MONTH),
        60,
        "the valid drop's indicators",
        every_s=2,
    )
