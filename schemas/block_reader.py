"""A reader for blocks of flat dataset records, giving exactly fastavro's records.

fastavro reads a caf.allocataires block at about 300,000 records/s, most of
the hub worker's time per chunk (bench/README.md). For a flat record schema
(string, int, long, double, boolean, date, each possibly nullable: every
dataset, docs/wire.md) this module writes, once per schema, a small Python
function that reads the block field by field with the record's layout
unrolled, single-byte varints looked up in a table and repeated strings
memoised: about twice as fast.

`BlockReader.read` returns None whenever the bytes are not a plain, well
formed block it is sure to read as fastavro would (a union branch, a varint,
a length or a UTF-8 sequence out of the ordinary, several array blocks,
bytes after the end): the codec then reads them with fastavro, which also
names what is wrong. Equality with fastavro, and declining whatever fastavro
refuses, are tested properties (tests/unit/schemas).
"""

from __future__ import annotations

import datetime as dt
import struct
from collections.abc import Callable, Mapping
from typing import Any

from schemas.model import fast_field

MEMO_LIMIT = 4096  # distinct strings memoised per schema
EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
ZIGZAG = tuple((b >> 1) ^ -(b & 1) for b in range(0x80))  # one-byte varints

Decode = Callable[[bytes], list[dict[str, Any]] | None]


def read_varint(data: bytes, pos: int) -> tuple[int, int]:
    """An Avro long at `pos` (at most 10 bytes) and the position after it."""
    shift = z = 0
    for _ in range(10):
        b = data[pos]
        pos += 1
        z |= (b & 0x7F) << shift
        if b < 0x80:
            return (z >> 1) ^ -(z & 1), pos
        shift += 7
    raise ValueError("varint longer than 10 bytes")


def _date(days: int) -> dt.date:
    return dt.date.fromordinal(days + EPOCH_ORDINAL)


_LONG = """{i}b = data[pos]
{i}if b < 0x80:
{i}    pos += 1
{i}    {target} = ZIGZAG[b]
{i}elif data[pos + 1] < 0x80:  # two bytes: a 64-hex pseudonym's length, for one
{i}    z = (b & 0x7F) | (data[pos + 1] << 7)
{i}    pos += 2
{i}    {target} = (z >> 1) ^ -(z & 1)
{i}else:
{i}    {target}, pos = read_varint(data, pos)
"""

_STRING = (
    _LONG.format(i="{i}", target="n")
    + """{i}end = pos + n
{i}if n < 0 or end > size:
{i}    return None
{i}raw = data[pos:end]
{i}pos = end
{i}{target} = memo_get(raw)
{i}if {target} is None:
{i}    {target} = raw.decode("utf-8")
{i}    if len(memo) < MEMO_LIMIT:
{i}        memo[raw] = {target}
"""
)

_DOUBLE = """{i}{target} = unpack_double(data, pos)[0]
{i}pos += 8
"""

_BOOLEAN = """{i}b = data[pos]
{i}pos += 1
{i}if b > 1:
{i}    return None
{i}{target} = b == 1
"""

_DATE = _LONG.format(i="{i}", target="days") + "{i}{target} = to_date(days)\n"

_TEMPLATES = {
    "string": _STRING,
    "int": _LONG,
    "long": _LONG,
    "double": _DOUBLE,
    "boolean": _BOOLEAN,
    "date": _DATE,
}


def _field_code(field: Mapping[str, Any], target: str) -> str | None:
    """Source reading one field into `target`, or None for a field not handled."""
    handled = fast_field(field["type"])
    if handled is None:
        return None
    kind, null_index = handled
    if null_index is None:
        return _TEMPLATES[kind].format(i=" " * 8, target=target)
    value = _TEMPLATES[kind].format(i=" " * 12, target=target)
    return (
        "        b = data[pos]\n"
        "        pos += 1\n"
        f"        if b == {2 * null_index}:\n"  # zig-zag of the branch index
        f"            {target} = None\n"
        f"        elif b == {2 * (1 - null_index)}:\n"
        f"{value}"
        "        else:\n"
        "            return None\n"
    )


def compile_reader(record_schema: Mapping[str, Any]) -> Decode | None:
    """The block reading function of a flat record schema, or None."""
    if record_schema.get("type") != "record" or not record_schema.get("fields"):
        return None
    fields = list(record_schema["fields"])
    parts = []
    for index, field in enumerate(fields):
        code = _field_code(field, f"f{index}")
        if code is None:
            return None
        parts.append(code)
    names = [str(f["name"]) for f in fields]
    record = ", ".join(f"{name!r}: f{i}" for i, name in enumerate(names))
    source = (
        "def decode(data):\n"
        "    size = len(data)\n"
        "    count, pos = read_varint(data, 0)\n"
        "    if count <= 0:\n"
        "        return None\n"
        "    records = []\n"
        "    append = records.append\n"
        "    for _ in range(count):\n" + "".join(parts) + f"        append({{{record}}})\n"
        "    if pos != size - 1 or data[pos] != 0:\n"
        "        return None\n"
        "    return records\n"
    )
    memo: dict[bytes, str] = {}
    namespace: dict[str, Any] = {
        "ZIGZAG": ZIGZAG,
        "read_varint": read_varint,
        "memo": memo,
        "memo_get": memo.get,
        "MEMO_LIMIT": MEMO_LIMIT,
        "unpack_double": struct.Struct("<d").unpack_from,
        "to_date": _date,
    }
    exec(compile(source, f"<block reader {record_schema.get('name')}>", "exec"), namespace)
    decode: Decode = namespace["decode"]
    return decode


class BlockReader:
    """Reads an Avro array of flat records, or says it cannot (None)."""

    def __init__(self, decode: Decode) -> None:
        self._decode = decode

    @classmethod
    def for_schema(cls, record_schema: Mapping[str, Any]) -> BlockReader | None:
        decode = compile_reader(record_schema)
        return None if decode is None else cls(decode)

    def read(self, data: bytes) -> list[dict[str, Any]] | None:
        """The block's records, or None to let fastavro read (and judge) it."""
        if type(data) is not bytes:
            return None
        try:
            return self._decode(data)
        except (IndexError, ValueError, OverflowError, struct.error):
            return None  # UnicodeDecodeError is a ValueError
