"""From the accepted drops' aggregates to one table per indicator and period.

The join rule (DESIGN.md, "Indicators and disclosure"): for an indicator and
a period P, each dataset it reads contributes the latest accepted drop whose
period is not after P — its first month is not after P's first month
(`contracts.periods.period_start`), so a yearly INSEE drop `2025` serves
every CAF month of 2025 and after, until `2026` is accepted. Among drops of
the same period, the one accepted last wins (a corrected drop replaces the
earlier one). The indicator is computable for P only when every dataset it
reads has such a drop, and that drop was aggregated for the selection the
indicator needs.

The periods published are those of the drops of the indicator's numerator
dataset (`periods_to_publish`). A table has a row for every IRIS of the
territory (0 where no record was placed) and a row per commune equal to the
sum of its IRIS rows, for the levels the indicator is published at:
commune rows first, then IRIS rows, each sorted by code. Counts placed in
an IRIS the territory does not list cannot belong to a commune and are not
published. Disclosure control comes after (hub/disclosure.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from contracts.indicators import Indicator, IndicatorCatalog, Level, Selection
from contracts.periods import period_start
from hub.geography import Territory
from hub.tables import Cell, DropAggregate, IndicatorTable, selection_key

Aggregates = Mapping[str, Sequence[DropAggregate]]  # dataset id -> accepted drops, in order


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


def contributing_drops(
    indicator: Indicator, period: str, aggregates: Aggregates
) -> dict[str, DropAggregate] | None:
    """Dataset id → the drop it contributes to the indicator for `period`, or
    None when some dataset has no usable drop (the indicator is not computable)."""
    chosen: dict[str, DropAggregate] = {}
    for _, selection in indicator.selections:
        drop = latest_drop(aggregates.get(selection.dataset, ()), period)
        if drop is None or selection_key(selection) not in drop.counts:
            return None
        chosen[selection.dataset] = drop
    return dict(sorted(chosen.items()))


def periods_to_publish(indicator: Indicator, aggregates: Aggregates) -> list[str]:
    """The periods of the numerator dataset's drops, oldest first, once each."""
    drops = aggregates.get(indicator.numerator.dataset, ())
    return sorted({drop.period for drop in drops}, key=period_start)


def build_indicator_table(
    indicator: Indicator, period: str, aggregates: Aggregates, territory: Territory
) -> IndicatorTable | None:
    """The indicator's IRIS and commune rows for `period`; None if not computable."""
    drops = contributing_drops(indicator, period, aggregates)
    if drops is None:
        return None
    numerator = _iris_values(indicator.numerator, drops, territory)
    denominator = (
        None
        if indicator.denominator is None
        else _iris_values(indicator.denominator, drops, territory)
    )
    cells: list[Cell] = []
    if Level.COMMUNE in indicator.levels:
        for commune in territory.communes():
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
        for iris in territory.iris:
            cells.append(
                Cell(
                    level=Level.IRIS,
                    code=iris,
                    commune=territory.commune_of(iris) or "",
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
    selection: Selection, drops: Mapping[str, DropAggregate], territory: Territory
) -> dict[str, float]:
    counts = drops[selection.dataset].counts[selection_key(selection)]
    return {iris: counts.get(iris, 0) for iris in territory.iris}
