"""What one schema file means: its fingerprint, its fields and their domains.

A schema file is plain Avro JSON plus `obshub.*` attributes (docs/wire.md).
`build_dataset_schema` and `build_protocol_schema` turn one parsed JSON
document into a frozen description, parsing it with fastavro exactly once
and checking the obshub rules, so that every other layer can trust what it
reads here without looking at the JSON again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import fastavro
from fastavro.schema import SchemaParseException, UnknownType, to_parsing_canonical_form
from fastavro.schema import fingerprint as _fastavro_fingerprint

from schemas.errors import CatalogError

GRAINS = ("household", "person", "aid", "iris-aggregate")
AGGREGATE_GRAIN = "iris-aggregate"
LOCATION_FIELDS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"iris": ("iris",), "lonlat": ("lon", "lat"), "carreau": ("carreau",), "qpv": ("code_qp",)}
)
DATASET_FIELD_TYPES = frozenset({"string", "int", "long", "float", "double", "boolean"})
NUMERIC_TYPES = frozenset({"int", "long", "float", "double"})
FAST_KINDS = frozenset({"string", "int", "long", "double", "boolean", "date"})
DATASET_NAMESPACE = "obshub.dataset"
PROTOCOL_NAMESPACE = "obshub.protocol"

Number = int | float


def fast_kind(avro: Any) -> str | None:
    """The kind the block codec's fast paths handle for a (non-union) Avro type:
    `string`, `int`, `long`, `double`, `boolean`, or `date` (an int with the
    logical type date); None for any other type, which fastavro handles."""
    if isinstance(avro, str):
        return avro if avro in FAST_KINDS and avro != "date" else None
    if isinstance(avro, Mapping) and set(avro) <= {"type", "logicalType"}:
        logical = avro.get("logicalType")
        if logical is None:
            return fast_kind(avro["type"])
        if logical == "date" and avro["type"] == "int":
            return "date"
    return None


def fast_field(avro: Any) -> tuple[str, int | None] | None:
    """(kind, position of `null` in the union, None when not nullable) of a record
    field's Avro type, or None when the fast paths do not handle it."""
    if isinstance(avro, list):
        if len(avro) != 2 or "null" not in avro:
            return None
        null_index = avro.index("null")
        kind = fast_kind(avro[1 - null_index])
        return None if kind is None else (kind, null_index)
    kind = fast_kind(avro)
    return None if kind is None else (kind, None)


@dataclass(frozen=True)
class FieldSpec:
    """One top-level field: its base Avro type and the domain obshub gives it."""

    name: str
    avro_type: str  # base type: string, int, long, double, boolean, bytes, fixed, map, record…
    logical_type: str | None = None
    nullable: bool = False
    values: tuple[str, ...] | None = None
    minimum: Number | None = None
    maximum: Number | None = None
    pattern: str | None = None  # `obshub.pattern`, a regular expression for strings


@dataclass(frozen=True)
class DatasetSchema:
    """One version of a dataset's wire record."""

    dataset_id: str
    version: int
    fingerprint: bytes  # 8 bytes, little-endian, as in single-object encoding
    parsed: Any = field(repr=False, compare=False)
    grain: str
    identifier: str | None
    location: str
    measure: str | None
    fields: Mapping[str, FieldSpec] = field(repr=False, compare=False)
    raw: Mapping[str, Any] = field(repr=False, compare=False)
    # The parsed schema of an Avro array of these records: the block codec's unit.
    block_parsed: Any = field(repr=False, compare=False)

    @property
    def label(self) -> str:
        return f"{self.dataset_id} v{self.version}"

    @property
    def location_fields(self) -> tuple[str, ...]:
        """`("iris",)`, `("lon", "lat")` or `("carreau",)`."""
        return LOCATION_FIELDS[self.location]


@dataclass(frozen=True)
class ProtocolSchema:
    """One version of a protocol message (`drop_header`, `audit_event`…)."""

    name: str
    version: int
    fingerprint: bytes
    parsed: Any = field(repr=False, compare=False)
    fields: Mapping[str, FieldSpec] = field(repr=False, compare=False)
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @property
    def label(self) -> str:
        return f"{self.name} v{self.version}"


def schema_fingerprint(schema: Any) -> bytes:
    """CRC-64-AVRO (Rabin) fingerprint of the schema's Parsing Canonical Form.

    Eight bytes, little-endian: the order Avro's single-object encoding puts
    on the wire. The canonical form drops `doc`, defaults, logical types and
    every `obshub.*` attribute, so two versions that differ only there share
    a fingerprint (the catalog refuses that).
    """
    return bytes.fromhex(_fastavro_fingerprint(to_parsing_canonical_form(schema), "CRC-64-AVRO"))


def full_name(raw: Mapping[str, Any]) -> str:
    name = str(raw.get("name", ""))
    namespace = raw.get("namespace")
    return name if "." in name or not namespace else f"{namespace}.{name}"


def build_dataset_schema(
    raw: Mapping[str, Any], source: str, dataset_id: str, version: int
) -> DatasetSchema:
    """Check a dataset record schema against the obshub rules and describe it."""
    _expect_record(raw, source, f"{DATASET_NAMESPACE}.{dataset_id}")
    _expect_attr(raw, source, "obshub.dataset", dataset_id)
    _expect_attr(raw, source, "obshub.version", version)
    fields = _field_specs(raw, source)
    grain = _choice(raw, source, "obshub.grain", GRAINS)
    location = _choice(raw, source, "obshub.location", tuple(LOCATION_FIELDS))
    identifier = _optional_str(raw, source, "obshub.identifier")
    measure = _optional_str(raw, source, "obshub.measure")
    required = set(LOCATION_FIELDS[location])
    if grain == AGGREGATE_GRAIN:
        if identifier is not None:
            raise CatalogError(source, "an aggregate dataset has no obshub.identifier")
        if measure is None:
            raise CatalogError(source, "an aggregate dataset needs obshub.measure")
        _expect_field(fields, source, measure, "obshub.measure", {"int", "long"})
        required.add(measure)
    else:
        if identifier is None:
            raise CatalogError(source, f"a {grain} dataset needs obshub.identifier")
        if measure is not None:
            raise CatalogError(source, "only an aggregate dataset has obshub.measure")
        _expect_field(fields, source, identifier, "obshub.identifier", {"string"})
    for name in LOCATION_FIELDS[location]:
        kinds = {"double"} if location == "lonlat" else {"string"}
        _expect_field(fields, source, name, "obshub.location", kinds)
    for spec in fields.values():
        if spec.avro_type not in DATASET_FIELD_TYPES:
            raise CatalogError(source, f"field {spec.name}: type {spec.avro_type} is not allowed")
        if spec.nullable == (spec.name in required):
            rule = "must not" if spec.nullable else "must"
            raise CatalogError(source, f"field {spec.name} {rule} be nullable (docs/wire.md)")
    parsed = _parse(raw, source)  # first: fingerprinting assumes valid Avro
    return DatasetSchema(
        dataset_id=dataset_id,
        version=version,
        fingerprint=schema_fingerprint(raw),
        parsed=parsed,
        grain=grain,
        identifier=identifier,
        location=location,
        measure=measure,
        fields=fields,
        raw=MappingProxyType(dict(raw)),
        block_parsed=_parse({"type": "array", "items": raw}, source),
    )


def build_protocol_schema(
    raw: Mapping[str, Any], source: str, name: str, version: int
) -> ProtocolSchema:
    """Check a protocol message schema's naming and describe it."""
    _expect_record(raw, source, f"{PROTOCOL_NAMESPACE}.{name}")
    _expect_attr(raw, source, "obshub.protocol", name)
    _expect_attr(raw, source, "obshub.version", version)
    parsed = _parse(raw, source)  # first: fingerprinting assumes valid Avro
    return ProtocolSchema(
        name=name,
        version=version,
        fingerprint=schema_fingerprint(raw),
        parsed=parsed,
        fields=_field_specs(raw, source),
        raw=MappingProxyType(dict(raw)),
    )


def field_spec(raw_field: Mapping[str, Any], source: str = "<schema>") -> FieldSpec:
    """Describe one record field from its JSON."""
    name = str(raw_field.get("name", ""))
    avro_type, logical_type, nullable = _base_type(raw_field.get("type"))
    values = raw_field.get("obshub.values")
    minimum, maximum = raw_field.get("obshub.min"), raw_field.get("obshub.max")
    pattern = raw_field.get("obshub.pattern")
    where = f"field {name}"
    if nullable and ("default" not in raw_field or raw_field["default"] is not None):
        raise CatalogError(source, f"{where}: a nullable field needs default null")
    if values is not None:
        if avro_type != "string" or not _is_str_list(values) or len(set(values)) != len(values):
            raise CatalogError(source, f"{where}: obshub.values is a list of distinct strings")
        values = tuple(values)
    for bound in (minimum, maximum):
        if bound is not None and (avro_type not in NUMERIC_TYPES or not _is_number(bound)):
            raise CatalogError(source, f"{where}: obshub.min/max are numbers on a numeric field")
    if minimum is not None and maximum is not None and minimum > maximum:
        raise CatalogError(source, f"{where}: obshub.min is above obshub.max")
    if pattern is not None:
        if avro_type != "string" or not isinstance(pattern, str):
            raise CatalogError(source, f"{where}: obshub.pattern is a string on a string field")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise CatalogError(source, f"{where}: obshub.pattern: {exc}") from exc
    return FieldSpec(name, avro_type, logical_type, nullable, values, minimum, maximum, pattern)


def _base_type(avro: Any) -> tuple[str, str | None, bool]:
    """(base type name, logical type, nullable) of a field's type."""
    nullable = False
    if isinstance(avro, list):
        branches = [b for b in avro if b != "null"]
        nullable = len(branches) < len(avro)
        if nullable and avro[0] != "null":
            return "union", None, False  # null not first: no null default possible
        if len(branches) != 1:
            return "union", None, nullable
        avro = branches[0]
    if isinstance(avro, dict):
        kind = avro.get("type")
        logical = avro.get("logicalType")
        if isinstance(kind, str):
            return kind, logical if isinstance(logical, str) else None, nullable
        return "unknown", None, nullable
    return (avro if isinstance(avro, str) else "unknown"), None, nullable


def _field_specs(raw: Mapping[str, Any], source: str) -> Mapping[str, FieldSpec]:
    raw_fields = raw.get("fields")
    if not isinstance(raw_fields, list) or not raw_fields:
        raise CatalogError(source, "a record schema needs a non-empty list of fields")
    specs: dict[str, FieldSpec] = {}
    for raw_field in raw_fields:
        if not isinstance(raw_field, dict):
            raise CatalogError(source, "every field is a JSON object")
        spec = field_spec(raw_field, source)
        specs[spec.name] = spec
    return MappingProxyType(specs)


def _parse(raw: Mapping[str, Any], source: str) -> Any:
    try:
        return fastavro.parse_schema(dict(raw), named_schemas={})
    except (SchemaParseException, UnknownType, ValueError, TypeError, KeyError) as exc:
        raise CatalogError(source, f"not a valid Avro schema: {exc}") from exc


def _expect_record(raw: Mapping[str, Any], source: str, name: str) -> None:
    if raw.get("type") != "record":
        raise CatalogError(source, "the top-level schema must be a record")
    if full_name(raw) != name:
        raise CatalogError(source, f"record full name is {full_name(raw)!r}, expected {name!r}")


def _expect_attr(raw: Mapping[str, Any], source: str, key: str, expected: object) -> None:
    if raw.get(key) != expected or type(raw.get(key)) is not type(expected):
        raise CatalogError(source, f"{key} is {raw.get(key)!r}, expected {expected!r}")


def _expect_field(
    fields: Mapping[str, FieldSpec], source: str, name: str, attr: str, kinds: set[str]
) -> None:
    spec = fields.get(name)
    if spec is None:
        raise CatalogError(source, f"{attr} names {name!r}, which is not a field")
    if spec.avro_type not in kinds:
        raise CatalogError(source, f"{attr} field {name} must be {' or '.join(sorted(kinds))}")


def _choice(raw: Mapping[str, Any], source: str, key: str, allowed: tuple[str, ...]) -> str:
    value = raw.get(key)
    if value not in allowed:
        raise CatalogError(source, f"{key} is {value!r}, expected one of {', '.join(allowed)}")
    return str(value)


def _optional_str(raw: Mapping[str, Any], source: str, key: str) -> str | None:
    value = raw.get(key)
    if value is not None and not isinstance(value, str):
        raise CatalogError(source, f"{key} must be a field name")
    return value


def _is_str_list(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
