"""A column-wise writer for blocks of flat dataset records, byte for byte fastavro's.

fastavro writes a block record by record and resolves every nullable union
value by value: about 200,000 caf.allocataires records/s, the bound of the
connector (bench/README.md). Dataset records are flat (docs/wire.md: string,
int, long, double, boolean, date, each possibly nullable), so a block can be
written column by column instead: each column's values are checked for
their exact Python types in one pass, encoded through a memo of the values
already seen (most columns hold a few dozen distinct values), and the
block is joined at once.

`BlockWriter.write` returns None whenever it is not sure to produce what
fastavro would (a type other than the exact expected one, a missing or an
extra key, an int out of range, a schema with other kinds of field): the
codec then writes the block with fastavro, which also raises its errors.
The equality with fastavro is a tested property (tests/unit/schemas).
"""

from __future__ import annotations

import datetime as dt
import struct
from collections.abc import Callable, Mapping, Sequence
from itertools import chain
from operator import itemgetter
from typing import Any

from schemas.model import fast_field

MEMO_LIMIT = 4096  # distinct values memoised per column; past it, encode directly
EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
INT_RANGE = (-(2**31), 2**31 - 1)
LONG_RANGE = (-(2**63), 2**63 - 1)
_NONE = type(None)

Encode = Callable[[Any], bytes]


class _Unsupported(Exception):
    """A value this writer does not handle: the block goes to fastavro."""


def zigzag_varint(n: int) -> bytes:
    """Avro's `long` encoding: zig-zag, then base-128 little-endian varint."""
    z = (n << 1) ^ (n >> 63)
    out = bytearray()
    while z > 0x7F:
        out.append((z & 0x7F) | 0x80)
        z >>= 7
    out.append(z)
    return bytes(out)


def _integer(low: int, high: int) -> Encode:
    def encode(value: int) -> bytes:
        if not low <= value <= high:
            raise _Unsupported("out of range")
        return zigzag_varint(value)

    return encode


_LENGTHS = tuple(zigzag_varint(n) for n in range(1024))


def _string(value: str) -> bytes:
    data = value.encode("utf-8")
    size = len(data)
    return (_LENGTHS[size] if size < 1024 else zigzag_varint(size)) + data


def _date(value: dt.date) -> bytes:
    return zigzag_varint(value.toordinal() - EPOCH_ORDINAL)


_DOUBLE = struct.Struct("<d").pack

Base = tuple[frozenset[type], Encode, bool]  # exact types accepted, encoder, memoise?

# Doubles are not memoised: 0.0 == -0.0 (one key, two encodings) and nan != nan.
_PRIMITIVES: Mapping[str, Base] = {
    "string": (frozenset({str}), _string, True),
    "int": (frozenset({int}), _integer(*INT_RANGE), True),
    "long": (frozenset({int}), _integer(*LONG_RANGE), True),
    "double": (frozenset({float}), _DOUBLE, False),
    "boolean": (frozenset({bool}), lambda value: b"\x01" if value else b"\x00", True),
}


def _base(kind: str) -> Base:
    if kind == "date":
        return frozenset({dt.date}), _date, True
    return _PRIMITIVES[kind]


class _Memo(dict[Any, bytes]):
    __slots__ = ("encode",)

    def __init__(self, encode: Encode) -> None:
        super().__init__()
        self.encode = encode

    def __missing__(self, value: Any) -> bytes:
        data = self[value] = self.encode(value)
        return data


class ColumnWriter:
    """Encodes one field's column: its exact types checked at once, values memoised."""

    def __init__(
        self, name: str, accepted: frozenset[type], encode: Encode, memoise: bool = True
    ) -> None:
        self.name, self.accepted, self.encode = name, accepted, encode
        self._memo: _Memo | None = _Memo(encode) if memoise else None

    def write(self, values: list[Any]) -> list[bytes]:
        if not set(map(type, values)) <= self.accepted:
            raise _Unsupported(f"field {self.name}: a type fastavro must judge")
        memo = self._memo
        if memo is None:
            return list(map(self.encode, values))
        encoded = list(map(memo.__getitem__, values))
        if len(memo) > MEMO_LIMIT:  # mostly distinct values: the memo only costs
            self._memo = None
        return encoded


def column_writer(field: Mapping[str, Any]) -> ColumnWriter | None:
    """The writer of one record field, or None for a kind of field not handled here."""
    handled = fast_field(field["type"])
    if handled is None:
        return None
    kind, null_index = handled
    accepted, encode_value, memoise = _base(kind)
    if null_index is None:
        return ColumnWriter(field["name"], accepted, encode_value, memoise)
    null, branch = zigzag_varint(null_index), zigzag_varint(1 - null_index)

    def encode(value: Any) -> bytes:
        return null if value is None else branch + encode_value(value)

    return ColumnWriter(field["name"], accepted | {_NONE}, encode, memoise)


class BlockWriter:
    """Writes an Avro array of flat records, or says it cannot (None)."""

    def __init__(self, columns: Sequence[ColumnWriter]) -> None:
        self.columns = tuple(columns)
        self.names = frozenset(c.name for c in columns)

    @classmethod
    def for_schema(cls, record_schema: Mapping[str, Any]) -> BlockWriter | None:
        """A writer for this record schema (parsed JSON), or None if any field is
        of a kind fastavro alone writes here."""
        if record_schema.get("type") != "record":
            return None
        columns = [column_writer(f) for f in record_schema.get("fields", ())]
        if not columns or any(c is None for c in columns):
            return None
        return cls([c for c in columns if c is not None])

    def write(self, records: Sequence[Any]) -> bytes | None:
        """The block's bytes, or None to let fastavro write (and judge) it."""
        if not records:
            return None
        width = len(self.columns)
        try:
            if set(map(type, records)) != {dict} or set(map(len, records)) != {width}:
                return None  # not plain dicts with exactly the schema's fields: fastavro says
            encoded = [c.write(list(map(itemgetter(c.name), records))) for c in self.columns]
        except (_Unsupported, KeyError, ValueError, TypeError, OverflowError):
            return None
        body = b"".join(chain.from_iterable(zip(*encoded, strict=True)))
        return zigzag_varint(len(records)) + body + b"\x00"
