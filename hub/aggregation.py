"""Placing a chunk's records in IRIS and counting them per selection.

The hub's per-drop work, as plain functions over decoded records:

1. `place_records` gives each record its place from the dataset's location
   (`obshub.location`): an `iris` code is looked up in the territory (the
   place is the IRIS), a `lonlat` point goes through point-in-polygon (one
   vectorised query per chunk; the place is the atom of the territory's
   overlay holding it, so the point counts in its IRIS and in its QPV or
   zone alike), a `qpv` code (a partner that geocodes to the QPV itself) is
   placed in that QPV as a whole (`qpv:<code_qp>`), a `carreau` is
   re-aggregated to one IRIS (below). A record that
   cannot be placed is rejected with a short reason code:
   `missing_location` (null, non-numeric or non-finite location) or
   `outside_territory` (IRIS not in the territory, point in no IRIS,
   unknown grid cell).
2. `aggregate_chunk` counts, per selection of the indicator catalog that
   reads the dataset, the placed records passing its `where`, per IRIS; a
   selection with `sum` (or an aggregate dataset with a measure) sums that
   field instead. Each selection's conditions are compiled once into a
   predicate.
3. `DropAccumulator` adds the chunks of one drop together, remembering which
   chunk sequence numbers it has counted, so a chunk delivered twice (Kafka
   is at-least-once) is counted once; `to_aggregate` gives the drop's
   `DropAggregate`.

Counts are integers, so `merge_counts` of the chunks' aggregates is exactly
the aggregate of the whole drop, however it was cut into chunks (sums of
integer measures too; sums of floating-point fields only up to rounding).

Carreau re-aggregation. A grid cell that several IRIS share is not split
into fractional records: each record in it goes entirely to ONE of those
IRIS, drawn from the cell's weights. The draw is a number in [0, 1) taken
from a hash (BLAKE2b, personalised for this use) of the cell and the
record's pseudonymised identifier, or — for a record without identifier —
of the cell and its position in the drop (drop id, chunk sequence, index in
the chunk); the IRIS is the one whose slice of [0, 1) holds it, slices laid
out in IRIS code order, each as wide as its weight. So counts stay integers
and every record counts exactly once (commune rows are exact sums of whole
records); the expected count of an IRIS is the weighted count, because the
hash is uniform over identifiers; and the same person in the same cell
lands in the same IRIS in every drop, every chunking and every indicator,
so shares and ratios of one dataset never mix halves of a person.
docs/aggregation.md gives the reasons and the alternatives rejected.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from contracts.indicators import IndicatorCatalog, Selection
from hub.geography import Territory
from hub.predicates import compile_selection, is_number
from hub.tables import DropAggregate, selection_key
from schemas.model import DatasetSchema

OUTSIDE_TERRITORY = "outside_territory"
QPV_PLACE = "qpv:"  # the place of a record a partner located by its QPV code
MISSING_LOCATION = "missing_location"

Record = Mapping[str, Any]
Counts = dict[str, dict[str, float]]  # selection key -> place -> count or sum

_DRAW_PERSON = b"obshub/carreau"  # BLAKE2b personalisation: these draws and no other
_DRAW_SCALE = 2.0**-53


@dataclass(frozen=True)
class ChunkKey:
    """Where a chunk sits in its drop: what positions of records are relative to."""

    drop_id: str
    sequence: int


def selections_for(catalog: IndicatorCatalog, dataset_id: str) -> dict[str, Selection]:
    """Every numerator or denominator of the catalog that reads the dataset, by key."""
    found: dict[str, Selection] = {}
    for indicator in catalog.each():
        for _, selection in indicator.selections:
            if selection.dataset == dataset_id:
                found.setdefault(selection_key(selection), selection)
    return dict(sorted(found.items()))


# ---- placement


def _draw(data: bytes) -> float:
    digest = hashlib.blake2b(data, digest_size=8, person=_DRAW_PERSON).digest()
    return (int.from_bytes(digest, "big") >> 11) * _DRAW_SCALE  # 53 bits: exactly in [0, 1)


def identity_draw(identifier: str, carreau: str) -> float:
    """The draw in [0, 1) of a pseudonymised person or household in a grid cell."""
    return _draw(b"id\x00" + carreau.encode() + b"\x00" + identifier.encode())


def position_draw(key: ChunkKey, index: int, carreau: str) -> float:
    """The draw in [0, 1) of the `index`-th record of a chunk that has no identifier."""
    position = f"{key.drop_id}\x00{key.sequence}\x00{index}"
    return _draw(b"pos\x00" + carreau.encode() + b"\x00" + position.encode())


def _finite(value: object) -> bool:
    return is_number(value) and math.isfinite(value)


def place_records(
    records: Sequence[Record],
    dataset: DatasetSchema,
    territory: Territory,
    drop_key: ChunkKey,
) -> tuple[list[tuple[str, Record]], Counter[str]]:
    """(place, record) for each record that can be placed, in input order, and
    the count of the others by reason (`drop_key`: for records without identifier).
    A place is an atom id for a point, an IRIS code otherwise."""
    placed: list[tuple[str, Record]] = []
    rejected: Counter[str] = Counter()
    location = dataset.location
    if location == "iris":
        for record in records:
            code = record.get("iris")
            if not isinstance(code, str) or not code:
                rejected[MISSING_LOCATION] += 1
            elif code in territory:
                placed.append((code, record))
            else:
                rejected[OUTSIDE_TERRITORY] += 1
    elif location == "lonlat":
        located: list[Record] = []
        for record in records:
            lon, lat = record.get("lon"), record.get("lat")
            if _finite(lon) and _finite(lat):
                located.append(record)
            else:
                rejected[MISSING_LOCATION] += 1
        codes = territory.locate_atoms([r["lon"] for r in located], [r["lat"] for r in located])
        for code, record in zip(codes, located, strict=True):
            if code is None:
                rejected[OUTSIDE_TERRITORY] += 1
            else:
                placed.append((code, record))
    elif location == "qpv":
        for record in records:
            code = record.get("code_qp")
            if not isinstance(code, str) or not code:
                rejected[MISSING_LOCATION] += 1
            elif territory.area("qpv", code) is not None:
                placed.append((f"{QPV_PLACE}{code}", record))
            else:
                rejected[OUTSIDE_TERRITORY] += 1
    elif location == "carreau":
        identifier = dataset.identifier
        for index, record in enumerate(records):
            carreau = record.get("carreau")
            if not isinstance(carreau, str) or not carreau:
                rejected[MISSING_LOCATION] += 1
                continue
            person = record.get(identifier) if identifier else None
            if isinstance(person, str) and person:
                draw = identity_draw(person, carreau)
            else:
                draw = position_draw(drop_key, index, carreau)
            code = territory.carreau_iris(carreau, draw)
            if code is None:
                rejected[OUTSIDE_TERRITORY] += 1
            else:
                placed.append((code, record))
    else:
        raise ValueError(f"unknown location kind {location!r}")
    return placed, rejected


# ---- aggregation


def _floats(counts: Mapping[str, float]) -> dict[str, float]:
    return dict(counts)


def aggregate_chunk(
    placed: Iterable[tuple[str, Record]],
    selections: Mapping[str, Selection],
    measure: str | None = None,
) -> Counts:
    """Per selection key, per IRIS: the records passing the selection's filter
    counted, or the selection's `sum` field (else the dataset's `measure`)
    summed. Every selection key is present, empty when nothing passes."""
    rows = placed if isinstance(placed, list) else list(placed)
    result: Counts = {}
    for key, selection in selections.items():
        predicate = compile_selection(selection)
        summed = selection.sum or measure
        if summed is None:
            if predicate is None:
                counted = Counter(iris for iris, _ in rows)
            else:
                counted = Counter(iris for iris, record in rows if predicate(record))
            result[key] = _floats(counted)
            continue
        sums: dict[str, float] = {}
        for iris, record in rows:
            if predicate is None or predicate(record):
                value = record.get(summed)
                if is_number(value):
                    sums[iris] = sums.get(iris, 0) + value
        result[key] = sums
    return result


def merge_counts(
    a: Mapping[str, Mapping[str, float]], b: Mapping[str, Mapping[str, float]]
) -> Counts:
    """The cell-by-cell sum of two aggregates (neither is changed)."""
    merged: Counts = {key: dict(cells) for key, cells in a.items()}
    _add_into(merged, b)
    return merged


def _add_into(target: Counts, counts: Mapping[str, Mapping[str, float]]) -> None:
    for key, cells in counts.items():
        into = target.setdefault(key, {})
        for iris, value in cells.items():
            into[iris] = into.get(iris, 0) + value


class DropAccumulator:
    """The partial aggregate of one drop and the chunk sequences already in it.

    Keep it in the same state store as the counts it guards: then a chunk
    redelivered after a crash finds its sequence recorded and is skipped.
    """

    def __init__(
        self,
        *,
        drop_id: str,
        partner: str,
        convention_id: str,
        convention_version: int,
        dataset: str,
        period: str,
        selection_keys: Iterable[str] = (),
    ) -> None:
        self.drop_id, self.partner, self.dataset, self.period = drop_id, partner, dataset, period
        self.convention_id, self.convention_version = convention_id, convention_version
        self._counts: Counts = {key: {} for key in selection_keys}
        self._rejected: Counter[str] = Counter()
        self._records = 0
        self._sequences: set[int] = set()

    @property
    def sequences(self) -> frozenset[int]:
        """The chunk sequence numbers counted so far."""
        return frozenset(self._sequences)

    @property
    def records(self) -> int:
        return self._records

    def is_complete(self, chunk_count: int) -> bool:
        """Whether exactly the chunks 0 … chunk_count-1 have been counted."""
        return self._sequences == set(range(chunk_count))

    def add_chunk(
        self,
        sequence: int,
        counts: Mapping[str, Mapping[str, float]],
        rejected: Mapping[str, int],
        records: int,
    ) -> bool:
        """Add one chunk's aggregate (`records` placed records); False, and
        nothing changed, when this sequence was already counted."""
        if sequence < 0:
            raise ValueError(f"chunk sequence {sequence} is negative")
        if sequence in self._sequences:
            return False
        self._sequences.add(sequence)
        _add_into(self._counts, counts)
        self._rejected.update(rejected)
        self._records += records
        return True

    def to_aggregate(self) -> DropAggregate:
        """What the drop contributes, as published on `hub.aggregates`."""
        return DropAggregate(
            drop_id=self.drop_id,
            partner=self.partner,
            convention_id=self.convention_id,
            convention_version=self.convention_version,
            dataset=self.dataset,
            period=self.period,
            counts={
                key: dict(sorted(cells.items())) for key, cells in sorted(self._counts.items())
            },
            records=self._records,
            rejected=dict(sorted(self._rejected.items())),
        )

    def to_state(self) -> dict[str, Any]:
        """A JSON-ready snapshot, for a state table."""
        return {
            "aggregate": {
                "drop_id": self.drop_id,
                "partner": self.partner,
                "convention_id": self.convention_id,
                "convention_version": self.convention_version,
                "dataset": self.dataset,
                "period": self.period,
            },
            "counts": {key: dict(cells) for key, cells in self._counts.items()},
            "rejected": dict(self._rejected),
            "records": self._records,
            "sequences": sorted(self._sequences),
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> DropAccumulator:
        """The accumulator `to_state` described."""
        accumulator = cls(**state["aggregate"])
        _add_into(accumulator._counts, state["counts"])
        accumulator._rejected.update(state["rejected"])
        accumulator._records = int(state["records"])
        accumulator._sequences = {int(s) for s in state["sequences"]}
        return accumulator
