"""Rows of an extract checked against the dataset schema and the convention.

`RowValidator` is compiled once per extract (header, mapping, schema,
dataset terms, pseudonym secret) into one small converter per field; then
`validate` turns a batch of text rows into wire records and a tally of
rejections.

`validate` works column by column: each field's converter is mapped over
the batch's cells of that column, through a memo of the cells already seen
(a converter is a pure function of its cell, and most columns hold a few
dozen distinct values: IRIS codes, ages, flags). A cell the converter
refuses becomes a marker carrying its reason, so the failing rows are found
without a second pass; a row's reason is that of its first failing field,
in field order, as a row-by-row loop would give. Columns of unique values
(identifiers) soon outgrow the memo, which is then dropped for that field.

Field policies apply here, at the source: a field the convention does not
name, or names `drop`, is never read and is sent as null; `pseudonymise`
sends the HMAC pseudonym; `generalise` sends the lower bound of the band.
Rejections are counted by reason with the first few row numbers, never with
the values that caused them.

An `iris` code that its converter accepts is then placed as the hub will
place it: its commune (the code's first 5 characters, INSEE's rule) must be
in the convention's territory for the dataset (`outside_territory`), and,
when the hub operator shipped the territory's IRIS reference list, the code
must be in it (`unknown_iris`). Both are decided once per distinct code.
Points and grid cells are placed by the hub only.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import repeat
from operator import itemgetter
from typing import Any, cast

from connectors.mapping import ColumnMapping
from connectors.pseudonymise import Pseudonymiser
from connectors.sources import RowBatch
from contracts.convention import Crs, DatasetTerms, FieldPolicy, Policy
from schemas.model import DatasetSchema, FieldSpec

EXAMPLE_ROWS = 5
MEMO_LIMIT = 1024  # distinct cells memoised per field before the memo is dropped
OUTSIDE_TERRITORY = "outside_territory"  # an IRIS of a commune the convention does not cover
UNKNOWN_IRIS = "unknown_iris"  # an IRIS of a covered commune missing from the reference list

Converter = Callable[[str | None], Any]

POINT_FIELDS = ("lon", "lat")  # the fields of a dataset of points (`obshub.location: lonlat`)


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


def _plain_text(spec: FieldSpec) -> bool:
    """True when `_with_domain(spec, base_converter(spec))` is `_text`: no domain to check."""
    numeric = spec.avro_type in ("int", "long", "double", "float", "boolean")
    no_domain = spec.values is None and spec.minimum is None and spec.maximum is None
    return not numeric and spec.logical_type != "date" and no_domain and not spec.pattern


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


def _pseudonymised_text(
    pseudonym: Callable[[str], str], values: Mapping[str, str], required: bool, missing: str
) -> Converter:
    """`read` then `pseudonym` for a text field without domain, in one function: the
    identifier column is the only one whose cells are all distinct, so it is the
    one converted cell by cell (not through the column's memo)."""

    def pseudonymised(cell: str | None) -> Any:
        if cell is not None:
            cell = cell.strip()
            if cell:
                if values:  # a mapped value is stripped again, as `_text` would
                    cell = values.get(cell, cell).strip()
                return pseudonym(cell)
        if required:
            raise RowReject(missing)
        return None

    return pseudonymised


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
        if _plain_text(spec):
            return _pseudonymised_text(pseudonym, values, required, missing)

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


class _Refused:
    """A cell its converter refused: stands in the column in place of a value."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _refusing(convert: Converter) -> Converter:
    def run(cell: str | None) -> Any:
        try:
            return convert(cell)
        except RowReject as reject:
            return _Refused(reject.reason)

    return run


class _Memo(dict[str | None, Any]):
    """Cell -> converted value (or `_Refused`), computed on first sight."""

    __slots__ = ("convert",)

    def __init__(self, convert: Converter) -> None:
        super().__init__()
        self.convert = convert

    def __missing__(self, cell: str | None) -> Any:
        value = self[cell] = self.convert(cell)
        return value


class ColumnReader:
    """One field's converter applied to a whole column of a batch."""

    def __init__(self, name: str, index: int, convert: Converter) -> None:
        self.name, self.index = name, index
        self._cell = itemgetter(index)
        self._raw = convert
        self._convert = _refusing(convert)
        self._memo: _Memo | None = _Memo(self._convert)

    def read(self, rows: Sequence[Sequence[str | None]]) -> list[Any]:
        """The converted column: a value, or a `_Refused`, per row."""
        memo = self._memo
        if memo is None:
            cells = list(map(self._cell, rows))
            try:
                return list(map(self._raw, cells))
            except RowReject:  # then cell by cell, to find which rows
                return list(map(self._convert, cells))
        values = list(map(memo.__getitem__, map(self._cell, rows)))
        if len(memo) > MEMO_LIMIT:  # a column of unique values: memoising only costs
            self._memo = None
        return values


@dataclass(frozen=True)
class RowValidator:
    """Compiled once per extract; `validate` runs per batch."""

    dataset: DatasetSchema
    width: int
    readers: tuple[tuple[str, int, Converter], ...]  # (field, column index, converter)
    template: Mapping[str, Any]  # every schema field at null
    territory: frozenset[str]  # the convention's commune codes for the dataset
    location_field: str | None  # an `iris` field checked against the territory
    column_readers: tuple[ColumnReader, ...] = ()  # the readers, column by column
    reference: frozenset[str] | None = None  # the territory's IRIS codes, when shipped
    points_crs: str | None = None  # the CRS the extract's lon/lat hold, when not WGS84

    @classmethod
    def compile(
        cls,
        dataset: DatasetSchema,
        terms: DatasetTerms,
        mapping: ColumnMapping,
        header: Sequence[str],
        pseudonymiser: Pseudonymiser,
        reference: frozenset[str] | None = None,
    ) -> RowValidator:
        """`reference`: the territory's IRIS codes (`connectors.territory`); without it,
        an `iris` code is only checked against the convention's communes."""
        sent = {
            name: policy
            for name, policy in terms.fields.items()
            if policy.policy is not Policy.DROP and name in dataset.fields
        }
        projected = dataset.location == "lonlat" and terms.crs is not Crs.WGS84
        specs = dict(dataset.fields)
        if projected:  # metres, not degrees: bounded once turned into WGS84 (`_reproject`)
            for name in POINT_FIELDS:
                specs[name] = replace(specs[name], minimum=None, maximum=None)
        required_fields = [name for name, spec in dataset.fields.items() if not spec.nullable]
        # every field the convention lets through must be in the extract: a
        # silently missing column would skew every indicator built on it
        columns = mapping.locate(header, list(sent), required=list(sent))
        readers = tuple(
            (
                name,
                columns[name],
                _compile_field(
                    specs[name],
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
            column_readers=tuple(ColumnReader(*reader) for reader in readers),
            reference=reference,
            points_crs=str(terms.crs) if projected else None,
        )

    def validate(self, batch: RowBatch, tally: Tally) -> list[dict[str, Any]]:
        """Wire records of the batch's valid rows; rejections go to `tally`."""
        rows = batch.rows
        width = self.width
        try:
            uniform = set(map(len, rows)) <= {width}  # type: ignore[arg-type]
        except TypeError:  # an unreadable row (None)
            uniform = False
        positions: Sequence[int]
        good: Sequence[Sequence[str | None]]
        failed: dict[int, str]
        if uniform:
            positions, good, failed = range(len(rows)), cast(list[list[str | None]], rows), {}
        else:
            positions, good, failed = self._readable(rows)
        columns, refused = self._convert(good)
        keys = tuple(self.template)
        count = len(good)
        nulls = [None] * count  # a field the convention does not let through
        rows_of_values = zip(*(columns.get(k, nulls) for k in keys), strict=True)
        records: list[dict[str, Any]] = list(
            map(dict, map(zip, repeat(keys, count), rows_of_values))
        )
        if refused:
            records = [r for i, r in enumerate(records) if i not in refused]
            failed.update((positions[i], reason) for i, reason in refused.items())
        numbers = batch.numbers
        for position in sorted(failed):  # in row order, as a row-by-row loop reports them
            tally.reject(failed[position], numbers[position])
        tally.rows_read += len(rows)
        tally.rows_accepted += len(records)
        return records

    def _readable(
        self, rows: Sequence[Sequence[str | None] | None]
    ) -> tuple[list[int], list[Sequence[str | None]], dict[int, str]]:
        """Batch positions and rows of the header's width; the other rows' reasons."""
        positions: list[int] = []
        good: list[Sequence[str | None]] = []
        failed: dict[int, str] = {}
        for position, row in enumerate(rows):
            if row is None:
                failed[position] = "unreadable_row"
            elif len(row) != self.width:
                failed[position] = "wrong_column_count"
            else:
                positions.append(position)
                good.append(row)
        return positions, good, failed

    def _convert(
        self, good: Sequence[Sequence[str | None]]
    ) -> tuple[dict[str, list[Any]], dict[int, str]]:
        """Every sent field's converted column, and index in `good` -> reason of each
        refused row: its first refused field in field order, else its misplaced IRIS."""
        columns: dict[str, list[Any]] = {}
        refused: dict[int, str] = {}
        for reader in self.column_readers:
            values = reader.read(good)
            columns[reader.name] = values
            if _Refused in set(map(type, values)):
                for i, value in enumerate(values):
                    if type(value) is _Refused and i not in refused:
                        refused[i] = value.reason
        if self.points_crs is not None and all(name in columns for name in POINT_FIELDS):
            self._reproject(columns, refused)
        location = self.location_field
        if location is not None:
            places = columns[location]
            misplaced = self._misplaced(set(places))
            if misplaced:
                for i, place in enumerate(places):
                    if i not in refused and place in misplaced:
                        refused[i] = misplaced[place]
        return columns, refused

    def _reproject(self, columns: dict[str, list[Any]], refused: dict[int, str]) -> None:
        """The extract's points (in `points_crs`) as WGS84 lon/lat, in place, in one
        call; a point that lands outside the schema's bounds is refused."""
        from pyproj import Transformer

        xs, ys = columns["lon"], columns["lat"]
        rows = [
            i
            for i, (x, y) in enumerate(zip(xs, ys, strict=True))
            if i not in refused and isinstance(x, float) and isinstance(y, float)
        ]
        if not rows:
            return
        to_wgs84 = Transformer.from_crs(self.points_crs, "EPSG:4326", always_xy=True)
        lons, lats = to_wgs84.transform([xs[i] for i in rows], [ys[i] for i in rows])
        for i, lon, lat in zip(rows, lons, lats, strict=True):
            xs[i], ys[i] = float(lon), float(lat)
            for name, value in (("lon", lon), ("lat", lat)):
                spec = self.dataset.fields[name]
                low = -math.inf if spec.minimum is None else spec.minimum
                high = math.inf if spec.maximum is None else spec.maximum
                if not (math.isfinite(value) and low <= value <= high):
                    refused.setdefault(i, f"out_of_domain:{name}")

    def _misplaced(self, places: Iterable[Any]) -> dict[str, str]:
        """Reason per IRIS code among `places` that the hub would not place: its commune
        is outside the convention's territory, else it is not in the reference list."""
        territory, reference = self.territory, self.reference
        reasons: dict[str, str] = {}
        for place in places:
            if type(place) is _Refused:
                continue
            if place[:5] not in territory:
                reasons[place] = OUTSIDE_TERRITORY
            elif reference is not None and place not in reference:
                reasons[place] = UNKNOWN_IRIS
        return reasons
