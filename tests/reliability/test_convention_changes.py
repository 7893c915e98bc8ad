"""Conventions change under a running worker.

The worker of this module's private stack reads its conventions from a
temporary directory and reloads them when a file changes (every
`OBSHUB_CONVENTIONS_POLL_S`, 3 s). The partner keeps its own, pristine
copies (`partner_dir`) and publishes with the real connector; the hub's
copies are what the test changes:

- a new version (a renewal, signed by both parties with the demo keys) is
  applied without a restart and takes over: a drop sent under the old
  version's copy is rejected as `convention_superseded`;
- a file tampered with (its disclosure threshold lowered, signatures left as
  they were) is a draft, never applied: drops under it are rejected, and
  releases of drops accepted under it before the tampering keep the signed
  rules;
- a convention whose validity ended at the last midnight: a drop is judged
  when the hub reads it, so one created before the end and read after it
  is rejected as `convention_expired` (hub/ingest.py `verify_header`).

Each change ends with an unsigned probe convention of a new id written last,
so the reload is seen in the worker's metrics rather than waited for blindly.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from contracts.loading import load_convention
from contracts.principals import AGGREGATES_TOPIC, AUDIT_TOPIC
from hub.stack import Stack
from tests.support.conventions import ended_yesterday, tamper, variant, write_probe, write_signed
from tests.support.drops import build_drop, caf_record
from tests.support.published import (
    CAF_INDICATORS,
    DEMO,
    expected,
    problems,
    rows_of_period,
    write_extract,
)
from tests.support.stacks import private_stack, publish_insee
from tests.support.wire import (
    Sent,
    build_extract_drop,
    by_drop,
    decoded,
    indicator_rows,
    produce,
    quarantine_events,
    scrape,
    total,
    wait_until,
)

pytestmark = pytest.mark.integration
V2_MONTH, V1_MONTH, LATER_MONTH = "2026-09", "2026-10", "2026-11"
BEFORE_END_MONTH, AFTER_END_MONTH, TAMPERED_MONTH = "2025-11", "2025-12", "2026-02"


@dataclass(frozen=True)
class Drop:
    drop_id: str
    messages: int


@dataclass(frozen=True)
class Hub:
    stack: Stack
    hub_dir: Path  # what the worker reads
    partner_dir: Path  # what caf33's connector reads
    insee: dict[str, Path]
    scratch: Path

    def wait_for_reload(self, name: str) -> None:
        probe = write_probe(self.hub_dir, name)
        url = self.stack.settings.metrics_url

        def seen() -> bool:
            return total(scrape(url), "obshub_convention_valid_until_seconds", convention=probe) > 0

        wait_until(seen, 40, f"the worker to reload its conventions ({name})")

    def publish(self, convention: str, month: str, seed: int, **kw: Any) -> tuple[Drop, Path]:
        """An extract of caf33 under `partner_dir/<convention>`, through the connector."""
        extract = write_extract(self.scratch, "caf.allocataires", 1500, month, seed)
        report, sent = build_extract_drop(
            self.stack, self.partner_dir / convention, extract, month, **kw
        )
        produce(self.stack.credentials.get("caf33"), sent)
        return Drop(report.drop_id, len(sent)), extract

    def wait_for_rows(self, extract: Path, month: str) -> None:
        rows_expected = expected({"caf.allocataires": extract, **self.insee}, self.scratch)
        wait_until(
            lambda: not problems(indicator_rows(self.stack), rows_expected, CAF_INDICATORS, month),
            90,
            f"the indicators of {month}",
            every_s=2,
        )

    def rejection(self, drop: Drop) -> dict[str, Any]:
        """The quarantine event of a drop refused at its header; each of its
        other messages is quarantined as part of it."""
        events = wait_until(
            lambda: (
                len(q := by_drop(quarantine_events(self.stack), drop.drop_id)) >= drop.messages
                and q
            ),
            60,
            f"the {drop.messages} messages of {drop.drop_id} quarantined",
        )
        first, *rest = sorted(events, key=lambda e: e["offset"])
        assert len(rest) == drop.messages - 1
        assert {e["reason"] for e in rest} == {"drop_rejected"}
        audit = by_drop(decoded(self.stack.admin_credentials(), AUDIT_TOPIC), drop.drop_id)
        assert [(e["outcome"], e["reason"]) for e in audit] == [("rejected", first["reason"])]
        return first


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """A worker on a copy of the demo conventions, with three new caf33 files installed:
    v2 (a renewal), v3 (ended at the last midnight), v4 (tampered in the hub's copy)."""
    hub_dir = tmp_path_factory.mktemp("hub-conventions")
    partner_dir = tmp_path_factory.mktemp("partner-conventions")
    for path in (DEMO / "conventions").glob("*.yaml"):
        shutil.copy(path, hub_dir / path.name)
    shutil.copy(DEMO / "conventions" / "caf33.yaml", partner_dir / "caf33.yaml")
    state = tmp_path_factory.mktemp("conventions-stack")
    with private_stack(state, conventions_dir=hub_dir) as stack:
        scratch = tmp_path_factory.mktemp("extracts")
        hub = Hub(stack, hub_dir, partner_dir, publish_insee(stack, scratch), scratch)
        renewal = variant("caf33", version=2, valid_until=dt.date(2028, 12, 31))
        ending = variant("caf33", version=3, valid_until=ended_yesterday())
        for name, text in (("caf33-v2.yaml", renewal), ("caf33-v3.yaml", ending)):
            write_signed(partner_dir / name, text)
            shutil.copy(partner_dir / name, hub_dir / name)
        write_signed(partner_dir / "caf33-v4.yaml", variant("caf33", version=4))
        shutil.copy(partner_dir / "caf33-v4.yaml", hub_dir / "caf33-v4.yaml")
        tamper(hub_dir / "caf33-v4.yaml", k=2)
        hub.wait_for_reload("installed")
        yield hub


def test_a_new_version_is_applied_while_running_and_takes_over(hub: Hub) -> None:
    renewed, renewed_extract = hub.publish("caf33-v2.yaml", V2_MONTH, seed=71)
    hub.wait_for_rows(renewed_extract, V2_MONTH)
    aggregates = decoded(hub.stack.admin_credentials(), AGGREGATES_TOPIC)
    assert [a["convention_version"] for a in by_drop(aggregates, renewed.drop_id)] == [2]
    old, _ = hub.publish("caf33.yaml", V1_MONTH, seed=72)
    event = hub.rejection(old)
    assert event["reason"] == "convention_superseded" and "v2" in event["detail"]
    assert rows_of_period(indicator_rows(hub.stack), V1_MONTH) == []


def test_drops_under_a_tampered_file_are_rejected(hub: Hub) -> None:
    drop, _ = hub.publish("caf33-v4.yaml", TAMPERED_MONTH, seed=73)
    event = hub.rejection(drop)
    assert event["reason"] == "convention_not_applicable"
    assert "does not verify" in event["detail"]
    assert rows_of_period(indicator_rows(hub.stack), TAMPERED_MONTH) == []


def test_a_convention_that_ended_is_judged_when_the_hub_reads_the_drop(hub: Hub) -> None:
    """Created before the end, read after it: rejected, as one created now."""
    ends_at = load_convention(hub.hub_dir / "caf33-v3.yaml").validity.ends_at
    assert ends_at <= dt.datetime.now(dt.UTC)
    created = ends_at - dt.timedelta(minutes=1)
    early, _ = hub.publish("caf33-v3.yaml", BEFORE_END_MONTH, seed=74, now=created)
    event = hub.rejection(early)
    assert event["reason"] == "convention_expired"
    assert rows_of_period(indicator_rows(hub.stack), BEFORE_END_MONTH) == []

    late = build_drop(
        [caf_record(i) for i in range(300)],
        period=AFTER_END_MONTH,
        drop_id="e" * 32,
        created=dt.datetime.now(dt.UTC),
        convention_file=hub.partner_dir / "caf33-v3.yaml",
    )
    produce(hub.stack.credentials.get("caf33"), [Sent(m.topic, m.key, m.value) for m in late])
    event = hub.rejection(Drop("e" * 32, len(late)))
    assert event["reason"] == "convention_expired" and "expired" in event["detail"]
    assert rows_of_period(indicator_rows(hub.stack), AFTER_END_MONTH) == []


def test_a_file_tampered_while_in_use_loosens_nothing(hub: Hub) -> None:
    """v2 carried the drop of V2_MONTH; its file now says k = 2. New drops under it
    are rejected, and the next CAF drop, which re-releases every CAF period, must
    not publish V2_MONTH's small cells."""
    hub.wait_for_rows(hub.scratch / f"caf.allocataires-{V2_MONTH}-71.csv", V2_MONTH)
    before = {k: r["release_id"] for k, r in indicator_rows(hub.stack).items() if k[1] == V2_MONTH}
    tamper(hub.hub_dir / "caf33-v2.yaml", k=2)
    hub.wait_for_reload("tampered")

    drop, _ = hub.publish("caf33-v2.yaml", TAMPERED_MONTH, seed=75)
    assert hub.rejection(drop)["reason"] == "convention_not_applicable"

    _, later = hub.publish("caf33.yaml", LATER_MONTH, seed=76)
    hub.wait_for_rows(later, LATER_MONTH)
    rows = indicator_rows(hub.stack)
    renewed_expected = expected(
        {"caf.allocataires": hub.scratch / f"caf.allocataires-{V2_MONTH}-71.csv", **hub.insee},
        hub.scratch,
    )
    assert problems(rows, renewed_expected, CAF_INDICATORS, V2_MONTH) == []
    assert {k: r["release_id"] for k, r in rows.items() if k[1] == V2_MONTH} == before
