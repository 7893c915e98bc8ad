"""The ingest core on real drops: accepted, repeated, rejected for each reason."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

import pytest

from hub.context import HubContext, load_context
from hub.drop_state import DropState, DropStatus
from hub.ingest import DropMessage, Outcome, expire_if_stale, ingest_message
from hub.settings import HubSettings
from hub.tables import selection_key
from tests.support.drops import build_drop, caf_record

NOW = dt.datetime(2026, 11, 1, 12, 5, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def ctx() -> HubContext:
    return load_context(HubSettings())


def run(
    ctx: HubContext,
    messages: Sequence[DropMessage],
    state: DropState | None = None,
    now: dt.datetime = NOW,
) -> tuple[list[Outcome], DropState | None]:
    outcomes = []
    for message in messages:
        outcome = ingest_message(ctx, message, state, now)
        if outcome.state is not None:
            state = outcome.state
        outcomes.append(outcome)
    return outcomes, state


def test_a_valid_drop_is_accepted_with_exact_counts(ctx: HubContext) -> None:
    records = [caf_record(i, iris="330630101" if i % 4 else "330690102") for i in range(250)]
    records.append(caf_record(999, iris="330630199"))  # well-formed, not in the territory
    outcomes, state = run(ctx, build_drop(records))
    assert [o.kind for o in outcomes] == ["header", "chunk", "chunk", "chunk", "trailer"]
    assert state is not None and state.status is DropStatus.ACCEPTED
    aggregate = outcomes[-1].aggregate
    assert aggregate is not None and aggregate.records == 250
    assert aggregate.rejected == {"outside_territory": 1}
    everyone = selection_key(ctx.indicators.get("caf_allocataires").numerator)  # type: ignore[union-attr]
    assert aggregate.counts[everyone] == {"330630101": 187.0, "330690102": 63.0}
    low_income = selection_key(ctx.indicators.get("caf_bas_revenus_part").numerator)  # type: ignore[union-attr]
    expected = sum(1 for r in records[:250] if r["bas_revenus"] == 1 and r["iris"] == "330630101")
    assert aggregate.counts[low_income]["330630101"] == expected
    assert not any(o.quarantine for o in outcomes)
    assert [(a.action, a.outcome) for o in outcomes for a in o.audit] == [("drop", "accepted")]


def test_a_redelivered_chunk_is_not_counted_twice(ctx: HubContext) -> None:
    messages = build_drop([caf_record(i) for i in range(200)])
    replayed = [messages[0], messages[1], messages[1], messages[2], messages[1], messages[3]]
    outcomes, state = run(ctx, replayed)
    assert [o.repeat for o in outcomes] == [False, False, True, False, True, False]
    assert outcomes[-1].aggregate is not None and outcomes[-1].aggregate.records == 200
    assert state is not None and state.messages == 6  # repeats are accounted, not counted


def test_the_same_drop_again_is_a_no_op(ctx: HubContext) -> None:
    messages = build_drop([caf_record(i) for i in range(50)])
    _, state = run(ctx, messages)
    outcomes, state = run(ctx, messages, state)
    assert all(o.repeat and o.aggregate is None and not o.quarantine for o in outcomes)
    assert state is not None and state.repeats == 1


def test_a_new_attempt_after_an_interrupted_one_completes(ctx: HubContext) -> None:
    first = build_drop([caf_record(i) for i in range(300)])
    second = build_drop([caf_record(i) for i in range(300)])  # new ephemeral key, same drop id
    outcomes, state = run(ctx, first[:2] + second)
    assert state is not None and state.status is DropStatus.ACCEPTED
    assert outcomes[-1].aggregate is not None and outcomes[-1].aggregate.records == 300


def rejection(outcomes: list[Outcome]) -> tuple[str, ...]:
    return tuple(q.reason for o in outcomes for q in o.quarantine)


def test_a_tampered_chunk_rejects_the_drop_and_publishes_nothing(ctx: HubContext) -> None:
    messages = build_drop([caf_record(i) for i in range(200)])
    value = bytearray(messages[1].value)
    value[-5] ^= 0x01
    messages[1] = dataclasses.replace(messages[1], value=bytes(value))
    outcomes, state = run(ctx, messages)
    assert state is not None and state.status is DropStatus.REJECTED and state.reason == "bad_seal"
    assert rejection(outcomes) == ("bad_seal", "drop_rejected", "drop_rejected")
    assert all(o.aggregate is None for o in outcomes)


def test_a_trailer_signed_by_another_partner_is_rejected(ctx: HubContext) -> None:
    outcomes, state = run(ctx, build_drop([caf_record(i) for i in range(20)], signer="insee"))
    assert state is not None and state.reason == "bad_signature"
    assert outcomes[-1].aggregate is None


def test_a_drop_replayed_on_another_partners_topic_is_rejected(ctx: HubContext) -> None:
    outcomes, state = run(ctx, build_drop([caf_record(1)], topic="drops.insee"))
    assert state is not None and state.reason == "partner_mismatch"
    assert rejection(outcomes)[0] == "partner_mismatch"


def test_a_drop_read_after_the_convention_expired_is_rejected(ctx: HubContext) -> None:
    # judged when the hub reads it, whatever time the drop claims for itself
    later = dt.datetime(2028, 1, 3, tzinfo=dt.UTC)
    outcomes, state = run(ctx, build_drop([caf_record(1)]), now=later)
    assert state is not None and state.reason == "convention_expired"
    assert "expired" in outcomes[0].quarantine[0].detail
    receipt = outcomes[0].receipt
    assert receipt is not None and not receipt.accepted
    assert receipt.reason == "convention_expired" and receipt.partner == "caf33"


def test_a_period_not_of_the_cadence_is_rejected(ctx: HubContext) -> None:
    _, state = run(ctx, build_drop([caf_record(1)], period="2026-Q4"))
    assert state is not None and state.reason == "bad_period"


def test_unknown_fingerprint_and_garbage_are_quarantined(ctx: HubContext) -> None:
    garbage = DropMessage("drops.caf33", 0, 7, b"k", b"\xc3\x01" + bytes(8) + b"xx")
    noise = DropMessage("drops.caf33", 0, 8, None, b"random bytes")
    outcomes, state = run(ctx, [garbage, noise])
    assert state is None
    assert rejection(outcomes) == ("unknown_fingerprint", "bad_marker")


def test_a_chunk_without_header_is_an_orphan(ctx: HubContext) -> None:
    messages = build_drop([caf_record(1)])
    outcomes, _ = run(ctx, messages[1:])
    assert rejection(outcomes) == ("orphan_chunk", "orphan_trailer")


def test_a_drop_whose_trailer_never_comes_expires(ctx: HubContext) -> None:
    _, state = run(ctx, build_drop([caf_record(i) for i in range(30)])[:-1])
    assert state is not None and state.status is DropStatus.OPEN
    assert expire_if_stale(state, NOW + dt.timedelta(seconds=30), timeout_s=60) is None
    expired = expire_if_stale(state, NOW + dt.timedelta(seconds=61), timeout_s=60)
    assert expired is not None and expired.state is not None
    assert expired.state.reason == "incomplete_drop" and expired.aggregate is None
    assert expired.quarantine[0].reason == "incomplete_drop"


def test_a_missing_chunk_fails_the_trailer(ctx: HubContext) -> None:
    messages = build_drop([caf_record(i) for i in range(300)])
    del messages[2]
    _, state = run(ctx, messages)
    assert state is not None and state.reason == "incomplete_drop"


def test_a_value_in_a_field_the_convention_drops_does_not_reject_the_drop(ctx: HubContext) -> None:
    records = [caf_record(i, quotient_familial=1200) for i in range(10)]
    outcomes, state = run(ctx, build_drop(records))
    assert state is not None and state.status is DropStatus.ACCEPTED
    assert outcomes[-1].aggregate is not None and outcomes[-1].aggregate.records == 10


def ccas_record(i: int, iris: str) -> dict[str, Any]:
    return {
        "id_demandeur": f"{i:064x}",
        "iris": iris,
        "type_aide": "alimentaire",
        "montant_eur": 50.0,
        "date_decision": None,
    }


def test_a_ccas_record_in_another_ccas_commune_is_rejected(ctx: HubContext) -> None:
    # the CCAS of Bordeaux covers 33063; 33069 is the CCAS of Le Bouscat's
    records = [ccas_record(i, "330630101" if i % 2 else "330690102") for i in range(40)]
    outcomes, state = run(
        ctx, build_drop(records, partner="ccas-bordeaux", dataset="ccas.aides", version=1)
    )
    assert state is not None and state.status is DropStatus.ACCEPTED
    aggregate = outcomes[-1].aggregate
    assert aggregate is not None and aggregate.records == 20
    assert aggregate.rejected == {"outside_convention_territory": 20}
    assert all(set(c) == {"330630101"} for c in aggregate.counts.values())


def test_records_are_counted_when_the_drop_is_accepted_and_receipted(ctx: HubContext) -> None:
    outcomes, closed = run(ctx, build_drop([caf_record(i) for i in range(150)]))
    assert [o.records_aggregated for o in outcomes] == [0, 0, 0, 150]
    receipts = [o.receipt for o in outcomes if o.receipt is not None]
    assert len(receipts) == 1 and receipts[0].accepted and receipts[0].records_aggregated == 150
    again, _ = run(ctx, build_drop([caf_record(i) for i in range(150)])[:1], state=closed)
    assert again[0].receipt is not None and again[0].receipt.repeat


def test_records_of_a_rejected_drop_are_never_counted_as_aggregated(ctx: HubContext) -> None:
    outcomes, state = run(ctx, build_drop([caf_record(i) for i in range(150)], signer="insee"))
    assert state is not None and state.reason == "bad_signature"
    assert sum(o.records_aggregated for o in outcomes) == 0
    assert outcomes[-1].records_rejected == {"drop_rejected": 150}
    receipt = outcomes[-1].receipt
    assert receipt is not None and not receipt.accepted and receipt.reason == "bad_signature"


def test_a_period_that_has_not_started_is_rejected(ctx: HubContext) -> None:
    outcomes, state = run(ctx, build_drop([caf_record(1)], period="2027-06"))
    assert state is not None and state.reason == "future_period"
    assert "2027-06" in outcomes[0].quarantine[0].detail


def test_a_convention_revoked_while_its_drop_is_open_rejects_the_drop() -> None:
    from contracts.keys import load_signing_key
    from contracts.revocation import Revocation

    ctx = load_context(HubSettings())  # its own: the revocation must not reach other tests
    messages = build_drop([caf_record(i) for i in range(150)])
    outcomes, state = run(ctx, messages[:-1])
    assert state is not None and state.status is DropStatus.OPEN
    key = load_signing_key(ctx.conventions.keys_dir / "hub-operator.key")  # type: ignore[operator]
    revocation = Revocation("caf33-obshub", 1, NOW, "fin", "hub-operator").signed(key)
    ctx.conventions.revocations = (revocation,)
    outcomes, state = run(ctx, messages[-1:], state)
    assert state is not None and state.reason == "convention_revoked"
    assert outcomes[-1].aggregate is None and outcomes[-1].records_aggregated == 0
