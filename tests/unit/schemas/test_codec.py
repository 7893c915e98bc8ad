from __future__ import annotations

from io import BytesIO
from typing import Any

import fastavro
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.catalog import load_catalog
from schemas.codec import MARKER, decode_block, decode_message, encode_block, encode_message
from schemas.errors import (
    InvalidRecordError,
    MalformedBlockError,
    MalformedMessageError,
    UnknownFingerprintError,
)

from .samples import caf_record, protocol_samples, records

CATALOG = load_catalog()
CAF = CATALOG.dataset("caf.allocataires", 1)
SAMPLES = protocol_samples(CAF.fingerprint)
HEADER = CATALOG.protocol("drop_header")
MESSAGE_REASONS = {"bad_marker", "truncated", "trailing_bytes", "bad_body", "out_of_domain"}
VALID_CAF = caf_record()


@pytest.mark.parametrize("name", CATALOG.protocols())
def test_every_protocol_message_round_trips(name: str) -> None:
    schema = CATALOG.protocol(name)
    data = encode_message(schema, SAMPLES[name])
    assert data[:2] == MARKER and data[2:10] == schema.fingerprint
    decoded_schema, record = decode_message(CATALOG, data)
    assert decoded_schema is schema
    assert record == SAMPLES[name]


def test_optional_message_fields_may_be_omitted() -> None:
    event = dict(SAMPLES["quarantine_event"])
    del event["partner"], event["drop_id"]
    _, record = decode_message(CATALOG, encode_message(CATALOG.protocol("quarantine_event"), event))
    assert record["partner"] is None and record["drop_id"] is None


@pytest.mark.parametrize("prefix", [b"", b"\xc3", b"\xc2\x01", b"\x00\x00" + bytes(8), b"\xc3\x02"])
def test_bad_marker(prefix: bytes) -> None:
    with pytest.raises(MalformedMessageError) as info:
        decode_message(CATALOG, prefix)
    assert info.value.reason == "bad_marker"


def test_unknown_fingerprint() -> None:
    data = encode_message(HEADER, SAMPLES["drop_header"])
    with pytest.raises(UnknownFingerprintError):
        decode_message(CATALOG, data[:2] + bytes(8) + data[10:])


def test_every_truncation_is_reported() -> None:
    data = encode_message(HEADER, SAMPLES["drop_header"])
    for cut in range(2, len(data)):
        with pytest.raises(MalformedMessageError) as info:
            decode_message(CATALOG, data[:cut])
        assert info.value.reason == "truncated", cut


def test_trailing_bytes() -> None:
    data = encode_message(HEADER, SAMPLES["drop_header"])
    with pytest.raises(MalformedMessageError, match="3 bytes after the body") as info:
        decode_message(CATALOG, data + b"\x00\x00\x00")
    assert info.value.reason == "trailing_bytes"


def test_a_dataset_fingerprint_is_not_a_message() -> None:
    with pytest.raises(MalformedMessageError) as info:
        decode_message(CATALOG, MARKER + CAF.fingerprint + b"\x00")
    assert info.value.reason == "not_a_protocol_message"


def test_values_outside_the_domain_are_refused_both_ways() -> None:
    schema = CATALOG.protocol("receipt")
    row = dict(SAMPLES["receipt"], outcome="maybe")
    with pytest.raises(InvalidRecordError, match="field outcome: not one of its allowed values"):
        encode_message(schema, row)
    body = BytesIO()
    fastavro.schemaless_writer(body, schema.parsed, row)
    with pytest.raises(MalformedMessageError) as info:
        decode_message(CATALOG, MARKER + schema.fingerprint + body.getvalue())
    assert info.value.reason == "out_of_domain"
    chunk = dict(SAMPLES["drop_chunk"], sequence=-1)
    with pytest.raises(InvalidRecordError, match="field sequence: below its minimum 0"):
        encode_message(CATALOG.protocol("drop_chunk"), chunk)


def test_a_message_that_does_not_fit_its_schema() -> None:
    with pytest.raises(InvalidRecordError, match="field convention_version"):
        encode_message(HEADER, dict(SAMPLES["drop_header"], convention_version="two"))
    without_id = {k: v for k, v in SAMPLES["drop_header"].items() if k != "drop_id"}
    with pytest.raises(InvalidRecordError, match="Field drop_id is specified"):
        encode_message(HEADER, without_id)
    with pytest.raises(InvalidRecordError, match="more fields"):
        encode_message(HEADER, dict(SAMPLES["drop_header"], secret="x"))


@given(data=st.binary(max_size=64))
def test_random_bytes_never_escape_as_fastavro_errors(data: bytes) -> None:
    for candidate in (data, MARKER + HEADER.fingerprint + data):
        try:
            schema, record = decode_message(CATALOG, candidate)
        except MalformedMessageError as exc:
            assert exc.reason in MESSAGE_REASONS
        except UnknownFingerprintError as exc:
            assert exc.fingerprint == candidate[2:10]
        else:
            assert set(record) == set(schema.fields)


@pytest.mark.parametrize("dataset", CATALOG.datasets())
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_block_round_trip_for_every_dataset(dataset: str, data: st.DataObject) -> None:
    for version in CATALOG.versions(dataset):
        schema = CATALOG.dataset(dataset, version)
        rows = data.draw(st.lists(records(schema), max_size=30))
        block = encode_block(schema, rows)
        assert decode_block(schema, block, len(rows)) == rows


@given(rows=st.lists(records(CAF), min_size=1, max_size=50))
def test_caf_block_round_trip_including_nulls(rows: list[dict[str, Any]]) -> None:
    block = encode_block(CAF, iter(rows))
    assert decode_block(CAF, block, len(rows)) == rows


def test_old_blocks_read_as_the_new_version() -> None:
    v2 = CATALOG.dataset("caf.allocataires", 2)
    block = encode_block(CAF, [VALID_CAF])
    assert decode_block(CAF, block, 1, reader=v2) == [dict(VALID_CAF, quotient_familial=None)]


def test_a_newer_block_cannot_be_read_as_an_older_version_that_lacks_nothing() -> None:
    v2 = CATALOG.dataset("caf.allocataires", 2)
    block = encode_block(v2, [dict(VALID_CAF, quotient_familial=700)])
    # v1 simply ignores the added field: forward reading works too.
    assert decode_block(v2, block, 1, reader=CAF) == [VALID_CAF]
    with pytest.raises(MalformedBlockError) as info:
        decode_block(v2, block, 1, reader=CATALOG.dataset("insee.menages"))
    assert info.value.reason == "incompatible_reader"


def test_block_errors() -> None:
    block = encode_block(CAF, [VALID_CAF, VALID_CAF])
    for cut in range(len(block)):
        with pytest.raises(MalformedBlockError) as info:
            decode_block(CAF, block[:cut], 2)
        assert info.value.reason == "truncated", cut
    with pytest.raises(MalformedBlockError) as info:
        decode_block(CAF, block + b"\x00", 2)
    assert info.value.reason == "trailing_bytes"
    with pytest.raises(MalformedBlockError, match="2 records, the chunk says 3") as info:
        decode_block(CAF, block, 3)
    assert info.value.reason == "count_mismatch"
    assert decode_block(CAF, encode_block(CAF, []), 0) == []


@given(data=st.binary(max_size=200))
def test_random_block_bytes_raise_only_malformed_block(data: bytes) -> None:
    try:
        rows = decode_block(CAF, data, 1)
    except MalformedBlockError as exc:
        assert exc.reason in {"truncated", "bad_body", "trailing_bytes", "count_mismatch"}
    else:
        assert len(rows) == 1 and set(rows[0]) == set(CAF.fields)


def test_a_record_that_does_not_fit_is_located_without_its_value() -> None:
    rows = [VALID_CAF, VALID_CAF, dict(VALID_CAF, age_responsable="quarante-et-un")]
    with pytest.raises(InvalidRecordError, match=r"\(record 2\): field age_responsable") as info:
        encode_block(CAF, rows)
    assert info.value.index == 2
    assert "quarante" not in str(info.value)
    with pytest.raises(InvalidRecordError, match="rsa"):
        encode_block(CAF, [{k: v for k, v in VALID_CAF.items() if k != "rsa"}])
    with pytest.raises(InvalidRecordError, match="iris"):
        encode_block(CAF, [dict(VALID_CAF, iris=None)])
