"""The audit trail's chain: every edit, removal, insertion or reordering is caught."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.audit import (
    API_PARTITION,
    WORKER_PARTITION,
    AuditChain,
    Stored,
    access_event,
    drop_event,
    verify_chain,
)
from schemas.catalog import load_catalog
from schemas.codec import decode_message, encode_message

CATALOG = load_catalog()
SCHEMA = CATALOG.protocol("audit_event")
AT = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
OPERATOR = Ed25519PrivateKey.generate()


def chain_of(
    count: int, partition: int = WORKER_PARTITION, sign_every: int = 4, name: str = "hub-1"
) -> list[Stored]:
    chain = AuditChain(partition, "hub", SCHEMA, chain=name)
    values = []
    for i in range(count):
        event = drop_event("accepted", "caf33", f"drop{i}", "caf33-obshub", "caf.allocataires", AT)
        values.append(chain.link(event))
        if (i + 1) % sign_every == 0:
            values.append(chain.sign_head(OPERATOR, AT))
    return [Stored(partition, offset, v) for offset, v in enumerate(values)]


def verdict_of(messages: list[Stored], key: Ed25519PrivateKey = OPERATOR) -> str:
    return verify_chain(messages, CATALOG, key.public_key()).line()


def edited(message: Stored, **changes: object) -> Stored:
    _, record = decode_message(CATALOG, message.value)
    return Stored(message.partition, message.offset, encode_message(SCHEMA, {**record, **changes}))


def renumbered(messages: list[Stored]) -> list[Stored]:
    return [Stored(m.partition, i, m.value) for i, m in enumerate(messages)]


def test_a_whole_chain_verifies_and_says_how_far_it_is_signed() -> None:
    messages = chain_of(10)  # heads after events 4 and 8: seq 5 and 10
    verdict = verify_chain(messages, CATALOG, OPERATOR.public_key())
    assert verdict.whole
    assert verdict.line() == (
        "audit chain whole: hub-1: 12 events, signed through seq 10 (2 after the last signed head)"
    )


def test_an_edited_event_breaks_the_chain_where_it_was_edited() -> None:
    messages = chain_of(10)
    messages[3] = edited(messages[3], reason="nothing to see")
    assert verdict_of(messages).startswith(
        "audit chain broken: chain hub-1 (partition 0): offset 4 (seq 5): does not follow"
    )


def test_a_removed_event_breaks_the_chain() -> None:
    messages = chain_of(10)
    del messages[6]
    assert "does not follow the event before it" in verdict_of(renumbered(messages))


def test_reordered_events_break_the_chain() -> None:
    messages = chain_of(10)
    messages[1], messages[2] = messages[2], messages[1]
    assert "does not follow the event before it" in verdict_of(renumbered(messages))


def test_an_inserted_event_breaks_the_chain() -> None:
    messages = chain_of(6)
    intruder = edited(messages[2], drop_id="forged", object="drop:forged")
    messages.insert(3, intruder)
    assert "does not follow the event before it" in verdict_of(renumbered(messages))


def test_a_chain_rewritten_without_the_operator_key_fails_at_its_first_signed_head() -> None:
    """Edit an event and re-link everything after it: the links hold, the signature does not."""
    original = chain_of(8)
    forger = AuditChain(WORKER_PARTITION, "hub", SCHEMA, chain="hub-1")
    forged_key = Ed25519PrivateKey.generate()
    values = []
    for message in original:
        _, record = decode_message(CATALOG, message.value)
        if record["action"] == "audit_chain":
            values.append(forger.sign_head(forged_key, AT))
            continue
        if record["drop_id"] == "drop1":
            record = {**record, "outcome": "rejected", "reason": "bad_seal"}
        values.append(forger._append(record))
    verdict = verdict_of([Stored(0, i, v) for i, v in enumerate(values)])
    assert verdict.startswith(
        "audit chain broken: chain hub-1 (partition 0): offset 4 (seq 5): the chain head is not"
    )
    # the honest chain verifies with the operator's key, and fails with another one
    assert verdict_of(original).startswith("audit chain whole")
    assert "not signed by the hub operator" in verdict_of(original, forged_key)


def test_a_restarted_writer_starts_a_new_chain_beside_the_old_one() -> None:
    before = chain_of(5, sign_every=100, name="hub-a")
    after = chain_of(3, sign_every=3, name="hub-b")
    messages = before + [Stored(0, len(before) + m.offset, m.value) for m in after]
    assert verdict_of(messages) == (
        "audit chain whole: hub-a: 5 events, signed through seq 0 (5 after the last signed head)"
        "; hub-b: 4 events, signed through seq 4"
    )


def test_two_writers_interleaved_on_one_partition_keep_their_chains() -> None:
    one, two = chain_of(4, name="api-1"), chain_of(4, name="api-2")
    mixed = [m for pair in zip(one, two, strict=True) for m in pair]
    assert verify_chain(renumbered(mixed), CATALOG, OPERATOR.public_key()).whole
    mixed[2], mixed[4] = mixed[4], mixed[2]  # api-1's 2nd and 3rd swapped
    assert "chain api-1 (partition 0)" in verdict_of(renumbered(mixed))


def test_each_writer_has_its_own_chain_on_its_own_partition() -> None:
    api = AuditChain(API_PARTITION, "hub-api", SCHEMA, chain="hub-api-1")
    api_messages = [
        Stored(API_PARTITION, i, api.link(access_event("obs", "caf", True, "granted", "api", AT)))
        for i in range(3)
    ]
    api_messages.append(Stored(API_PARTITION, 3, api.sign_head(OPERATOR, AT)))
    verdict = verify_chain(chain_of(4) + api_messages, CATALOG, OPERATOR.public_key())
    assert verdict.whole and [(c.partition, c.chain) for c in verdict.chains] == [
        (0, "hub-1"),
        (1, "hub-api-1"),
    ]
    # a signed head copied onto another partition does not verify there
    moved = [Stored(API_PARTITION, m.offset, m.value) for m in chain_of(4)]
    assert "not signed by the hub operator" in verdict_of(moved)


@pytest.mark.parametrize("tail", [1, 3])
def test_messages_outside_any_chain_are_named_apart_and_break_nothing(tail: int) -> None:
    v1 = CATALOG.protocol("audit_event", 1)
    old = {
        "event_id": "e0",
        "at": AT,
        "kind": "drop_accepted",
        "actor": "caf33",
        "convention_id": None,
        "dataset": None,
        "drop_id": "old",
        "consumer": None,
        "indicator": None,
        "channel": None,
        "decision": None,
        "reason": None,
    }
    before = [Stored(0, i, encode_message(v1, old)) for i in range(tail)]
    after = [Stored(0, tail + m.offset, m.value) for m in chain_of(4)]
    verdict = verify_chain(before + after, CATALOG, OPERATOR.public_key())
    assert verdict.whole and len(verdict.outside) == tail
    inside = renumbered([*after[:2], before[0], Stored(0, 0, b"not avro"), *after[2:]])
    verdict = verify_chain(inside, CATALOG, OPERATOR.public_key())
    assert verdict.whole and [m.offset for m in verdict.outside] == [2, 3]
    assert verdict.line().endswith("; 2 messages outside any chain (0@2, 0@3)")
