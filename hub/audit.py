"""The audit trail: every governance decision as one event of one shape.

Every event on `hub.audit` — a drop accepted or rejected, a release
published or held, an access granted or denied, a convention changing
standing, an indicator going stale — is an `AuditEvent`: who acted
(`actor`), what kind of decision (`action`), on what (`object`, e.g.
`drop:<id>`, `release:<id>`, `indicator:<id>`), its `outcome`, the reason
code and the time, plus the ids that let a steward join it with the rest
(convention, dataset, drop, consumer, indicator, channel, release). The
constructors below are the only places events are built.

Tamper evidence. Each writer process (the worker, each API process)
keeps its own chain, named at its start (`chain`, e.g. `hub-api-3f9c…`),
on its own partition of `hub.audit` (`WORKER_PARTITION`, `API_PARTITION`):
every event carries its sequence number in the chain and `prev`, the
SHA-256 of the previous event's message bytes (empty for the first). At
intervals, and when a writer stops, it appends an `audit_chain` event
signed with the hub operator's Ed25519 key over

    b"obshub/audit-head/v1\x00" + partition + "\n" + chain + "\n" + seq + "\n" + prev

so the chain up to it cannot be rewritten without the key. `verify_chain`
(`obshub audit verify`) walks every chain and says whether each is whole
and signed, or where it breaks: an edited, removed, inserted or reordered
event breaks the hash links; a rewritten chain breaks the signatures.
Events after a chain's last signed head are whole but not yet signed, and
a truncated tail cannot be told from one never written: the head is
signed every `OBSHUB_AUDIT_SIGN_S` seconds to keep that window short.
Messages outside any chain (written before chains existed, or by a
principal that may write the topic without the hub's chain) are counted
and named apart: nothing in a chain rests on them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from schemas.catalog import SchemaCatalog
from schemas.codec import decode_message, encode_message
from schemas.errors import SchemaError
from schemas.model import ProtocolSchema

WORKER_PARTITION = 0
API_PARTITION = 1
HEAD_TAG = b"obshub/audit-head/v1\x00"
SCHEMA = "audit_event"
MAX_TEXT = 500


class Action(StrEnum):
    DROP = "drop"
    RELEASE = "release"
    ACCESS = "access"
    CONVENTION = "convention"
    INDICATOR = "indicator"
    CHAIN = "audit_chain"


@dataclass(frozen=True)
class AuditEvent:
    actor: str
    action: Action
    object: str
    outcome: str
    at: dt.datetime
    reason: str | None = None
    convention_id: str | None = None
    dataset: str | None = None
    drop_id: str | None = None
    consumer: str | None = None
    indicator: str | None = None
    channel: str | None = None
    release_id: str | None = None

    def record(self) -> dict[str, Any]:
        """The `audit_event` record, before the chain fills `seq` and `prev`."""
        return {
            "event_id": secrets.token_hex(12),
            "at": self.at,
            "actor": self.actor,
            "action": self.action.value,
            "object": self.object,
            "outcome": self.outcome,
            "reason": None if self.reason is None else self.reason[:MAX_TEXT],
            "convention_id": self.convention_id,
            "dataset": self.dataset,
            "drop_id": self.drop_id,
            "consumer": self.consumer,
            "indicator": self.indicator,
            "channel": self.channel,
            "release_id": self.release_id,
            "seq": 0,
            "prev": "",
            "signature": None,
        }


def drop_event(
    outcome: str,
    partner: str,
    drop_id: str,
    convention_id: str | None,
    dataset: str | None,
    at: dt.datetime,
    reason: str | None = None,
) -> AuditEvent:
    """A drop accepted, rejected (with its reason code), repeated or superseded."""
    return AuditEvent(
        partner,
        Action.DROP,
        f"drop:{drop_id}",
        outcome,
        at,
        reason,
        convention_id=convention_id,
        dataset=dataset,
        drop_id=drop_id,
    )


def access_event(
    consumer: str,
    indicator: str | None,
    granted: bool,
    reason: str | None,
    channel: str,
    at: dt.datetime,
    conventions: Iterable[str] = (),
    actor: str | None = None,
) -> AuditEvent:
    """A consent decision: the consumer, what it asked for, on which channel, why."""
    ids = sorted({ref.split(" ")[0] for ref in conventions})
    return AuditEvent(
        actor or consumer,
        Action.ACCESS,
        f"indicator:{indicator}" if indicator else "catalog",
        "granted" if granted else "denied",
        at,
        reason,
        convention_id=",".join(ids) or None,
        consumer=consumer,
        indicator=indicator,
        channel=channel,
    )


def release_event(
    indicator: str,
    period: str,
    outcome: str,
    at: dt.datetime,
    reason: str | None = None,
    release_id: str | None = None,
) -> AuditEvent:
    """A release published (`release_id`), or a period that failed its check or is held."""
    return AuditEvent(
        "hub",
        Action.RELEASE,
        f"release:{release_id}" if release_id else f"indicator:{indicator}@{period}",
        outcome,
        at,
        reason,
        indicator=indicator,
        release_id=release_id,
    )


def convention_event(convention_id: str, standing: str, at: dt.datetime, reason: str) -> AuditEvent:
    """Where a convention stands changed (`standing`: in_force, expired, revoked, ...)."""
    return AuditEvent(
        "hub",
        Action.CONVENTION,
        f"convention:{convention_id}",
        standing,
        at,
        reason,
        convention_id=convention_id,
    )


def indicator_event(indicator: str, outcome: str, at: dt.datetime, reason: str) -> AuditEvent:
    """An indicator's newest period went stale (held) or fresh (released again)."""
    return AuditEvent(
        "hub", Action.INDICATOR, f"indicator:{indicator}", outcome, at, reason, indicator=indicator
    )


def head_payload(partition: int, chain: str, seq: int, prev: str) -> bytes:
    return HEAD_TAG + f"{partition}\n{chain}\n{seq}\n{prev}".encode()


def new_chain_id(actor: str) -> str:
    return f"{actor}-{secrets.token_hex(6)}"


@dataclass
class AuditChain:
    """One writer's chain: links events and signs its head.

    `link` and `sign_head` are synchronous: the caller sends the returned
    bytes in the order it got them, to `partition`."""

    partition: int  # below AUDIT_PARTITIONS
    actor: str
    schema: ProtocolSchema
    chain: str = ""
    seq: int = 0
    prev: str = ""
    unsigned: int = 0  # events since the last signed head

    def __post_init__(self) -> None:
        self.chain = self.chain or new_chain_id(self.actor)

    def link(self, event: AuditEvent) -> bytes:
        """The event's message bytes, chained after the previous one."""
        return self._append(event.record())

    def sign_head(self, key: Ed25519PrivateKey, at: dt.datetime) -> bytes:
        """An `audit_chain` event signing everything before it."""
        record = AuditEvent(self.actor, Action.CHAIN, f"chain:{self.chain}", "signed", at).record()
        payload = head_payload(self.partition, self.chain, self.seq + 1, self.prev)
        record["signature"] = key.sign(payload)
        value = self._append(record)
        self.unsigned = 0
        return value

    def _append(self, record: dict[str, Any]) -> bytes:
        self.seq += 1
        record["chain"], record["seq"], record["prev"] = self.chain, self.seq, self.prev
        value = encode_message(self.schema, record)
        self.prev = hashlib.sha256(value).hexdigest()
        self.unsigned += 1
        return value


@dataclass(frozen=True)
class Stored:
    """One message of `hub.audit` as read back."""

    partition: int
    offset: int
    value: bytes


@dataclass
class ChainState:
    """What the verification found of one chain."""

    partition: int
    chain: str
    events: int = 0
    first_seq: int = 0
    last_seq: int = 0
    signed_through: int = 0  # seq of the last valid signed head
    prev: str = ""
    problem: str | None = None

    def line(self) -> str:
        if self.problem is not None:
            return f"chain {self.chain} (partition {self.partition}): {self.problem}"
        text = f"{self.chain}: {self.events} events"
        if self.first_seq > 1:
            text += f" from seq {self.first_seq}"
        text += f", signed through seq {self.signed_through}"
        tail = self.last_seq - max(self.signed_through, self.first_seq - 1)
        if tail:
            text += f" ({tail} after the last signed head)"
        return text


@dataclass
class ChainVerdict:
    chains: list[ChainState] = field(default_factory=list)
    outside: list[Stored] = field(default_factory=list)  # messages in no chain

    @property
    def whole(self) -> bool:
        return all(c.problem is None for c in self.chains)

    def line(self) -> str:
        """One line: every chain whole and signed, or where one breaks."""
        broken = [c for c in self.chains if c.problem is not None]
        if broken:
            return "audit chain broken: " + "; ".join(c.line() for c in broken)
        text = "audit chain whole: " + ("; ".join(c.line() for c in self.chains) or "no events")
        if self.outside:
            where = ", ".join(f"{m.partition}@{m.offset}" for m in self.outside[:5])
            more = "…" if len(self.outside) > 5 else ""
            text += f"; {len(self.outside)} messages outside any chain ({where}{more})"
        return text


def verify_chain(
    messages: Sequence[Stored], catalog: SchemaCatalog, operator: Ed25519PublicKey
) -> ChainVerdict:
    """Walk every chain (messages in offset order within each partition)."""
    verdict = ChainVerdict()
    chains: dict[tuple[int, str], ChainState] = {}
    for message in sorted(messages, key=lambda m: (m.partition, m.offset)):
        record = _chained_record(message, catalog)
        if record is None:
            verdict.outside.append(message)
            continue
        key = (message.partition, record["chain"])
        if key not in chains:
            chains[key] = ChainState(message.partition, record["chain"], first_seq=record["seq"])
            verdict.chains.append(chains[key])
        _follow(chains[key], message, record, operator)
    return verdict


def _chained_record(message: Stored, catalog: SchemaCatalog) -> dict[str, Any] | None:
    try:
        schema, record = decode_message(catalog, message.value)
    except SchemaError:
        return None
    if schema.name != SCHEMA or not record.get("chain"):
        return None
    return record


def _follow(
    state: ChainState, message: Stored, record: Mapping[str, Any], operator: Ed25519PublicKey
) -> None:
    if state.problem is not None:
        return
    where = f"offset {message.offset} (seq {record['seq']})"
    if state.events and record["prev"] != state.prev:
        state.problem = (
            f"{where}: does not follow the event before it "
            "(an event was edited, removed, inserted or moved)"
        )
        return
    if state.events and record["seq"] != state.last_seq + 1:
        state.problem = f"{where}: comes after seq {state.last_seq}"
        return
    if record["action"] == Action.CHAIN.value:
        payload = head_payload(message.partition, state.chain, record["seq"], record["prev"])
        try:
            operator.verify(record["signature"] or b"", payload)
        except InvalidSignature:
            state.problem = (
                f"{where}: the chain head is not signed by the hub operator's key "
                "(the chain before it was rewritten)"
            )
            return
        state.signed_through = record["seq"]
    state.events += 1
    state.last_seq = record["seq"]
    state.prev = hashlib.sha256(message.value).hexdigest()
