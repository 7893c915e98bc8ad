"""Malformed messages for a partner topic, generated with hypothesis.

Each strategy yields a `Malformed` (key, value and the family it belongs
to) that the hub must quarantine on its own, with a reason, without
touching any other drop: random bytes, truncated or re-fingerprinted copies
of real messages, and well-formed Avro protocol messages with absurd values
(chunks and trailers of drops the hub never saw, headers under conventions
it does not know or with fields no convention allows, the hub's own event
messages, keys that are not the drop id, an oversized chunk).

`generate` draws a fixed number of them from a seeded hypothesis run, so a
test produces the same few thousand messages every time, in one go.
"""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO
from typing import Any, TypeVar

from fastavro import schemaless_writer
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from schemas.catalog import SchemaCatalog
from schemas.codec import MARKER, PREFIX_LENGTH, encode_message

T = TypeVar("T")
UTC_RANGE = (dt.datetime(1971, 1, 1), dt.datetime(9999, 1, 1))
HEX = "0123456789abcdef"


@dataclass(frozen=True)
class Malformed:
    family: str
    key: bytes | None
    value: bytes


def generate(strategy: st.SearchStrategy[T], count: int, seed_value: int) -> list[T]:
    """`count` examples of `strategy` from a seeded run: the same list every time."""
    drawn: list[T] = []

    @seed(seed_value)
    @settings(
        max_examples=count,
        database=None,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(value: T) -> None:
        drawn.append(value)

    collect()
    return drawn[:count]


def raw_message(catalog: SchemaCatalog, name: str, record: dict[str, Any]) -> bytes:
    """Single-object encoding without the domain checks `encode_message` makes."""
    schema = catalog.protocol(name)
    out = BytesIO()
    out.write(MARKER + schema.fingerprint)
    schemaless_writer(out, schema.parsed, record)
    return out.getvalue()


def decoy_ids(exclude: Sequence[str]) -> st.SearchStrategy[str]:
    """Drop ids no header ever opened: random text, or 32 hex digits like a real one."""
    texts = st.text(min_size=1, max_size=40) | st.text(HEX, min_size=32, max_size=32)
    return texts.filter(lambda t: t not in exclude)


def _key_for(drop_id: str) -> st.SearchStrategy[bytes | None]:
    """Mostly the drop id (as the protocol wants), sometimes another key or none."""
    other = st.none() | st.binary(max_size=40).filter(lambda k: k != drop_id.encode())
    return st.one_of(st.just(drop_id.encode()), st.just(drop_id.encode()), other)


@st.composite
def random_bytes(draw: st.DrawFn) -> Malformed:
    value = draw(
        st.binary(max_size=2000)
        | st.binary(min_size=10, max_size=300).map(
            lambda b: MARKER + b  # the marker, then noise: an unknown fingerprint or a bad body
        )
    )
    return Malformed("random_bytes", draw(st.none() | st.binary(max_size=40)), value)


@st.composite
def truncated(draw: st.DrawFn, templates: Sequence[tuple[bytes, bytes]]) -> Malformed:
    """A real message cut short, under its real key (it may be the valid drop's)."""
    key, value = draw(st.sampled_from(templates))
    cut = draw(st.integers(0, len(value) - 1))
    return Malformed("truncated", key, value[:cut])


@st.composite
def wrong_fingerprint(
    draw: st.DrawFn, templates: Sequence[tuple[bytes, bytes]], catalog: SchemaCatalog
) -> Malformed:
    """A real message whose fingerprint was replaced: by noise, by a dataset
    record's, or by another protocol message's."""
    key, value = draw(st.sampled_from(templates))
    own = value[len(MARKER) : PREFIX_LENGTH]
    known = [s.fingerprint for s in catalog if s.fingerprint != own]
    fingerprint = draw(
        st.sampled_from(known) | st.binary(min_size=8, max_size=8).filter(lambda f: f != own)
    )
    return Malformed("wrong_fingerprint", key, MARKER + fingerprint + value[PREFIX_LENGTH:])


@st.composite
def absurd_chunk(draw: st.DrawFn, catalog: SchemaCatalog, exclude: Sequence[str]) -> Malformed:
    """A well-formed chunk of a drop the hub never saw, with absurd numbers;
    or any chunk with a negative sequence or count (outside the schema's domain)."""
    drop_id = draw(decoy_ids(exclude))
    record = {
        "drop_id": drop_id,
        "sequence": draw(st.integers(-(2**31), 2**31 - 1)),
        "record_count": draw(st.integers(-(2**31), 2**31 - 1)),
        "nonce": draw(st.binary(max_size=16)),
        "ciphertext": draw(st.binary(max_size=400)),
    }
    return Malformed(
        "absurd_chunk", draw(_key_for(drop_id)), raw_message(catalog, "drop_chunk", record)
    )


@st.composite
def absurd_trailer(draw: st.DrawFn, catalog: SchemaCatalog, exclude: Sequence[str]) -> Malformed:
    drop_id = draw(decoy_ids(exclude))
    big = st.integers(-(2**63), 2**63 - 1)
    record = {
        "drop_id": drop_id,
        "chunk_count": draw(st.integers(-(2**31), 2**31 - 1)),
        "record_count": draw(big),
        "plaintext_sha256": draw(st.binary(max_size=40)),
        "report": {
            "rows_read": draw(big),
            "rows_accepted": draw(big),
            "rows_rejected": draw(big),
            "rejections": draw(st.dictionaries(st.text(max_size=20), big, max_size=5)),
        },
        "signature": draw(st.binary(max_size=80)),
    }
    return Malformed(
        "absurd_trailer", draw(_key_for(drop_id)), raw_message(catalog, "drop_trailer", record)
    )


@st.composite
def absurd_header(
    draw: st.DrawFn,
    catalog: SchemaCatalog,
    known_conventions: Sequence[str],
    exclude: Sequence[str],
) -> Malformed:
    """A header no convention allows: an unknown convention id, or a known one
    with an ephemeral key that cannot be an X25519 key (never 32 bytes), so
    no generated header ever opens a drop."""
    drop_id = draw(decoy_ids(exclude))
    unknown = st.text(min_size=0, max_size=60).filter(lambda c: c not in known_conventions)
    record = {
        "drop_id": drop_id,
        "convention_id": draw(unknown | st.sampled_from(list(known_conventions))),
        "convention_version": draw(st.integers(-(2**31), 2**31 - 1) | st.integers(0, 3)),
        "partner": draw(st.text(max_size=30) | st.sampled_from(["caf33", "ccas-bordeaux"])),
        "dataset": draw(st.text(max_size=30) | st.sampled_from(catalog.datasets())),
        "schema_version": draw(st.integers(-(2**31), 2**31 - 1)),
        "record_schema_fingerprint": draw(st.binary(min_size=8, max_size=8)),
        "period": draw(st.text(string.printable, max_size=12) | st.just("2026-10")),
        "ephemeral_public_key": draw(st.binary(max_size=64).filter(lambda k: len(k) != 32)),
        "created_at": draw(st.datetimes(*UTC_RANGE, timezones=st.just(dt.UTC))),
        "connector_version": draw(st.text(max_size=30)),
    }
    return Malformed(
        "absurd_header", draw(_key_for(drop_id)), raw_message(catalog, "drop_header", record)
    )


@st.composite
def foreign_message(draw: st.DrawFn, catalog: SchemaCatalog, exclude: Sequence[str]) -> Malformed:
    """One of the hub's own event messages, misplaced on a partner topic."""
    drop_id = draw(st.none() | decoy_ids(exclude))
    when = draw(st.datetimes(*UTC_RANGE, timezones=st.just(dt.UTC)))
    record = {
        "event_id": draw(st.text(max_size=24)),
        "at": when,
        "topic": draw(st.text(max_size=30)),
        "partition": draw(st.integers(-(2**31), 2**31 - 1)),
        "offset": draw(st.integers(-(2**63), 2**63 - 1)),
        "partner": draw(st.none() | st.text(max_size=20)),
        "drop_id": drop_id,
        "reason": draw(st.text(max_size=20)),
        "detail": draw(st.text(max_size=80)),
    }
    value = encode_message(catalog.protocol("quarantine_event"), record)
    key = (
        draw(_key_for(drop_id)) if drop_id is not None else draw(st.none() | st.binary(max_size=8))
    )
    return Malformed("foreign_message", key, value)


@st.composite
def oversized_chunk(
    draw: st.DrawFn, catalog: SchemaCatalog, exclude: Sequence[str], max_value_bytes: int
) -> Malformed:
    """A chunk close to the largest value the topic takes, for a drop the hub never saw."""
    drop_id = draw(st.text(HEX, min_size=32, max_size=32).filter(lambda t: t not in exclude))
    size = draw(st.integers(max_value_bytes - 4096, max_value_bytes - 200))
    record = {
        "drop_id": drop_id,
        "sequence": draw(st.integers(0, 2**31 - 1)),
        "record_count": draw(st.integers(0, 2**31 - 1)),
        "nonce": bytes(12),
        "ciphertext": draw(st.binary(min_size=16, max_size=16)) * (size // 16),
    }
    return Malformed(
        "oversized_chunk", drop_id.encode(), encode_message(catalog.protocol("drop_chunk"), record)
    )


@st.composite
def oversized_header(
    draw: st.DrawFn, catalog: SchemaCatalog, exclude: Sequence[str], max_value_bytes: int
) -> Malformed:
    """A header close to the largest value the topic takes: a convention id of
    hundreds of kilobytes, unknown to the hub."""
    drop_id = draw(st.text(HEX, min_size=32, max_size=32).filter(lambda t: t not in exclude))
    size = draw(st.integers(max_value_bytes // 2, max_value_bytes - 400))
    record = {
        "drop_id": drop_id,
        "convention_id": draw(st.sampled_from(string.ascii_lowercase)) * size,
        "convention_version": 1,
        "partner": "caf33",
        "dataset": "caf.allocataires",
        "schema_version": 2,
        "record_schema_fingerprint": bytes(8),
        "period": "2026-10",
        "ephemeral_public_key": bytes(32),
        "created_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        "connector_version": "flood",
    }
    value = encode_message(catalog.protocol("drop_header"), record)
    return Malformed("oversized_header", drop_id.encode(), value)


def malformed(
    catalog: SchemaCatalog,
    templates: Sequence[tuple[bytes, bytes]],
    decoy_templates: Sequence[tuple[bytes, bytes]],
    known_conventions: Sequence[str],
    exclude: Sequence[str],
) -> st.SearchStrategy[Malformed]:
    """Any malformed message. `templates`: real (key, value) pairs to truncate,
    the valid drop's included; `decoy_templates`: messages of a drop that is
    never published whole, to re-fingerprint; `exclude`: drop ids not to reuse."""
    return st.one_of(
        random_bytes(),
        truncated(templates),
        wrong_fingerprint(decoy_templates, catalog),
        absurd_chunk(catalog, exclude),
        absurd_trailer(catalog, exclude),
        absurd_header(catalog, known_conventions, exclude),
        foreign_message(catalog, exclude),
    )
