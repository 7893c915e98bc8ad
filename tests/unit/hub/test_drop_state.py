"""The typed drop state: what each status holds, and its JSON form in the worker's table."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.context import HubContext, load_context
from hub.drop_state import DropState, DropStatus
from hub.ingest import ingest_message
from hub.settings import HubSettings
from tests.support.drops import build_drop, caf_record

NOW = dt.datetime(2026, 11, 1, 12, 5, tzinfo=dt.UTC)
STAMP = NOW.timestamp()
IDENTITY = {
    "drop_id": "d" * 32,
    "partner": "caf33",
    "topic": "drops.caf33",
    "convention_id": "caf33-obshub",
    "convention_version": 1,
    "dataset": "caf.allocataires",
    "period": "2026-10",
}

# The dicts the dict-based ingest wrote (hub/ingest.py before DropState), key for key.
OPEN_BEFORE: dict[str, Any] = {
    "status": "open",
    **IDENTITY,
    "schema_version": 2,
    "header": "wwHEVjq3AAAA",
    "ephemeral_key": "ab" * 32,
    "digests": {"0": "01" * 32, "1": "02" * 32},
    "records_received": 200,
    "messages": 3,
    "opened_at": STAMP - 2.5,
    "last_seen": STAMP,
    "accumulator": {
        "aggregate": {**{k: v for k, v in IDENTITY.items() if k != "topic"}},
        "counts": {"all": {"330630101": 200.0}},
        "rejected": {},
        "records": 200,
        "sequences": [0, 1],
    },
}
# `_closed(state, ACCEPTED, ...)`, then `dict(state, repeats=...)` on a repeated header
ACCEPTED_BEFORE: dict[str, Any] = {
    "status": "accepted",
    **IDENTITY,
    "messages": 4,
    "closed_at": STAMP,
    "last_seen": STAMP,
    "records": 200,
    "repeats": 1,
}
# `_closed(state, REJECTED, ..., reason=..., detail=...)`: a drop that timed out
REJECTED_BEFORE: dict[str, Any] = {
    "status": "rejected",
    **IDENTITY,
    "messages": 3,
    "closed_at": STAMP,
    "last_seen": STAMP,
    "reason": "incomplete_drop",
    "detail": "no trailer within 60s of its last message",
}
# `_rejected_state`: a drop refused at its header (unknown convention: no labels)
REFUSED_BEFORE: dict[str, Any] = {
    "status": "rejected",
    "drop_id": "e" * 32,
    "partner": "caf33",
    "topic": "drops.caf33",
    "convention_id": "",
    "convention_version": 9,
    "dataset": "",
    "period": "2026-10",
    "reason": "unknown_convention",
    "detail": "convention nope v9 is not known to the hub",
    "messages": 1,
    "closed_at": STAMP,
    "last_seen": STAMP,
}


@pytest.mark.parametrize(
    "before",
    [OPEN_BEFORE, ACCEPTED_BEFORE, REJECTED_BEFORE, REFUSED_BEFORE],
    ids=["open", "accepted", "rejected", "refused_at_header"],
)
def test_a_state_the_dict_based_ingest_wrote_loads_and_is_written_back_the_same(
    before: dict[str, Any],
) -> None:
    state = DropState.from_json(before)
    assert type(state.status) is DropStatus and state.status == before["status"]
    assert (state.drop_id, state.messages, state.last_seen) == (
        before["drop_id"],
        before["messages"],
        before["last_seen"],
    )
    assert state.to_json() == before
    assert json.loads(json.dumps(state.to_json())) == before


def test_the_fields_of_each_status_are_read() -> None:
    opened = DropState.from_json(OPEN_BEFORE)
    assert opened.is_open and opened.schema_version == 2 and opened.records_received == 200
    assert opened.digests == {"0": "01" * 32, "1": "02" * 32} and opened.closed_at is None
    assert opened.accumulator["sequences"] == [0, 1]
    accepted = DropState.from_json(ACCEPTED_BEFORE)
    assert accepted.status is DropStatus.ACCEPTED and (accepted.records, accepted.repeats) == (
        200,
        1,
    )
    assert accepted.header == "" and accepted.digests == {} and accepted.closed_at == STAMP
    rejected = DropState.from_json(REJECTED_BEFORE)
    assert rejected.status is DropStatus.REJECTED and rejected.reason == "incomplete_drop"


def test_status_is_the_enum_and_its_json_a_plain_string() -> None:
    assert [s.value for s in DropStatus] == ["open", "accepted", "rejected"]
    state = DropState.from_json(REJECTED_BEFORE)
    assert state.status is DropStatus.REJECTED and state.status == "rejected"
    written = state.to_json()["status"]
    assert type(written) is str and written == "rejected"


def test_an_accepted_state_without_repeats_has_no_repeats_key() -> None:
    never_repeated = {k: v for k, v in ACCEPTED_BEFORE.items() if k != "repeats"}
    state = DropState.from_json(never_repeated)
    assert state.repeats == 0 and state.to_json() == never_repeated
    assert state.repeated().to_json() == dict(never_repeated, repeats=1)


def test_a_field_of_another_status_is_refused() -> None:
    opened = DropState.from_json(OPEN_BEFORE)
    with pytest.raises(ValueError, match="no reason"):
        dataclasses.replace(opened, reason="bad_seal")
    with pytest.raises(ValueError, match="closed_at"):
        DropState(DropStatus.ACCEPTED, **IDENTITY, messages=1, last_seen=STAMP)
    with pytest.raises(ValueError, match="without"):
        DropState.from_json({"status": "open", "drop_id": "x"})


def test_closing_keeps_who_and_what_and_drops_the_counts() -> None:
    opened = DropState.from_json(OPEN_BEFORE)
    later = NOW + dt.timedelta(seconds=5)
    closed = opened.closed(
        DropStatus.REJECTED, later, opened.messages + 1, reason="bad_seal", detail="chunk 2"
    )
    assert closed.to_json() == {
        "status": "rejected",
        **IDENTITY,
        "messages": 4,
        "closed_at": later.timestamp(),
        "last_seen": later.timestamp(),
        "reason": "bad_seal",
        "detail": "chunk 2",
    }
    assert closed.counted().messages == 5 and closed.counted().last_seen == later.timestamp()
    touched = opened.touched(later)
    assert (touched.messages, touched.last_seen) == (4, later.timestamp())


def test_only_an_open_state_goes_stale() -> None:
    opened = DropState.from_json(OPEN_BEFORE)
    assert not opened.is_stale(NOW + dt.timedelta(seconds=59), 60)
    assert opened.is_stale(NOW + dt.timedelta(seconds=60), 60)
    assert not DropState.from_json(REJECTED_BEFORE).is_stale(NOW + dt.timedelta(days=1), 60)


# -- round trips --------------------------------------------------------------

texts = st.text(max_size=40)
counts = st.integers(min_value=0, max_value=2**40)
stamps = st.floats(min_value=0, max_value=4e9, allow_nan=False)
identities = st.fixed_dictionaries(
    {
        "drop_id": texts,
        "partner": texts,
        "topic": texts,
        "convention_id": texts,
        "convention_version": counts,
        "dataset": texts,
        "period": texts,
        "messages": counts,
        "last_seen": stamps,
    }
)
json_values = st.recursive(
    st.none() | st.booleans() | counts | stamps | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)


@st.composite
def states(draw: st.DrawFn) -> DropState:
    status = draw(st.sampled_from(DropStatus))
    identity = draw(identities)
    if status is DropStatus.OPEN:
        return DropState(
            status,
            **identity,
            schema_version=draw(counts),
            header=draw(st.binary(max_size=30).map(lambda b: base64.b64encode(b).decode())),
            ephemeral_key=draw(st.binary(min_size=32, max_size=32).map(bytes.hex)),
            digests=draw(
                st.dictionaries(counts.map(str), st.binary(min_size=32, max_size=32).map(bytes.hex))
            ),
            records_received=draw(counts),
            opened_at=draw(stamps),
            accumulator=draw(st.dictionaries(texts, json_values, max_size=4)),
        )
    if status is DropStatus.ACCEPTED:
        return DropState(
            status, **identity, closed_at=draw(stamps), records=draw(counts), repeats=draw(counts)
        )
    return DropState(
        status, **identity, closed_at=draw(stamps), reason=draw(texts), detail=draw(texts)
    )


@settings(max_examples=200)
@given(states())
def test_a_state_survives_its_json_form(state: DropState) -> None:
    assert DropState.from_json(state.to_json()) == state
    assert DropState.from_json(json.loads(json.dumps(state.to_json()))) == state


@pytest.fixture(scope="module")
def ctx() -> HubContext:
    return load_context(HubSettings())


@pytest.mark.parametrize("signer", ["caf33", "insee"], ids=["accepted", "rejected"])
def test_a_drop_read_through_the_table_ends_as_one_read_in_memory(
    ctx: HubContext, signer: str
) -> None:
    """The worker stores each state as JSON and reads it back before the next message."""
    messages = build_drop([caf_record(i) for i in range(250)], signer=signer)
    kept: DropState | None = None
    stored: dict[str, Any] | None = None
    for message in messages:
        outcome = ingest_message(ctx, message, kept, NOW)
        through = ingest_message(ctx, message, DropState.from_json(stored) if stored else None, NOW)
        assert through.state is not None and outcome.state == through.state
        assert through.aggregate == outcome.aggregate and through.receipt == outcome.receipt
        kept, stored = outcome.state, json.loads(json.dumps(through.state.to_json()))
    assert stored is not None and stored["status"] == (
        "accepted" if signer == "caf33" else "rejected"
    )
