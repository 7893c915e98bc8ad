"""Ingest of partner drops: one pure function decides what each message does.

`ingest_message(ctx, message, state, now)` reads one message of a
`drops.<partner>` topic and the state of its drop (a typed, immutable
`hub.drop_state.DropState`, or None for a drop never seen; the worker keeps
its JSON form in its state table, keyed by drop id), and returns an
`Outcome`: the drop's new state, and what to emit — quarantine and audit
events, the drop's aggregate when it is accepted, and counters. It never
talks to Kafka, never reads a clock or a file: the faust agent is a thin
adapter.

A drop moves `open` → `accepted` | `rejected`. Its state holds the counted
chunk sequences *with* the counts (so a redelivered chunk is never counted
twice), each chunk's plaintext digest (so the trailer's hash list can be
checked after a restart) and the header's bytes (the partner signs them).

Every message is accounted: it belongs to an accepted drop, is an
idempotent repeat of one (`repeat`), or is quarantined with a reason.
Known domain errors (`SchemaError`, `DropRejected`) quarantine; anything
else is a bug and propagates, stopping the worker loudly.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from contracts.convention import Convention, Policy
from contracts.errors import ContractError
from contracts.periods import check_period, check_period_started
from contracts.principals import drops_topic
from hub.aggregation import ChunkKey, DropAccumulator, aggregate_chunk, place_records
from hub.audit import AuditEvent, drop_event
from hub.context import HubContext
from hub.drop_state import DropState, DropStatus
from hub.errors import HubError
from hub.tables import DropAggregate
from schemas.codec import decode_block, decode_message, out_of_domain
from schemas.errors import SchemaError
from schemas.model import DatasetSchema, ProtocolSchema
from schemas.sealing import DropOpener
from schemas.signing import chunk_digest, digest_of_chunks, verify_trailer

OPEN, ACCEPTED, REJECTED = DropStatus.OPEN, DropStatus.ACCEPTED, DropStatus.REJECTED


class DropRejected(HubError):
    """The drop as a whole is refused for `reason` (a short code)."""

    def __init__(self, reason: str, detail: str) -> None:
        self.reason, self.detail = reason, detail
        super().__init__(f"{reason}: {detail}")


@dataclass(frozen=True)
class DropMessage:
    """One Kafka message of a partner topic, as the adapter received it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes


@dataclass(frozen=True)
class Quarantine:
    reason: str
    detail: str
    drop_id: str | None
    partner: str | None


@dataclass(frozen=True)
class Receipt:
    """What the partner learns of its drop (`schemas.receipts`; the worker signs it)."""

    drop_id: str
    partner: str
    convention_id: str
    convention_version: int
    dataset: str
    period: str
    accepted: bool
    reason: str = ""
    detail: str = ""
    records_aggregated: int = 0
    records_rejected: Mapping[str, int] = field(default_factory=dict)
    repeat: bool = False

    @classmethod
    def of(cls, state: DropState, accepted: bool, **fields: Any) -> Receipt:
        return cls(
            drop_id=state.drop_id,
            partner=state.partner,
            convention_id=state.convention_id,
            convention_version=state.convention_version,
            dataset=state.dataset,
            period=state.period,
            accepted=accepted,
            **fields,
        )


@dataclass
class Outcome:
    """What one message did. `state` None: leave the stored state unchanged."""

    kind: str  # header, chunk, trailer, other
    state: DropState | None = None
    quarantine: list[Quarantine] = field(default_factory=list)
    audit: list[AuditEvent] = field(default_factory=list)
    aggregate: DropAggregate | None = None
    repeat: bool = False  # an idempotent repeat: no-op by design
    records_aggregated: int = 0  # counted when the drop is accepted, never before
    records_rejected: Counter[str] = field(default_factory=Counter)
    labels: dict[str, str] = field(default_factory=dict)  # partner, convention, dataset
    receipt: Receipt | None = None  # the answer owed to the partner, when the drop closes

    @property
    def drop_rejected(self) -> AuditEvent | None:
        return next((a for a in self.audit if a.outcome == "rejected"), None)


def partner_of_topic(topic: str) -> str:
    return topic.split(".", 1)[1] if topic.startswith("drops.") else ""


def _labels(state: DropState | None, topic: str) -> dict[str, str]:
    if state is None:
        return {"partner": partner_of_topic(topic), "convention": "", "dataset": ""}
    return {"partner": state.partner, "convention": state.convention_id, "dataset": state.dataset}


# -- the entry point ----------------------------------------------------------


def ingest_message(
    ctx: HubContext, message: DropMessage, state: DropState | None, now: dt.datetime
) -> Outcome:
    """Decide what `message` does to its drop (see the module docstring)."""
    partner = partner_of_topic(message.topic)
    try:
        schema, record = decode_message(ctx.catalog, message.value)
    except SchemaError as exc:
        return _quarantine_only(
            "other",
            exc.reason,
            str(exc),
            None,
            partner,
            message.topic,
        )
    drop_id = record.get("drop_id")
    if not isinstance(drop_id, str) or message.key != drop_id.encode():
        return _quarantine_only(
            schema.name,
            "key_mismatch",
            "the message key is not the drop id it carries",
            drop_id if isinstance(drop_id, str) else None,
            partner,
            message.topic,
        )
    handler = {"drop_header": _on_header, "drop_chunk": _on_chunk, "drop_trailer": _on_trailer}.get(
        schema.name
    )
    if handler is None:
        return _quarantine_only(
            "other",
            "unexpected_message",
            f"a {schema.name} message on a partner topic",
            drop_id,
            partner,
            message.topic,
        )
    return handler(ctx, message, schema, record, state, now)


def _quarantine_only(
    kind: str, reason: str, detail: str, drop_id: str | None, partner: str, topic: str
) -> Outcome:
    return Outcome(
        kind,
        quarantine=[Quarantine(reason, detail, drop_id, partner or None)],
        labels=_labels(None, topic),
    )


# -- header -------------------------------------------------------------------


def verify_header(
    ctx: HubContext, topic: str, header: Mapping[str, Any], now: dt.datetime
) -> tuple[Convention, DatasetSchema]:
    """The drop's convention and record schema, or `DropRejected` saying why not.

    The convention is judged as it stands when the hub reads the header
    (`contracts.lifecycle`): a revocation, an expiry or a renewal applies
    to every drop read after it, whatever the drop says of its own time.
    """
    partner = partner_of_topic(topic)
    status = ctx.conventions.survey(now).judge(
        header["convention_id"], header["convention_version"]
    )
    if status is None:
        raise DropRejected(
            "unknown_convention",
            f"convention {header['convention_id']} "
            f"v{header['convention_version']} is not known to the hub",
        )
    convention = status.convention
    if not (header["partner"] == partner == convention.producer) or topic != drops_topic(
        convention.producer
    ):
        raise DropRejected(
            "partner_mismatch",
            f"drop of {header['partner']} on {topic} under "
            f"a convention produced by {convention.producer}",
        )
    if not status.in_force:
        raise DropRejected(status.reason, status.message)
    terms = convention.datasets.get(header["dataset"])
    if terms is None:
        raise DropRejected(
            "dataset_not_allowed", f"{convention.ref} does not cover {header['dataset']}"
        )
    if header["schema_version"] not in terms.schema_versions:
        raise DropRejected(
            "schema_not_allowed",
            f"{header['dataset']} v{header['schema_version']} is not allowed by {convention.ref}",
        )
    try:
        dataset = ctx.catalog.dataset(header["dataset"], header["schema_version"])
    except SchemaError as exc:
        raise DropRejected("unknown_schema", str(exc)) from exc
    if dataset.fingerprint != header["record_schema_fingerprint"]:
        raise DropRejected(
            "fingerprint_mismatch",
            "the record schema fingerprint is not the "
            f"catalog's for {dataset.dataset_id} v{dataset.version}",
        )
    try:
        check_period(header["period"], terms.cadence.value)
    except ContractError as exc:
        raise DropRejected("bad_period", str(exc)) from exc
    try:
        check_period_started(header["period"], now)
    except ContractError as exc:
        raise DropRejected("future_period", str(exc)) from exc
    if len(header["ephemeral_public_key"]) != 32:
        raise DropRejected("bad_key", "the ephemeral public key is not 32 bytes")
    return convention, dataset


def _on_header(
    ctx: HubContext,
    message: DropMessage,
    schema: ProtocolSchema,
    header: dict[str, Any],
    state: DropState | None,
    now: dt.datetime,
) -> Outcome:
    drop_id = header["drop_id"]
    if state is not None and state.status is ACCEPTED:
        return Outcome(
            "header",
            state=state.repeated(),
            repeat=True,
            labels=_labels(state, message.topic),
            receipt=Receipt.of(
                state,
                True,
                repeat=True,
                detail="accepted before: nothing changed",
                records_aggregated=state.records,
            ),
            audit=[
                drop_event(
                    "repeated", state.partner, drop_id, state.convention_id, state.dataset, now
                )
            ],
        )
    # A new drop, or a new attempt at one that never closed: start afresh.
    try:
        convention, dataset = verify_header(ctx, message.topic, header, now)
    except DropRejected as rejection:
        fresh = _rejected_state(ctx, header, message.topic, rejection, now, messages=1)
        claimed = dataclasses.replace(
            fresh,
            convention_id=_clip(str(header["convention_id"])),
            dataset=_clip(str(header["dataset"])),
        )
        return Outcome(
            "header",
            state=fresh,
            labels=_labels(fresh, message.topic),
            receipt=Receipt.of(
                claimed, False, reason=rejection.reason, detail=_clip(rejection.detail)
            ),
            quarantine=[
                Quarantine(
                    rejection.reason, rejection.detail, drop_id, partner_of_topic(message.topic)
                )
            ],
            audit=[
                drop_event(
                    "rejected",
                    _clip(header["partner"]),
                    drop_id,
                    _clip(header["convention_id"]),
                    _clip(header["dataset"]),
                    now,
                    rejection.reason,
                )
            ],
        )
    accumulator = DropAccumulator(
        drop_id=drop_id,
        partner=convention.producer,
        convention_id=convention.id,
        convention_version=convention.version,
        dataset=dataset.dataset_id,
        period=header["period"],
        selection_keys=ctx.selections(dataset.dataset_id),
    )
    opened = DropState(
        status=OPEN,
        drop_id=drop_id,
        partner=convention.producer,
        topic=message.topic,
        convention_id=convention.id,
        convention_version=convention.version,
        dataset=dataset.dataset_id,
        schema_version=dataset.version,
        period=header["period"],
        header=base64.b64encode(message.value).decode(),
        ephemeral_key=header["ephemeral_public_key"].hex(),
        digests={},
        records_received=0,
        messages=1,
        opened_at=now.timestamp(),
        last_seen=now.timestamp(),
        accumulator=accumulator.to_state(),
    )
    return Outcome("header", state=opened, labels=_labels(opened, message.topic))


CLIP = 200  # characters kept of a text a rejected header claims


def _clip(text: str) -> str:
    return text if len(text) <= CLIP else text[:CLIP] + "…"


def _rejected_state(
    ctx: HubContext,
    header: Mapping[str, Any],
    topic: str,
    rejection: DropRejected,
    now: dt.datetime,
    messages: int,
) -> DropState:
    """The state of a drop refused at its header.

    A refused header is untrusted input: its convention and dataset become
    metric labels (`_labels`) only if the hub knows them, so noise cannot
    mint time series, and its texts are clipped, so the state always fits
    in one changelog message.
    """
    claimed_convention = str(header.get("convention_id", ""))
    claimed_dataset = str(header.get("dataset", ""))
    known = any(c.id == claimed_convention for c in ctx.conventions.all())
    return DropState(
        status=REJECTED,
        drop_id=header["drop_id"],
        partner=partner_of_topic(topic),
        topic=topic,
        convention_id=claimed_convention if known else "",
        convention_version=int(header.get("convention_version", 0)),
        dataset=claimed_dataset if claimed_dataset in ctx.catalog.datasets() else "",
        period=_clip(str(header.get("period", ""))),
        reason=rejection.reason,
        detail=_clip(rejection.detail),
        messages=messages,
        closed_at=now.timestamp(),
        last_seen=now.timestamp(),
    )


def _reject(state: DropState, kind: str, rejection: DropRejected, now: dt.datetime) -> Outcome:
    """Close an open drop as rejected: it publishes nothing."""
    closed = state.closed(
        REJECTED,
        now,
        state.messages + (1 if kind != "timeout" else 0),
        reason=rejection.reason,
        detail=rejection.detail,
    )
    received = state.records_received
    return Outcome(
        kind,
        state=closed,
        labels=_labels(closed, state.topic),
        records_rejected=Counter({"drop_rejected": received} if received else {}),
        receipt=Receipt.of(
            state,
            False,
            reason=rejection.reason,
            detail=_clip(rejection.detail),
            records_rejected={"drop_rejected": received} if received else {},
        ),
        quarantine=[
            Quarantine(
                rejection.reason,
                f"{rejection.detail} (drop of {closed.messages} message(s) rejected)",
                state.drop_id,
                state.partner,
            )
        ],
        audit=[
            drop_event(
                "rejected",
                state.partner,
                state.drop_id,
                state.convention_id,
                state.dataset,
                now,
                rejection.reason,
            )
        ],
    )


def _not_open(
    kind: str, message: DropMessage, drop_id: str, state: DropState | None
) -> Outcome | None:
    """What a chunk or trailer does when its drop is not open; None if it is."""
    if state is None:
        return _quarantine_only(
            kind,
            f"orphan_{kind}",
            f"a {kind} without its drop's header",
            drop_id,
            partner_of_topic(message.topic),
            message.topic,
        )
    if state.status is ACCEPTED:
        return Outcome(kind, repeat=True, labels=_labels(state, message.topic))
    if state.status is REJECTED:
        return Outcome(
            kind,
            state=state.counted(),
            labels=_labels(state, message.topic),
            quarantine=[
                Quarantine(
                    "drop_rejected",
                    f"part of a drop rejected for {state.reason}",
                    drop_id,
                    state.partner,
                )
            ],
        )
    return None


# -- chunk --------------------------------------------------------------------


def _on_chunk(
    ctx: HubContext,
    message: DropMessage,
    schema: ProtocolSchema,
    chunk: dict[str, Any],
    state: DropState | None,
    now: dt.datetime,
) -> Outcome:
    drop_id = chunk["drop_id"]
    early = _not_open("chunk", message, drop_id, state)
    if early is not None or state is None:
        return early or Outcome("chunk")
    sequence = chunk["sequence"]
    if str(sequence) in state.digests:  # redelivered: already counted
        return Outcome(
            "chunk", state=state.touched(now), repeat=True, labels=_labels(state, message.topic)
        )
    try:
        records, digest = _open_chunk(ctx, state, chunk)
    except DropRejected as rejection:
        return _reject(state, "chunk", rejection, now)
    dataset = ctx.catalog.dataset(state.dataset, state.schema_version)
    convention = ctx.conventions.get(state.convention_id, state.convention_version)
    kept, rejected = _check_records(dataset, convention, records)
    placed, misplaced = place_records(kept, dataset, ctx.territory, ChunkKey(drop_id, sequence))
    rejected.update(misplaced)
    placed = _within_convention(ctx, convention, dataset.dataset_id, placed, rejected)
    counts = aggregate_chunk(placed, ctx.selections(dataset.dataset_id), dataset.measure)
    accumulator = DropAccumulator.from_state(state.accumulator)
    accumulator.add_chunk(sequence, counts, rejected, len(placed))
    updated = dataclasses.replace(
        state.touched(now),
        accumulator=accumulator.to_state(),
        digests={**state.digests, str(sequence): digest.hex()},
        records_received=state.records_received + len(records),
    )
    return Outcome("chunk", state=updated, labels=_labels(state, message.topic))


OUTSIDE_CONVENTION = "outside_convention_territory"


def _within_convention(
    ctx: HubContext,
    convention: Convention | None,
    dataset_id: str,
    placed: list[tuple[str, Mapping[str, Any]]],
    rejected: Counter[str],
) -> list[tuple[str, Mapping[str, Any]]]:
    """The placed records whose commune the convention covers for the dataset.

    Conventions for one dataset cover disjoint territories and their counts
    add up: a record placed in another convention's commune would be
    counted twice (or by a partner with no right to it), so it is rejected.
    """
    allowed = ctx.places_covered(convention, dataset_id)
    kept = [(code, r) for code, r in placed if code in allowed]
    if len(kept) != len(placed):
        rejected[OUTSIDE_CONVENTION] += len(placed) - len(kept)
    return kept


def _open_chunk(
    ctx: HubContext, state: DropState, chunk: Mapping[str, Any]
) -> tuple[list[dict[str, Any]], bytes]:
    dataset = ctx.catalog.dataset(state.dataset, state.schema_version)
    opener = DropOpener(ctx.sealing_key, bytes.fromhex(state.ephemeral_key), state.drop_id)
    try:
        plaintext = opener.open(chunk["sequence"], chunk["nonce"], chunk["ciphertext"])
        records = decode_block(dataset, plaintext, chunk["record_count"])
    except SchemaError as exc:
        raise DropRejected(exc.reason, f"chunk {chunk['sequence']}: {exc}") from exc
    return records, chunk_digest(plaintext)


def _check_records(
    dataset: DatasetSchema, convention: Convention | None, records: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], Counter[str]]:
    """Records within their domains, with the convention's field policies applied
    again (a field it does not let through is nulled: defence in depth)."""
    rejected: Counter[str] = Counter()
    terms = convention.datasets.get(dataset.dataset_id) if convention else None
    blocked = [
        name
        for name in dataset.fields
        if terms is None or (policy := terms.policy(name)) is None or policy.policy is Policy.DROP
    ]
    outside = out_of_domain(dataset.fields, records)  # column by column: one pass per field
    kept: list[dict[str, Any]] = []
    for index, record in enumerate(records):
        if index in outside:
            rejected["out_of_domain"] += 1
            continue
        for name in blocked:
            record[name] = None
        kept.append(record)
    return kept, rejected


# -- trailer ------------------------------------------------------------------


def _on_trailer(
    ctx: HubContext,
    message: DropMessage,
    schema: ProtocolSchema,
    trailer: dict[str, Any],
    state: DropState | None,
    now: dt.datetime,
) -> Outcome:
    drop_id = trailer["drop_id"]
    early = _not_open("trailer", message, drop_id, state)
    if early is not None or state is None:
        return early or Outcome("trailer")
    try:
        _verify_trailer(ctx, state, trailer, schema)
        _still_in_force(ctx, state, now)
    except DropRejected as rejection:
        return _reject(state, "trailer", rejection, now)
    accumulator = DropAccumulator.from_state(state.accumulator)
    aggregate = accumulator.to_aggregate()
    closed = state.closed(ACCEPTED, now, state.messages + 1, records=accumulator.records)
    rejected = Counter({r: int(n) for r, n in aggregate.rejected.items() if n})
    return Outcome(
        "trailer",
        state=closed,
        aggregate=aggregate,
        labels=_labels(state, message.topic),
        records_aggregated=accumulator.records,
        records_rejected=rejected,
        receipt=Receipt.of(
            state,
            True,
            detail=f"{accumulator.records} record(s) aggregated",
            records_aggregated=accumulator.records,
            records_rejected=dict(rejected),
        ),
        audit=[
            drop_event("accepted", state.partner, drop_id, state.convention_id, state.dataset, now)
        ],
    )


def _still_in_force(ctx: HubContext, state: DropState, now: dt.datetime) -> None:
    """A convention revoked, expired or renewed while its drop was open closes it
    as rejected: nothing is accepted under a convention that is no longer in force."""
    status = ctx.conventions.survey(now).judge(state.convention_id, state.convention_version)
    if status is None:
        raise DropRejected(
            "unknown_convention",
            f"convention {state.convention_id} v{state.convention_version} "
            "is no longer known to the hub",
        )
    if not status.in_force:
        raise DropRejected(status.reason, status.message)


def _verify_trailer(
    ctx: HubContext, state: DropState, trailer: Mapping[str, Any], schema: ProtocolSchema
) -> None:
    key = ctx.trust.get(state.partner)
    if key is None:
        raise DropRejected("untrusted_partner", f"no trusted key for {state.partner}")
    header = base64.b64decode(state.header)
    try:
        verify_trailer(key.public_bytes_raw(), header, trailer, schema)
    except SchemaError as exc:
        raise DropRejected("bad_signature", str(exc)) from exc
    received = sorted(int(s) for s in state.digests)
    if received != list(range(trailer["chunk_count"])):
        raise DropRejected(
            "incomplete_drop",
            f"{len(received)} chunk(s) received, the trailer announces {trailer['chunk_count']}",
        )
    if state.records_received != trailer["record_count"]:
        raise DropRejected(
            "record_count_mismatch",
            f"{state.records_received} record(s) "
            f"received, the trailer announces {trailer['record_count']}",
        )
    digests = (bytes.fromhex(state.digests[str(s)]) for s in received)
    if digest_of_chunks(digests) != trailer["plaintext_sha256"]:
        raise DropRejected("digest_mismatch", "the chunks' digest does not match the trailer's")


# -- time ---------------------------------------------------------------------


def expire_if_stale(state: DropState, now: dt.datetime, timeout_s: float) -> Outcome | None:
    """An open drop whose trailer has not come within `timeout_s` is rejected."""
    if not state.is_stale(now, timeout_s):
        return None
    return _reject(
        state,
        "timeout",
        DropRejected("incomplete_drop", f"no trailer within {timeout_s:.0f}s of its last message"),
        now,
    )
