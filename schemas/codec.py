"""Bytes on the wire: protocol messages and blocks of records.

A protocol message (header, chunk, trailer, indicator row, quarantine and
audit events) is one Kafka value in Avro single-object encoding:

    C3 01 | 8-byte little-endian CRC-64-AVRO fingerprint | Avro binary body

so a reader finds the writer's schema in the catalog without a registry.

A chunk's plaintext is a *block*: the Avro binary encoding of an array of
dataset records (`[count][record]…[0]`), written and read by fastavro in one
call with the schema parsed once at catalog load. One call per block rather
than per record measured fastest (docs/wire.md, "Block codec"). The record
count also travels in the chunk message, and `decode_block` checks that both
agree.

Records are written strictly: every field of the schema must be present and
no other. Protocol messages may omit fields that have a default.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from io import BytesIO
from operator import itemgetter
from typing import Any

from fastavro import schemaless_reader, schemaless_writer
from fastavro.read import SchemaResolutionError

from schemas.block_reader import BlockReader
from schemas.block_writer import BlockWriter
from schemas.catalog import SchemaCatalog
from schemas.errors import InvalidRecordError, MalformedBlockError, MalformedMessageError
from schemas.model import DatasetSchema, FieldSpec, ProtocolSchema

MARKER = b"\xc3\x01"
PREFIX_LENGTH = len(MARKER) + 8

# What fastavro raises for a record that does not fit, and for bytes that do not decode.
_WRITE_ERRORS = (ValueError, TypeError, KeyError, AttributeError, OverflowError)
_BODY_ERRORS = (ValueError, TypeError, KeyError, IndexError, OverflowError)
_ON_FIELD = re.compile(r"on field (\S+)\s*$")


def encode_message(schema: ProtocolSchema, record: Mapping[str, Any]) -> bytes:
    """Single-object encoding of one protocol message."""
    problem = domain_problem(schema.fields, record)
    if problem is not None:
        raise InvalidRecordError(schema.label, problem)
    out = BytesIO()
    out.write(MARKER)
    out.write(schema.fingerprint)
    try:
        schemaless_writer(out, schema.parsed, record, strict_allow_default=True)
    except _WRITE_ERRORS as exc:
        raise InvalidRecordError(schema.label, _describe(exc)) from exc
    return out.getvalue()


def decode_message(catalog: SchemaCatalog, data: bytes) -> tuple[ProtocolSchema, dict[str, Any]]:
    """The schema and the record of one single-object encoded protocol message."""
    if data[: len(MARKER)] != MARKER:
        raise MalformedMessageError("bad_marker", "does not start with C3 01")
    if len(data) < PREFIX_LENGTH:
        raise MalformedMessageError("truncated", f"{len(data)} bytes, shorter than the prefix")
    schema = catalog.by_fingerprint(bytes(data[len(MARKER) : PREFIX_LENGTH]))
    if not isinstance(schema, ProtocolSchema):
        raise MalformedMessageError(
            "not_a_protocol_message", "the fingerprint is a dataset record's", schema.label
        )
    body = BytesIO(data)
    body.seek(PREFIX_LENGTH)
    try:
        record = schemaless_reader(body, schema.parsed, None)
    except (EOFError, *_BODY_ERRORS) as exc:
        reason = _read_failure(exc, body, len(data))
        raise MalformedMessageError(reason, type(exc).__name__, schema.label) from exc
    if body.tell() != len(data):
        extra = len(data) - body.tell()
        raise MalformedMessageError("trailing_bytes", f"{extra} bytes after the body", schema.label)
    if not isinstance(record, dict):  # a record schema always decodes to a dict
        raise MalformedMessageError("bad_body", "not a record", schema.label)
    problem = domain_problem(schema.fields, record)
    if problem is not None:
        raise MalformedMessageError("out_of_domain", problem, schema.label)
    return schema, record


_BLOCK_WRITERS: dict[bytes, BlockWriter | None] = {}  # by record schema fingerprint


def _block_writer(schema: DatasetSchema) -> BlockWriter | None:
    if schema.fingerprint not in _BLOCK_WRITERS:
        _BLOCK_WRITERS[schema.fingerprint] = BlockWriter.for_schema(schema.raw)
    return _BLOCK_WRITERS[schema.fingerprint]


def encode_block(schema: DatasetSchema, records: Iterable[Mapping[str, Any]]) -> bytes:
    """The Avro encoding of these records as one array: a chunk's plaintext.

    Written column by column (schemas/block_writer.py) when every value is of
    a kind that writer handles; otherwise, and for every error, by fastavro.
    """
    rows = records if isinstance(records, list) else list(records)
    writer = _block_writer(schema)
    if writer is not None:
        data = writer.write(rows)
        if data is not None:
            return data
    out = BytesIO()
    try:
        schemaless_writer(out, schema.block_parsed, rows, strict=True, disable_tuple_notation=True)
    except _WRITE_ERRORS as exc:
        raise _locate(schema, rows) or InvalidRecordError(schema.label, _describe(exc)) from exc
    return out.getvalue()


_BLOCK_READERS: dict[bytes, BlockReader | None] = {}  # by record schema fingerprint


def _block_reader(schema: DatasetSchema) -> BlockReader | None:
    if schema.fingerprint not in _BLOCK_READERS:
        _BLOCK_READERS[schema.fingerprint] = BlockReader.for_schema(schema.raw)
    return _BLOCK_READERS[schema.fingerprint]


def decode_block(
    schema: DatasetSchema,
    data: bytes,
    count: int,
    reader: DatasetSchema | None = None,
) -> list[dict[str, Any]]:
    """The `count` records of a block written with `schema`.

    Read field by field (schemas/block_reader.py) when the block is plain and
    well formed; otherwise, and for every error, by fastavro. With `reader`,
    records are resolved into that version of the dataset (Avro schema
    resolution: added fields take their default), by fastavro.
    """
    if reader is None or reader is schema:
        fast = _block_reader(schema)
        read = fast.read(data) if fast is not None else None
        if read is not None:
            if len(read) != count:
                raise MalformedBlockError(
                    schema.label, "count_mismatch", f"{len(read)} records, the chunk says {count}"
                )
            return read
    buf = BytesIO(data)
    reader_parsed = None if reader is None or reader is schema else reader.block_parsed
    try:
        rows = schemaless_reader(buf, schema.block_parsed, reader_parsed)
    except (EOFError, *_BODY_ERRORS) as exc:
        reason = _read_failure(exc, buf, len(data))
        raise MalformedBlockError(schema.label, reason, type(exc).__name__) from exc
    except SchemaResolutionError as exc:
        # Only with a reader version that `obshub schema check` would have refused.
        target = reader.label if reader is not None else schema.label
        raise MalformedBlockError(
            schema.label, "incompatible_reader", f"cannot be read as {target}"
        ) from exc
    if buf.tell() != len(data):
        extra = len(data) - buf.tell()
        raise MalformedBlockError(schema.label, "trailing_bytes", f"{extra} bytes after the block")
    if not isinstance(rows, list):  # an array schema always decodes to a list
        raise MalformedBlockError(schema.label, "bad_body", "not an array")
    if len(rows) != count:
        raise MalformedBlockError(
            schema.label, "count_mismatch", f"{len(rows)} records, the chunk says {count}"
        )
    return rows


def domain_problem(fields: Mapping[str, FieldSpec], record: Mapping[str, Any]) -> str | None:
    """The first top-level value outside its `obshub.values` / `obshub.min` / `obshub.max`.

    The message names the field, never the value.
    """
    for spec in fields.values():
        if spec.values is None and spec.minimum is None and spec.maximum is None:
            continue
        value = record.get(spec.name)
        if value is None:
            continue
        if spec.values is not None and value not in spec.values:
            return f"field {spec.name}: not one of its allowed values"
        if isinstance(value, int | float):
            if spec.minimum is not None and value < spec.minimum:
                return f"field {spec.name}: below its minimum {spec.minimum}"
            if spec.maximum is not None and value > spec.maximum:
                return f"field {spec.name}: above its maximum {spec.maximum}"
    return None


def out_of_domain(
    fields: Mapping[str, FieldSpec], records: Sequence[Mapping[str, Any]]
) -> set[int]:
    """Indexes of the records for which `domain_problem` is not None.

    Judged column by column on each field's distinct values, which values
    equal to each other share (so 1, 1.0 and True are judged alike, as
    `domain_problem` would judge each of them).
    """
    bad: set[int] = set()
    for spec in fields.values():
        if spec.values is None and spec.minimum is None and spec.maximum is None:
            continue
        try:  # decoded records hold every field; other mappings may not
            column = list(map(itemgetter(spec.name), records))
        except KeyError:
            column = [record.get(spec.name) for record in records]
        try:
            distinct = set(column)
        except TypeError:  # an unhashable value: record by record then
            return {i for i, r in enumerate(records) if domain_problem(fields, r) is not None}
        wrong = {value for value in distinct if _outside(spec, value)}
        if wrong:
            bad.update(i for i, value in enumerate(column) if value in wrong)
    return bad


def _outside(spec: FieldSpec, value: Any) -> bool:
    """`domain_problem`'s test of one field's value."""
    if value is None:
        return False
    if spec.values is not None and value not in spec.values:
        return True
    if isinstance(value, int | float):
        if spec.minimum is not None and value < spec.minimum:
            return True
        if spec.maximum is not None and value > spec.maximum:
            return True
    return False


def _read_failure(exc: Exception, buf: BytesIO, size: int) -> str:
    """`truncated` or `bad_body`: fastavro raises IndexError, not EOFError, when
    the data ends inside a varint, so a failure with every byte consumed counts
    as truncation."""
    return "truncated" if isinstance(exc, EOFError) or buf.tell() >= size else "bad_body"


def _locate(schema: DatasetSchema, rows: list[Mapping[str, Any]]) -> InvalidRecordError | None:
    """Which record of a block does not fit: only run once encoding failed."""
    for index, row in enumerate(rows):
        try:
            schemaless_writer(BytesIO(), schema.parsed, row, strict=True)
        except _WRITE_ERRORS as exc:
            return InvalidRecordError(schema.label, _describe(exc), index)
    return None


def _describe(exc: BaseException) -> str:
    """fastavro's message without the offending value, which may be personal data."""
    text = str(exc)
    match = _ON_FIELD.search(text)
    if match:
        return f"field {match.group(1)}: value has the wrong type or is out of range"
    if text.startswith(("Field ", "record contains more fields")):
        return text
    return f"{type(exc).__name__} while encoding"
