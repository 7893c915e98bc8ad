"""Rows of an extract checked against the dataset schema and the convention.

`RowValidator` is compiled once per extract (header, mapping, schema,
dataset terms, pseudonym secret) into one small converter per field; then
`validate` turns a batch of text rows into wire records and a tally of
rejections. Per row it only calls the converters: no lookups by name.

Field policies apply here, at the source: a field the convention does not
name, or names `drop`, is never read and is sent as null; `pseudonymise`
sends the HMAC pseudonym; `generalise` sends the lower bound of the band.
Rejections are counted by reason with the first few row numbers, never with
the values that caused them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from connectors.mapping import ColumnMapping
from connectors.pseudonymise import Pseudonymiser
from connectors.sources import RowBatch
from contracts.convention import DatasetTerms, FieldPolicy, Policy
from schemas.model import DatasetSchema, FieldSpec

EXAMPLE_ROWS = 5

Converter = Callable[[str | None], Any]


class RowReject(Exception):  # control flow inside one batch; never escapes `validate`
    """One row is refused for `reason` (a short code, e.g. `invalid:age`)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


@dataclass
class Tally:
    """Rows read, accepted and rejected by reason, with example row numbers."""

    rows_read: int = 0
    rows_accepted: int = 0
    rejections: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[int]] = field(default_factory=dict)

    @property
    def rows_rejected(self) -> int:
        return self.rows_read - self.rows_accepted

    def reject(self, reason: str, row_number: int) -> None:
        self.rejections[reason] = self.rejections.get(reason, 0) + 1
        rows = self.examples.setdefault(reason, [])
        if len(rows) < EXAMPLE_ROWS:
            rows.append(row_number)

    def merge(self, other: Tally) -> None:
        self.rows_read += other.rows_read
        self.rows_accepted += other.rows_accepted
        for reason, count in other.rejections.items():
            self.rejections[reason] = self.rejections.get(reason, 0) + count
            rows = self.examples.setdefault(reason, [])
            rows.extend(other.examples[reason][: EXAMPLE_ROWS - len(rows)])


# -- converters: text -> typed value, raising RowReject -----------------------


def _text(name: str) -> Converter:
    def convert(cell: str | None) -> Any:
        return cell.strip() if cell is not None else None

    return convert


def _integer(name: str) -> Converter:
    reason = f"invalid:{name}"

    def convert(cell: str | None) -> Any:
        if cell is None:
            return None
        try:
            return int(cell)
        except ValueError:
            try:
                number = float(cell.replace(",", "."))
            except ValueError:
                raise RowReject(reason) from None
            if not number.is_integer():
                raise RowReject(reason) from None
            return int(number)

    return convert


def _decimal(name: str) -> Converter:
    reason = f"invalid:{name}"

    def convert(cell: str | None) -> Any:
        if cell is None:
            return None
        try:
            return float(cell.replace(",", ".").replace(" ", "").replace("\u00a0", ""))
        except ValueError:
            raise RowReject(reason) from None

    return convert


_FRENCH_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def _date(name: str) -> Converter:
    """ISO dates, and the dd/mm/yyyy of French exports."""
    reason = f"invalid:{name}"

    def convert(cell: str | None) -> Any:
        if cell is None:
            return None
        text = cell.strip()
        try:
            if m := _FRENCH_DATE.match(text):
                return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
            return dt.date.fromisoformat(text[:10])
        except ValueError:
            raise RowReject(reason) from None

    return convert


def base_converter(spec: FieldSpec) -> Converter:
    if spec.logical_type == "date":
        return _date(spec.name)
    if spec.avro_type in ("int", "long"):
        return _integer(spec.name)
    if spec.avro_type in ("double", "float"):
        return _decimal(spec.name)
    if spec.avro_type == "boolean":
        return _integer(spec.name)
    return _text(spec.name)


def _with_domain(spec: FieldSpec, convert: Converter) -> Converter:
    """Add the `obshub.*` domain checks (values, bounds, pattern) to `convert`."""
    reason = f"out_of_domain:{spec.name}"
    allowed = frozenset(spec.values) if spec.values is not None else None
    low, high = spec.minimum, spec.maximum
    pattern = re.compile(spec.pattern) if spec.pattern else None
    if allowed is None and low is None and high is None and pattern is None:
        return convert

    def checked(cell: str | None) -> Any:
        value = convert(cell)
        if value is None:
            return None
        if allowed is not None and value not in allowed:
            raise RowReject(reason)
        if low is not None and value < low:
            raise RowReject(reason)
        if high is not None and value > high:
            raise RowReject(reason)
        if pattern is not None and not pattern.match(value):
            raise RowReject(reason)
        return value

    return checked


def _compile_field(
    spec: FieldSpec,
    policy: FieldPolicy,
    values: Mapping[str, str],
    pseudonymiser: Pseudonymiser,
    required: bool,
) -> Converter:
    convert = _with_domain(spec, base_converter(spec))
    missing = f"missing:{spec.name}"

    def read(cell: str | None) -> Any:
        if cell is not None:
            cell = cell.strip()
            if cell == "":
                cell = None
            elif values:
                cell = values.get(cell, cell)
        if cell is None:
            if required:
                raise RowReject(missing)
            return None
        return convert(cell)

    if policy.policy is Policy.PSEUDONYMISE:
        pseudonym = pseudonymiser.pseudonym

        def pseudonymised(cell: str | None) -> Any:
            value = read(cell)
            return None if value is None else pseudonym(str(value))

        return pseudonymised
    if policy.policy is Policy.GENERALISE:
        band = policy.generalise
        below = f"below_first_band:{spec.name}"

        def generalised(cell: str | None) -> Any:
            value = read(cell)
            if value is None:
                return None
            lower = band(value)
            if lower is None:  # under the convention's first bound: no band to send
                raise RowReject(below)
            return lower

        return generalised
    return read


@dataclass(frozen=True)
class RowValidator:
    """Compiled once per extract; `validate` runs per batch."""

    dataset: DatasetSchema
    width: int
    readers: tuple[tuple[str, int, Converter], ...]  # (field, column index, converter)
    template: Mapping[str, Any]  # every schema field at null
    territory: frozenset[str]
    location_field: str | None  # an `iris` field checked against the territory

    @classmethod
    def compile(
        cls,
        dataset: DatasetSchema,
        terms: DatasetTerms,
        mapping: ColumnMapping,
        header: Sequence[str],
        pseudonymiser: Pseudonymiser,
    ) -> RowValidator:
        sent = {
            name: policy
            for name, policy in terms.fields.items()
            if policy.policy is not Policy.DROP and name in dataset.fields
        }
        required_fields = [name for name, spec in dataset.fields.items() if not spec.nullable]
        # every field the convention lets through must be in the extract: a
        # silently missing column would skew every indicator built on it
        columns = mapping.locate(header, list(sent), required=list(sent))
        readers = tuple(
            (
                name,
                columns[name],
                _compile_field(
                    dataset.fields[name],
                    policy,
                    mapping.values.get(name, {}),
                    pseudonymiser,
                    required=name in required_fields,
                ),
            )
            for name, policy in sent.items()
        )
        return cls(
            dataset=dataset,
            width=len(header),
            readers=readers,
            template=dict.fromkeys(dataset.fields),
            territory=frozenset(terms.territory),
            location_field="iris" if dataset.location == "iris" else None,
        )

    def validate(self, batch: RowBatch, tally: Tally) -> list[dict[str, Any]]:
        """Wire records of the batch's valid rows; rejections go to `tally`."""
        records: list[dict[str, Any]] = []
        readers, template, width = self.readers, self.template, self.width
        territory, location = self.territory, self.location_field
        for number, row in zip(batch.numbers, batch.rows, strict=True):
            if row is None:
                tally.reject("unreadable_row", number)
                continue
            if len(row) != width:
                tally.reject("wrong_column_count", number)
                continue
            record = dict(template)
            try:
                for name, index, convert in readers:
                    record[name] = convert(row[index])
            except RowReject as reject:
                tally.reject(reject.reason, number)
                continue
            if location is not None and record[location][:5] not in territory:
                tally.reject("outside_territory", number)
                continue
            records.append(record)
        tally.rows_read += len(batch.rows)
        tally.rows_accepted += len(records)
        return records
