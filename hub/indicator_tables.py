"""From the accepted drops' aggregates to one table per indicator and period.

The join rule: for an indicator and a period P, each dataset it reads
contributes, for every convention that provides it, that convention's latest
accepted drop whose period is not after P — its first month is not after
P's first month (`contracts.periods.period_start`), so a yearly INSEE drop
`2025` serves every CAF month of 2025 and after, until `2026` is accepted.
Among one convention's drops of the same period, the one accepted last wins
(a corrected drop replaces the earlier one); drops of different conventions
never replace each other: their counts add up, since conventions for one
dataset cover disjoint territories (`contracts.lifecycle`) and the hub
rejects a record placed outside its convention's territory. The indicator
is computable for P only when every dataset it reads has at least one such
drop, aggregated for the selection the indicator needs.

The periods published are those of the drops of the indicator's numerator
dataset (`periods_to_publish`). A table has rows for the communes its drops
cover (`coverage`: for every dataset, some contributing convention covers
the commune; without `coverage`, every commune) and for their IRIS (0 where
no record was placed), each commune row the sum of its IRIS rows, for the
levels the indicator is published at: commune rows first, then IRIS rows,
then the other levels (QPV, commune hors QPV, EPCI, the territory's zones),
each sorted by code. An area is a row when every commune it meets is
covered; its value is the sum of the places (atoms, or IRIS for data placed
by IRIS) inside it. A level that cuts a place the data was counted in (a
QPV across an IRIS, for data placed by IRIS code) has no row at all rather
than a guess; the catalog check (`hub.levels`) refuses such a level
beforehand. A commune no drop covers has no row rather than a false 0.
Disclosure control comes after (hub/disclosure.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from contracts.indicators import Indicator, IndicatorCatalog, Level, Selection, level_order
from contracts.periods import period_start
from hub.geography import Territory
from hub.tables import Cell, DropAggregate, IndicatorTable, selection_key

Aggregates = Mapping[str, Sequence[DropAggregate]]  # dataset id -> accepted drops, in order
# (convention id, dataset id) -> the communes the convention covers for that dataset
Coverage = Mapping[tuple[str, str], Iterable[str]]


def latest_drop(drops: Sequence[DropAggregate], period: str) -> DropAggregate | None:
    """The latest drop whose period starts no later than `period`'s; among
    drops of one period, the last in `drops` (accepted last)."""
    limit = period_start(period)
    best: DropAggregate | None = None
    best_start: tuple[int, int] | None = None
    for drop in drops:
        start = period_start(drop.period)
        if start <= limit and (best_start is None or start >= best_start):
            best, best_start = drop, start
    return best


def latest_per_convention(drops: Sequence[DropAggregate], period: str) -> list[DropAggregate]:
    """Each convention's latest drop for `period` (`latest_drop`), by convention id."""
    by_convention: dict[str, list[DropAggregate]] = {}
    for drop in drops:
        by_convention.setdefault(drop.convention_id, []).append(drop)
    chosen = (latest_drop(own, period) for _, own in sorted(by_convention.items()))
    return [drop for drop in chosen if drop is not None]


def contributing_drops(
    indicator: Indicator, period: str, aggregates: Aggregates
) -> dict[str, tuple[DropAggregate, ...]] | None:
    """Dataset id → the drops it contributes to the indicator for `period` (one
    per convention), or None when some dataset has no usable drop."""
    chosen: dict[str, tuple[DropAggregate, ...]] = {}
    for _, selection in indicator.selections:
        drops = latest_per_convention(aggregates.get(selection.dataset, ()), period)
        usable = tuple(d for d in drops if selection_key(selection) in d.counts)
        if not usable or len(usable) != len(drops):
            return None
        chosen[selection.dataset] = usable
    return dict(sorted(chosen.items()))


def periods_to_publish(indicator: Indicator, aggregates: Aggregates) -> list[str]:
    """The periods of the numerator dataset's drops, oldest first, once each."""
    drops = aggregates.get(indicator.numerator.dataset, ())
    return sorted({drop.period for drop in drops}, key=period_start)


def covered_communes(
    drops: Mapping[str, Sequence[DropAggregate]], territory: Territory, coverage: Coverage | None
) -> list[str]:
    """The territory's communes that every dataset's contributing drops cover."""
    communes = territory.communes()
    if coverage is None:
        return list(communes)
    kept = set(communes)
    for dataset, own in drops.items():
        covered: set[str] = set()
        for drop in own:
            covered |= set(coverage.get((drop.convention_id, dataset), ()))
        kept &= covered
    return [c for c in communes if c in kept]


def build_indicator_table(
    indicator: Indicator,
    period: str,
    aggregates: Aggregates,
    territory: Territory,
    coverage: Coverage | None = None,
) -> IndicatorTable | None:
    """The indicator's rows at each of its levels for `period`; None if not computable."""
    drops = contributing_drops(indicator, period, aggregates)
    if drops is None:
        return None
    communes = covered_communes(drops, territory, coverage)
    if not communes:
        return None
    kept = set(communes)
    numerator = _place_values(indicator.numerator, drops, territory)
    denominator = (
        None
        if indicator.denominator is None
        else _place_values(indicator.denominator, drops, territory)
    )
    cells: list[Cell] = []
    for level in sorted(indicator.levels, key=_row_order):
        rows: list[Cell] = []
        for area in territory.areas(level):
            if not {territory.commune_of(code) for code in area.iris} <= kept:
                continue
            held = set(area.atoms)
            value = _area_value(numerator, held)
            ratio_base = None if denominator is None else _area_value(denominator, held)
            if value is None or (denominator is not None and ratio_base is None):
                rows = []  # a place this level cuts: the level cannot be computed exactly
                break
            rows.append(Cell(level, area.code, area.atoms, value, ratio_base))
        cells += rows
    return IndicatorTable(indicator=indicator, period=period, cells=tuple(cells))


def _row_order(level: str) -> tuple[int, tuple[int, str]]:
    """Commune rows first (the rows people look for), then the levels finest first."""
    return (0 if level == Level.COMMUNE else 1, level_order(level))


def build_indicator_tables(
    catalog: IndicatorCatalog, aggregates: Aggregates, territory: Territory
) -> list[IndicatorTable]:
    """Every computable table: each indicator at each of its periods to publish."""
    tables: list[IndicatorTable] = []
    for indicator in catalog.each():
        for period in periods_to_publish(indicator, aggregates):
            table = build_indicator_table(indicator, period, aggregates, territory)
            if table is not None:
                tables.append(table)
    return tables


Places = list[tuple[frozenset[str], float]]  # (the atoms of a place, its value)


def _place_values(
    selection: Selection, drops: Mapping[str, Sequence[DropAggregate]], territory: Territory
) -> Places:
    """Each place the drops counted in (an atom, or an IRIS: its atoms), with its value.
    A place the territory does not know (a drop counted on another territory) is left out."""
    key = selection_key(selection)
    values: dict[str, float] = {}
    for drop in drops[selection.dataset]:
        for place, count in drop.counts[key].items():
            values[place] = values.get(place, 0.0) + count
    places: Places = []
    for place, value in sorted(values.items()):
        atoms = territory.atoms_of_place(place)
        if atoms:
            places.append((frozenset(atoms), value))
    return places


def _area_value(places: Places, area: set[str]) -> float | None:
    """The sum of the places inside `area`; None when a place lies partly in it."""
    total = 0.0
    for atoms, value in places:
        if atoms <= area:
            total += value
        elif not atoms.isdisjoint(area):
            return None
    return total
