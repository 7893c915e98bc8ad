"""The column-wise block writer writes exactly fastavro's bytes, or declines."""

from __future__ import annotations

import datetime as dt
from io import BytesIO
from typing import Any

import fastavro
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.block_writer import BlockWriter, zigzag_varint
from schemas.catalog import load_catalog
from schemas.codec import decode_block, encode_block
from schemas.errors import InvalidRecordError
from schemas.model import DatasetSchema

from .samples import caf_record, records

CATALOG = load_catalog()
SCHEMAS = [CATALOG.dataset(d, v) for d in CATALOG.datasets() for v in CATALOG.versions(d)]
CAF = CATALOG.dataset("caf.allocataires", 1)
APA_LIKE = {"type": "record", "name": "t", "fields": []}


def fastavro_block(schema: DatasetSchema, rows: list[dict[str, Any]]) -> bytes:
    out = BytesIO()
    fastavro.schemaless_writer(
        out, schema.block_parsed, rows, strict=True, disable_tuple_notation=True
    )
    return out.getvalue()


def writer(schema: DatasetSchema) -> BlockWriter:
    made = BlockWriter.for_schema(schema.raw)
    assert made is not None, f"{schema.label} should be written column-wise"
    return made


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: s.label)
def test_every_dataset_schema_is_handled(schema: DatasetSchema) -> None:
    assert BlockWriter.for_schema(schema.raw) is not None


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: s.label)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_same_bytes_as_fastavro(schema: DatasetSchema, data: st.DataObject) -> None:
    rows = data.draw(st.lists(records(schema), min_size=1, max_size=30))
    assert writer(schema).write(rows) == fastavro_block(schema, rows)


@given(
    n=st.one_of(
        st.integers(min_value=-(2**63), max_value=2**63 - 1),
        st.sampled_from([0, -1, 63, -64, 64, 2**31 - 1, -(2**31), 2**63 - 1, -(2**63)]),
    )
)
def test_zigzag_varint_is_avro_long(n: int) -> None:
    out = BytesIO()
    fastavro.schemaless_writer(out, "long", n)
    assert zigzag_varint(n) == out.getvalue()


@settings(max_examples=200, deadline=None)
@given(
    value=st.one_of(
        st.floats(),
        st.sampled_from([0.0, -0.0, float("nan"), float("inf"), -float("inf")]),
    )
)
def test_doubles_even_signed_zero_and_nan(value: float) -> None:
    schema = CATALOG.dataset("france_travail.demandeurs", 1)
    row = {
        "identifiant": None,
        "lon": value,
        "lat": -value,
        "age": None,
        "sexe": None,
        "categorie": None,
        "anciennete_mois": None,
    }
    rows = [row, dict(row, lon=0.0), dict(row, lon=-0.0)]
    assert writer(schema).write(rows) == fastavro_block(schema, rows)


def test_text_beyond_the_length_table_and_unicode() -> None:
    rows = [dict(caf_record(), matricule="é" * 700), dict(caf_record(), matricule="x" * 2000)]
    assert writer(CAF).write(rows) == fastavro_block(CAF, rows)


def test_memo_dropped_for_distinct_values_keeps_the_bytes() -> None:
    rows = [dict(caf_record(), matricule=f"{i:064x}", age_responsable=i % 120) for i in range(9000)]
    w = writer(CAF)
    for start in range(0, 9000, 3000):
        block = rows[start : start + 3000]
        assert w.write(block) == fastavro_block(CAF, block)


@pytest.mark.parametrize(
    "change",
    [
        {"age_responsable": True},  # a bool is an int to Python, not to the writer
        {"age_responsable": 2**31},  # out of an Avro int's range
        {"age_responsable": 4.0},
        {"matricule": b"bytes"},
        {"extra": 1},
    ],
)
def test_declines_what_fastavro_must_judge(change: dict[str, Any]) -> None:
    assert writer(CAF).write([caf_record(), dict(caf_record(), **change)]) is None


def test_declines_missing_fields_mappings_and_empty_blocks() -> None:
    row = caf_record()
    del row["rsa"]
    assert writer(CAF).write([row]) is None
    assert writer(CAF).write([]) is None

    class Record(dict[str, Any]):
        pass

    assert writer(CAF).write([Record(caf_record())]) is None


def test_schemas_with_other_kinds_of_field_are_left_to_fastavro() -> None:
    enum = {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["a"]}}
    union3 = {"name": "u", "type": ["null", "int", "string"]}
    stamp = {"name": "t", "type": {"type": "long", "logicalType": "timestamp-millis"}}
    for field in (enum, union3, stamp):
        assert BlockWriter.for_schema(dict(APA_LIKE, fields=[field])) is None


def test_encode_block_round_trips_and_still_refuses_bad_records() -> None:
    ccas = CATALOG.dataset("ccas.aides", 1)
    rows: list[dict[str, Any]] = [
        {
            "id_demandeur": "a" * 64,
            "iris": "330630101",
            "type_aide": "energie",
            "montant_eur": 120.5,
            "date_decision": dt.date(2026, 10, 3),
        },
        {
            "id_demandeur": None,
            "iris": "330690109",
            "type_aide": None,
            "montant_eur": None,
            "date_decision": None,
        },
    ]
    block = encode_block(ccas, rows)
    assert block == fastavro_block(ccas, rows)
    assert decode_block(ccas, block, 2) == rows
    with pytest.raises(InvalidRecordError) as caught:
        encode_block(CAF, [caf_record(), dict(caf_record(), age_responsable="41")])
    assert caught.value.index == 1
