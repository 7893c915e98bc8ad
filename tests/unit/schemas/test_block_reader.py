"""The generated block reader gives exactly fastavro's records, or declines."""

from __future__ import annotations

import datetime as dt
from io import BytesIO
from typing import Any

import fastavro
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.block_reader import BlockReader, read_varint
from schemas.catalog import load_catalog
from schemas.codec import decode_block, encode_block
from schemas.errors import MalformedBlockError
from schemas.model import DatasetSchema

from .samples import records

CATALOG = load_catalog()
SCHEMAS = [CATALOG.dataset(d, v) for d in CATALOG.datasets() for v in CATALOG.versions(d)]
CAF = CATALOG.dataset("caf.allocataires", 1)


def fastavro_rows(schema: DatasetSchema, data: bytes) -> list[dict[str, Any]]:
    rows: Any = fastavro.schemaless_reader(BytesIO(data), schema.block_parsed, None)
    return list(rows)


def reader(schema: DatasetSchema) -> BlockReader:
    made = BlockReader.for_schema(schema.raw)
    assert made is not None, f"{schema.label} should be read by the generated reader"
    return made


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: s.label)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_same_records_as_fastavro(schema: DatasetSchema, data: st.DataObject) -> None:
    rows = data.draw(st.lists(records(schema), min_size=1, max_size=30))
    block = encode_block(schema, rows)
    got = reader(schema).read(block)
    expected = fastavro_rows(schema, block)
    assert got == expected == rows
    assert [list(r) for r in got or []] == [list(r) for r in expected]  # field order


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: s.label)
@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_damaged_blocks_are_read_alike_or_declined(
    schema: DatasetSchema, data: st.DataObject
) -> None:
    rows = data.draw(st.lists(records(schema), min_size=1, max_size=5))
    block = bytearray(encode_block(schema, rows))
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        kind = data.draw(st.sampled_from(["flip", "cut", "append", "insert"]))
        at = data.draw(st.integers(min_value=0, max_value=max(0, len(block) - 1)))
        byte = data.draw(st.integers(min_value=0, max_value=255))
        if kind == "flip" and block:
            block[at] = byte
        elif kind == "cut":
            del block[at:]
        elif kind == "append":
            block.append(byte)
        else:
            block.insert(at, byte)
    damaged = bytes(block)
    got = reader(schema).read(damaged)
    if got is not None:  # whatever the fast reader accepts, fastavro reads the same way
        assert got == fastavro_rows(schema, damaged)


@given(n=st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_varints_read_as_avro_longs(n: int) -> None:
    out = BytesIO()
    fastavro.schemaless_writer(out, "long", n)
    assert read_varint(out.getvalue() + b"\xff", 0) == (n, len(out.getvalue()))


def test_declines_what_is_not_one_plain_block() -> None:
    row = {
        "matricule": "é" * 70,
        "iris": "330630101",
        "age_responsable": 300,
        "type_foyer": None,
        "nb_enfants": 2,
        "bas_revenus": 1,
        "rsa": 0,
        "aah": None,
        "aide_logement": 1,
    }
    block = encode_block(CAF, [row, row])
    assert reader(CAF).read(block) == [row, row]
    assert reader(CAF).read(block + b"\x00") is None  # trailing byte
    assert reader(CAF).read(block[:-1]) is None  # no end of array
    assert reader(CAF).read(bytearray(block)) is None  # type: ignore[arg-type]  # only bytes
    assert reader(CAF).read(b"\x00") is None  # an empty array: fastavro's
    two_blocks = encode_block(CAF, [row])[:-1] + encode_block(CAF, [row])
    assert reader(CAF).read(two_blocks) is None
    assert fastavro_rows(CAF, two_blocks) == [row, row]
    bad_branch = bytearray(block)
    bad_branch[1] = 4  # union branch 2 of a two-branch union
    assert reader(CAF).read(bytes(bad_branch)) is None


def test_decode_block_keeps_its_errors() -> None:
    ccas = CATALOG.dataset("ccas.aides", 1)
    rows = [
        {
            "id_demandeur": None,
            "iris": "330630101",
            "type_aide": "energie",
            "montant_eur": 12.5,
            "date_decision": dt.date(2026, 10, 3),
        }
    ]
    block = encode_block(ccas, rows)
    assert decode_block(ccas, block, 1) == rows
    with pytest.raises(MalformedBlockError, match="count_mismatch"):
        decode_block(ccas, block, 2)
    with pytest.raises(MalformedBlockError, match="trailing_bytes"):
        decode_block(ccas, block + b"\x00", 1)
    with pytest.raises(MalformedBlockError, match="truncated"):
        decode_block(ccas, block[:-3], 1)
