"""Can each schema version read what the previous one wrote?

A hub on version N of a dataset must still read drops a connector wrote
with version N-1 (backward compatibility). `check_backward` decides it
three ways for every consecutive pair of versions:

1. Avro schema resolution, structurally: every field the reader adds has a
   default, every common field's type is equal or an Avro promotion
   (int→long→float→double, string↔bytes), union branches still resolve,
   enum symbols are not removed, logical types are unchanged.
2. obshub domains: `obshub.values` keeps every old value, `obshub.min` /
   `obshub.max` do not narrow, `obshub.pattern` is unchanged, and the
   record's grain, location, identifier and measure stay the same.
3. A round trip: sample records generated from the writer schema are
   written with it and read with fastavro resolving into the reader schema.
   This runs only when 1 and 2 found nothing, as a second opinion.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from io import BytesIO
from typing import Any

from fastavro import schemaless_reader, schemaless_writer
from fastavro.read import SchemaResolutionError

from schemas.catalog import SchemaCatalog
from schemas.model import DatasetSchema, FieldSpec, ProtocolSchema

AnySchema = DatasetSchema | ProtocolSchema

PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
PROMOTIONS: Mapping[str, frozenset[str]] = {
    "int": frozenset({"long", "float", "double"}),
    "long": frozenset({"float", "double"}),
    "float": frozenset({"double"}),
    "string": frozenset({"bytes"}),
    "bytes": frozenset({"string"}),
}
_RECORD_ATTRS = ("obshub.grain", "obshub.location", "obshub.identifier", "obshub.measure")


@dataclass(frozen=True)
class Problem:
    """One reason why `reader` cannot read what `writer` wrote."""

    subject: str  # e.g. "caf.allocataires v1 -> v2"
    field: str | None
    message: str

    def __str__(self) -> str:
        where = f"field {self.field}: " if self.field else ""
        return f"{self.subject}: {where}{self.message}"


def check_backward(catalog: SchemaCatalog) -> list[Problem]:
    """Problems with any version reading data written with the version before it."""
    problems: list[Problem] = []
    for dataset_id in catalog.datasets():
        versions = catalog.versions(dataset_id)
        for old, new in itertools.pairwise(versions):
            writer, reader = catalog.dataset(dataset_id, old), catalog.dataset(dataset_id, new)
            problems += check_pair(writer, reader)
    for name in catalog.protocols():
        versions = catalog.protocol_versions(name)
        for old, new in itertools.pairwise(versions):
            problems += check_pair(catalog.protocol(name, old), catalog.protocol(name, new))
    return problems


def check_pair(writer: AnySchema, reader: AnySchema) -> list[Problem]:
    """Problems with `reader` reading records written with `writer`."""
    subject = f"{writer.label} -> v{reader.version}"
    found = [
        Problem(subject, path or None, message)
        for path, message in resolution_issues(writer.raw, reader.raw)
    ]
    found += [
        Problem(subject, name, message)
        for name, message in _domain_issues(writer.fields, reader.fields)
    ]
    if isinstance(writer, DatasetSchema) and isinstance(reader, DatasetSchema):
        for attr in _RECORD_ATTRS:
            old, new = writer.raw.get(attr), reader.raw.get(attr)
            if old != new:
                found.append(Problem(subject, None, f"{attr} changed from {old!r} to {new!r}"))
    if not found:
        found += [Problem(subject, None, message) for message in _round_trip(writer, reader)]
    return found


def resolution_issues(writer: Any, reader: Any, path: str = "") -> list[tuple[str, str]]:
    """(field path, message) for each way Avro resolution of writer into reader fails."""
    if isinstance(writer, list):
        issues: list[tuple[str, str]] = []
        for branch in writer:
            issues += [i for i in resolution_issues(branch, reader, path) if i not in issues]
        return issues
    if isinstance(reader, list):
        if any(not resolution_issues(writer, branch, path) for branch in reader):
            return []
        options = ", ".join(_kind(branch) for branch in reader)
        return [(path, f"{_kind(writer)} values cannot be read as any of [{options}]")]
    old, new = _kind(writer), _kind(reader)
    if old in PRIMITIVES or new in PRIMITIVES or old != new:
        if old == "null" and new != "null":
            return [(path, "no longer nullable")]
        if old != new and new not in PROMOTIONS.get(old, frozenset()):
            return [(path, f"type changed from {old} to {new}")]
        if _logical(writer) != _logical(reader):
            was, now = _logical(writer) or "none", _logical(reader) or "none"
            return [(path, f"logical type changed from {was} to {now}")]
        return []
    if old == "record":
        return _record_issues(writer, reader, path)
    if old in ("fixed", "enum") and _short(writer) != _short(reader):
        return [(path, f"{old} renamed from {_short(writer)} to {_short(reader)}")]
    if old == "fixed" and writer.get("size") != reader.get("size"):
        return [(path, f"fixed size changed from {writer.get('size')} to {reader.get('size')}")]
    if old == "enum":
        lost = [s for s in writer.get("symbols", []) if s not in reader.get("symbols", [])]
        if lost and "default" not in reader:
            return [(path, f"enum symbols removed: {', '.join(lost)}")]
    if old == "array":
        return resolution_issues(writer.get("items"), reader.get("items"), path)
    if old == "map":
        return resolution_issues(writer.get("values"), reader.get("values"), path)
    return []


def _record_issues(writer: Any, reader: Any, path: str) -> list[tuple[str, str]]:
    if _short(writer) != _short(reader) and _short(writer) not in reader.get("aliases", []):
        return [(path, f"record renamed from {_short(writer)} to {_short(reader)}")]
    written = {f["name"]: f for f in writer.get("fields", [])}
    issues: list[tuple[str, str]] = []
    for field in reader.get("fields", []):
        name = field["name"]
        where = f"{path}.{name}" if path else name
        match = written.get(name) or next(
            (written[a] for a in field.get("aliases", []) if a in written), None
        )
        if match is None:
            if "default" not in field:
                issues.append((where, "added without a default"))
            continue
        issues += resolution_issues(match["type"], field["type"], where)
    return issues


def _domain_issues(
    old: Mapping[str, FieldSpec], new: Mapping[str, FieldSpec]
) -> list[tuple[str, str]]:
    issues: list[tuple[str, str]] = []
    for name, spec in new.items():
        was = old.get(name)
        if was is None:
            continue
        if spec.values is not None:
            lost = [v for v in was.values or () if v not in spec.values]
            if was.values is None:
                issues.append((name, "now restricted to obshub.values"))
            elif lost:
                issues.append((name, f"obshub.values removed: {', '.join(lost)}"))
        if spec.minimum is not None and (was.minimum is None or was.minimum < spec.minimum):
            issues.append((name, f"obshub.min raised from {was.minimum} to {spec.minimum}"))
        if spec.maximum is not None and (was.maximum is None or was.maximum > spec.maximum):
            issues.append((name, f"obshub.max lowered from {was.maximum} to {spec.maximum}"))
        if spec.pattern != was.pattern:
            issues.append((name, "obshub.pattern changed"))
    return issues


def _round_trip(writer: AnySchema, reader: AnySchema) -> list[str]:
    messages: list[str] = []
    for prefer_null in (False, True):
        record = sample_value(writer.raw, prefer_null)
        buf = BytesIO()
        try:
            schemaless_writer(buf, writer.parsed, record)
            buf.seek(0)
            read = schemaless_reader(buf, writer.parsed, reader.parsed)
        except (SchemaResolutionError, ValueError, TypeError, KeyError, EOFError) as exc:
            versions = f"v{writer.version} data as v{reader.version}"
            messages.append(f"fastavro cannot read {versions}: {exc}")
            break
        if not isinstance(read, dict):
            messages.append(f"v{writer.version} data does not read as a record")
            break
        changed = [k for k, v in record.items() if k in read and read[k] != v]
        if changed:
            messages.append(f"values change when read as v{reader.version}: {', '.join(changed)}")
    return messages


def sample_value(avro: Any, prefer_null: bool = False) -> Any:
    """A value valid for this Avro type, within its obshub domain when it has one."""
    if isinstance(avro, list):
        branches = [b for b in avro if b != "null"] if not prefer_null or "null" not in avro else []
        return sample_value(branches[-1], prefer_null) if branches else None
    kind, logical = _kind(avro), _logical(avro)
    if kind == "record":
        return {f["name"]: _sample_field(f, prefer_null) for f in avro.get("fields", [])}
    if logical == "date":
        return date(2024, 1, 1)
    if logical in ("timestamp-millis", "timestamp-micros"):
        return datetime(2024, 1, 1, tzinfo=UTC)
    simple: dict[str, Any] = {
        "null": None, "boolean": False, "int": 0, "long": 0, "float": 0.0, "double": 0.0,
        "bytes": b"", "string": "x", "array": [], "map": {},
    }  # fmt: skip
    if kind in simple:
        return simple[kind]
    if kind == "fixed":
        return bytes(int(avro.get("size", 0)))
    if kind == "enum":
        return avro.get("symbols", [None])[0]
    return None


def _sample_field(field: Mapping[str, Any], prefer_null: bool) -> Any:
    value = sample_value(field["type"], prefer_null)
    if value is None:
        return None
    if field.get("obshub.values"):
        return field["obshub.values"][0]
    if "obshub.min" in field and isinstance(value, int | float):
        return type(value)(field["obshub.min"])
    return value


def _kind(avro: Any) -> str:
    if isinstance(avro, str):
        return avro
    if isinstance(avro, list):
        return "union"
    if isinstance(avro, Mapping):
        inner = avro.get("type")
        return inner if isinstance(inner, str) else _kind(inner)
    return "unknown"


def _logical(avro: Any) -> str | None:
    return avro.get("logicalType") if isinstance(avro, Mapping) else None


def _short(named: Mapping[str, Any]) -> str:
    return str(named.get("name", "")).rsplit(".", 1)[-1]
