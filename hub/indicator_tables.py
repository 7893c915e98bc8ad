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
each sorted by code. A commune no drop covers has no row rather than a
false 0. Disclosure control comes after (hub/disclosure.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from contracts.indicators import Indicator, IndicatorCatalog, Level, Selection
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
    """The indicator's IRIS and commune rows for `period`; None if not computable."""
    drops = contributing_drops(indicator, period, aggregates)
    if drops is None:
        return None
    communes = covered_communes(drops, territory, coverage)
    if not communes:
        return None
    numerator = _iris_values(indicator.numerator, drops, territory)
    denominator = (
        None
        if indicator.denominator is None
        else _iris_values(indicator.denominator, drops, territory)
    )
    cells: list[Cell] = []
    if Level.COMMUNE in indicator.levels:
        for commune in communes:
            members = territory.iris_of_commune(commune)
            cells.append(
                Cell(
                    level=Level.COMMUNE,
                    code=commune,
                    commune=commune,
                    numerator=sum(numerator[i] for i in members),
                    denominator=None
                    if denominator is None
                    else sum(denominator[i] for i in members),
                )
            )
    if Level.IRIS in indicator.levels:
        kept = set(communes)
        for iris in territory.iris:
            commune = territory.commune_of(iris) or ""
            if commune not in kept:
                continue
            cells.append(
                Cell(
                    level=Level.IRIS,
                    code=iris,
                    commune=commune,
                    numerator=numerator[iris],
                    denominator=None if denominator is None else denominator[iris],
                )
            )
    return IndicatorTable(indicator=indicator, period=period, cells=tuple(cells))


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


def _iris_values(
    selection: Selection, drops: Mapping[str, Sequence[DropAggregate]], territory: Territory
) -> dict[str, float]:
    key = selection_key(selection)
    values = dict.fromkeys(territory.iris, 0.0)
    for drop in drops[selection.dataset]:
        for iris, count in drop.counts[key].items():
            if iris in values:
                values[iris] += count
    return values
