"""Integrity, against the real worker: altered, forged or misplaced drops are refused.

Each attack is a real drop (the connector's own `DropWriter`, demo keys),
altered the way an attacker on the wire or a careless operator would, and
published on the session's broker while the hub worker runs (package fixture
`worker`, whose conventions directory also holds `caf33-forged`, signed for
caf33 with France Travail's key). A control drop, published with them, must
be accepted and released, so "nothing was published" means something.

For every attack: the message that gives it away is quarantined on
`hub.quarantine` with its reason, every later message of the drop as
`drop_rejected`; `hub.audit` says `drop_rejected` with the same reason; and
neither `hub.aggregates` nor `indicators` nor a consumer's topic carries
anything of it.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer

from connectors.drop import DropIdentity, DropWriter
from connectors.validation import Tally
from contracts.keys import load_sealing_public_key, load_signing_key
from contracts.loading import load_convention
from contracts.principals import (
    ADMIN_PRINCIPAL,
    AGGREGATES_TOPIC,
    AUDIT_TOPIC,
    INDICATORS_TOPIC,
    QUARANTINE_TOPIC,
)
from hub.stack import Stack
from schemas.catalog import load_catalog
from schemas.codec import decode_message, encode_message
from tests.security.conftest import FORGED_ID
from tests.security.support import KEYS, TopicTail
from tests.support.drops import CREATED, caf_record

pytestmark = pytest.mark.integration

CATALOG = load_catalog()
YEAR = 1800 + secrets.randbelow(100)  # periods no other test publishes
CONSUMER_TOPIC = "indicators.observatoire-bordeaux"
RECORDS = [caf_record(i, iris="330630101" if i % 2 else "330630102") for i in range(60)]


def period(month: int) -> str:
    return f"{YEAR}-{month:02d}"


def write_drop(
    convention: Path, drop_id: str, period: str, signer: str = "caf33", chunk_size: int = 20
) -> list[bytes]:
    """Header, sealed chunks and signed trailer of a CAF drop of `RECORDS`."""
    schema = CATALOG.dataset("caf.allocataires", 2)
    rows = [{name: r.get(name) for name in schema.fields} for r in RECORDS]
    writer = DropWriter(
        DropIdentity(drop_id, load_convention(convention), schema, period, "security-tests"),
        CATALOG,
        load_sealing_public_key(KEYS / "hub.x25519.pub").public_bytes_raw(),
        load_signing_key(KEYS / f"{signer}.key"),
        CREATED,
    )
    values = [writer.header()]
    values += [writer.chunk(rows[i : i + chunk_size]) for i in range(0, len(rows), chunk_size)]
    values.append(writer.trailer(Tally(rows_read=len(rows), rows_accepted=len(rows))))
    return values


def altered(value: bytes, **fields: Any) -> bytes:
    """The message with some fields replaced (bytes fields: a callable of the old value)."""
    schema, record = decode_message(CATALOG, value)
    for name, new in fields.items():
        record[name] = new(record[name]) if callable(new) else new
    return encode_message(schema, record)


def flip(data: bytes, at: int = 0) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


@dataclass
class Attack:
    name: str
    reason: str  # of the message that gives the drop away
    messages: list[bytes]
    give_away: int  # index of that message: it and every later one are quarantined
    periods: tuple[str, ...]  # nothing may be published for these
    topic: str = "drops.caf33"
    principal: str = "caf33"
    detail: str = ""  # a hint the quarantine detail must carry

    def __post_init__(self) -> None:
        self.drop_id = decode_message(CATALOG, self.messages[0])[1]["drop_id"]


def attacks(conventions: Path) -> list[Attack]:
    caf = conventions / "caf33.yaml"

    def fresh(month: int, **kw: Any) -> list[bytes]:
        return write_drop(caf, secrets.token_hex(16), period(month), **kw)

    tampered = fresh(1)
    tampered[2] = altered(tampered[2], ciphertext=flip)
    bad_signature = fresh(2)
    bad_signature[-1] = altered(bad_signature[-1], signature=lambda s: flip(s, 10))
    header_changed = fresh(4)
    header_changed[0] = altered(header_changed[0], period=period(5))
    spliced, donor = fresh(6), fresh(6)
    spliced[2] = altered(donor[2], drop_id=decode_message(CATALOG, spliced[0])[1]["drop_id"])
    missing = fresh(7)
    del missing[2]
    return [
        Attack("tampered chunk", "bad_seal", tampered, 2, (period(1),), detail="chunk 1"),
        Attack("trailer with a bad signature", "bad_signature", bad_signature, -1, (period(2),)),
        Attack(
            "trailer signed by another partner",
            "bad_signature",
            fresh(3, signer="francetravail33"),
            -1,
            (period(3),),
        ),
        Attack(
            "header altered after signing",
            "bad_signature",
            header_changed,
            -1,
            (period(4), period(5)),
        ),
        Attack("chunk spliced from another drop", "bad_seal", spliced, 2, (period(6),)),
        Attack("chunk withheld", "incomplete_drop", missing, -1, (period(7),)),
        Attack(
            "drop replayed on another partner's topic",
            "partner_mismatch",
            fresh(8),
            0,
            (period(8),),
            topic="drops.insee",
            principal=ADMIN_PRINCIPAL,  # insee itself could not write caf33's drop
            detail="caf33",
        ),
        Attack(
            "convention signed with the wrong key",
            "convention_not_applicable",
            write_drop(conventions / f"{FORGED_ID}.yaml", secrets.token_hex(16), period(9)),
            0,
            (period(9),),
            detail="signed with francetravail33's key",
        ),
    ]


ATTACK_NAMES = (
    "tampered chunk",
    "trailer with a bad signature",
    "trailer signed by another partner",
    "header altered after signing",
    "chunk spliced from another drop",
    "chunk withheld",
    "drop replayed on another partner's topic",
    "convention signed with the wrong key",
)


@dataclass
class Seen:
    attacks: dict[str, Attack]
    control_drop: str
    events: dict[str, list[dict[str, Any]]]  # topic: decoded records since the start


def publish(stack: Stack, principal: str, topic: str, key: str, values: list[bytes]) -> None:
    producer = KafkaProducer(**stack.credentials.get(principal).kafka_python_config(), acks="all")
    try:
        for value in values:
            producer.send(topic, value, key=key.encode())
        producer.flush(timeout=30)
    finally:
        producer.close()


@pytest.fixture(scope="module")
def seen(worker: Stack, conventions_dir: Path) -> Iterator[Seen]:
    tail = TopicTail(
        worker.credentials.get("hub"),
        [QUARANTINE_TOPIC, AUDIT_TOPIC, AGGREGATES_TOPIC, INDICATORS_TOPIC, CONSUMER_TOPIC],
    )
    try:
        planned = {a.name: a for a in attacks(conventions_dir)}
        assert tuple(planned) == ATTACK_NAMES
        control_period = period(12)
        control = write_drop(conventions_dir / "caf33.yaml", secrets.token_hex(16), control_period)
        control_id = decode_message(CATALOG, control[0])[1]["drop_id"]
        for attack in planned.values():
            publish(worker, attack.principal, attack.topic, attack.drop_id, attack.messages)
        publish(worker, "caf33", "drops.caf33", control_id, control)

        def quarantined(events: list[tuple[str, dict[str, Any]]], attack: Attack) -> int:
            return sum(
                1 for t, e in events if t == QUARANTINE_TOPIC and e["drop_id"] == attack.drop_id
            )

        def done(events: list[tuple[str, dict[str, Any]]]) -> bool:
            released = any(
                t == INDICATORS_TOPIC and e["period"] == control_period for t, e in events
            )
            return released and all(
                quarantined(events, a) == len(a.messages[a.give_away :]) for a in planned.values()
            )

        events = tail.wait_for(done, timeout_s=90)
        by_topic: dict[str, list[dict[str, Any]]] = {}
        for topic, event in events:
            by_topic.setdefault(topic, []).append(event)
        yield Seen(planned, control_id, by_topic)
    finally:
        tail.close()


def test_the_control_drop_is_accepted_and_released(seen: Seen) -> None:
    audit = [e for e in seen.events[AUDIT_TOPIC] if e["drop_id"] == seen.control_drop]
    assert [(e["action"], e["outcome"]) for e in audit] == [("drop", "accepted")]
    assert [a for a in seen.events[AGGREGATES_TOPIC] if a["drop_id"] == seen.control_drop]
    assert not [q for q in seen.events[QUARANTINE_TOPIC] if q["drop_id"] == seen.control_drop]


@pytest.mark.parametrize("name", ATTACK_NAMES)
def test_the_attack_is_rejected_with_its_reason_and_publishes_nothing(
    seen: Seen, name: str
) -> None:
    attack = seen.attacks[name]
    quarantined = [q for q in seen.events[QUARANTINE_TOPIC] if q["drop_id"] == attack.drop_id]
    expected = len(attack.messages[attack.give_away :])
    assert [q["reason"] for q in quarantined] == [attack.reason] + ["drop_rejected"] * (
        expected - 1
    ), quarantined
    assert {q["topic"] for q in quarantined} == {attack.topic}
    assert {q["partner"] for q in quarantined} == {attack.topic.removeprefix("drops.")}
    assert attack.detail in quarantined[0]["detail"]
    audit = [e for e in seen.events[AUDIT_TOPIC] if e["drop_id"] == attack.drop_id]
    assert [(e["outcome"], e["reason"]) for e in audit] == [("rejected", attack.reason)]
    assert not [a for a in seen.events[AGGREGATES_TOPIC] if a["drop_id"] == attack.drop_id]
    for topic in (INDICATORS_TOPIC, CONSUMER_TOPIC):
        leaked = [r for r in seen.events.get(topic, []) if r["period"] in attack.periods]
        assert not leaked, f"{topic} published {leaked[:3]}"
