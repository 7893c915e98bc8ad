"""Secret statistique: from an indicator table to a protected release.

`release_table` applies, in order:

1. the primary rules, cell by cell (`is_primary_secret`): a numerator
   between 1 and k-1 (0 is published); for a share of one dataset with
   `complement` on, a complement (denominator - numerator) between 1 and
   k-1; for a ratio, a denominator under `min_denominator`, or zero (the
   value is undefined). Numerators may be weighted (non-integer): they are
   compared with k as numbers. `dominance` needs each contributor's share of
   an amount, which a `Cell` does not carry: it is not applied here.
2. secondary suppression (`suppress_secondary`), when the rules ask for it;
3. the disclosure check (`check_cells`), whose verdict the release carries.

What an attacker knows. A published row gives its numerator and
denominator; a secret row gives nothing; a commune row is the sum of its IRIS
rows, numerators and denominators alike. So the disclosure check bounds, for every
secret cell, its numerator and, for a share of one dataset with `complement`
on, its complement: both are counts of people. For a share the two systems
are independent (numerator + complement = denominator, and a secret
denominator is unknown), so each is its own linear system over the
hierarchy. What the attacker is assumed to know before reading a release
(`_prior`), to be safe: every empty cell (an activity zone, a count
published as 0 in another indicator — a known zero can never cover a
secret neighbour), and, for a share of one dataset, each cell's
denominator, which bounds its numerator and its complement (the same count
is published as an indicator of its own); otherwise only that a count is
not negative. Denominators themselves are not protected here (INSEE
households and population are public, and a count indicator that serves as
a denominator is protected in its own release). The attacker is not
granted "a secret cell lies in [1, k-1]": the API shows `secret` without
its reason, and under that prior no primary cell could ever reach an
interval k wide. A secret cell is protected when its interval is at least
k wide, or when the release teaches nothing beyond that prior (an empty
IRIS, a share whose denominator is under k).

Hierarchy and the commune row. The rows form one level of nesting (commune
= sum of its IRIS); there is no published total above the communes, so the
commune rows are released by the primary rules alone ("top-down"). When a
commune row is secret, every IRIS row of that commune that contributes to
the secret figure is secret too (each is at most the commune's figure), and
the commune row is an unknown of the system: nothing the IRIS rows publish
bounds the secret ones. When the commune row is published, its secret IRIS
need at least one other secret IRIS beside them, holding together at least
k: complementary cells are the published IRIS of the commune with the
smallest non-zero value of the failing quantity (ties: code). If none is
left, the commune row itself is suppressed. The loop checks, suppresses one
cell per failing commune, and checks again until the disclosure check passes.

Pure functions over plain data; the LP core is `hub.inference`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from contracts.disclosure import DisclosureRules
from contracts.indicators import Indicator, Level
from hub.errors import TableStructureError
from hub.inference import (
    NON_NEGATIVE,
    Interval,
    LinearSystem,
    feasible_intervals,
    is_protected,
    sum_relation,
)
from hub.tables import (
    Cell,
    CellStatus,
    CheckedQuantity,
    DisclosureFinding,
    IndicatorTable,
    Release,
    ReleasedCell,
)

VALUE_DECIMALS = 2
_SUM_TOLERANCE = 1e-6  # relative: commune rows of weighted counts are float sums
_PRIOR_TOLERANCE = 1e-6


def checked_quantities(indicator: Indicator, rules: DisclosureRules) -> tuple[CheckedQuantity, ...]:
    """What the disclosure check bounds for each secret cell of this indicator."""
    if indicator.share_of_one_dataset and rules.complement:
        return (CheckedQuantity.NUMERATOR, CheckedQuantity.COMPLEMENT)
    return (CheckedQuantity.NUMERATOR,)


def is_primary_secret(cell: Cell, indicator: Indicator, rules: DisclosureRules) -> bool:
    """Whether the primary rules make this cell secret."""
    if _small(cell.numerator, rules.k):
        return True
    if indicator.is_count:
        return False
    denominator = cell.denominator or 0.0
    if denominator <= 0 or denominator < rules.min_denominator:
        return True
    return (
        indicator.share_of_one_dataset
        and rules.complement
        and _small(denominator - cell.numerator, rules.k)
    )


def cell_value(cell: Cell, indicator: Indicator) -> float:
    """numerator / denominator x scale (a count indicator: the count), 2 decimals."""
    if indicator.is_count or cell.denominator is None:
        return round(cell.numerator, VALUE_DECIMALS)
    return round(cell.numerator / cell.denominator * indicator.scale, VALUE_DECIMALS)


def check_table(table: IndicatorTable) -> None:
    """Raise TableStructureError unless the table is one a release can be made of."""
    indicator = table.indicator

    def fail(code: str, reason: str) -> TableStructureError:
        return TableStructureError(indicator.id, table.period, code, reason)

    seen: set[tuple[Level, str]] = set()
    for cell in table.cells:
        if (cell.level, cell.code) in seen:
            raise fail(cell.code, f"{cell.level} row given twice")
        seen.add((cell.level, cell.code))
        if cell.level is Level.COMMUNE and cell.commune != cell.code:
            raise fail(cell.code, f"a commune row belongs to commune {cell.commune}")
        if not (math.isfinite(cell.numerator) and cell.numerator >= 0):
            raise fail(cell.code, f"numerator {cell.numerator} is not a count")
        if indicator.is_count:
            continue
        if cell.denominator is None:
            raise fail(cell.code, "a ratio row has no denominator")
        if not (math.isfinite(cell.denominator) and cell.denominator >= 0):
            raise fail(cell.code, f"denominator {cell.denominator} is not a count")
        if indicator.share_of_one_dataset and cell.numerator > cell.denominator:
            raise fail(cell.code, "a share's numerator exceeds its denominator")
    for group in _hierarchy(table.cells).values():
        if group.row is None or not group.iris:
            continue
        row = table.cells[group.row]
        parts = [table.cells[i] for i in group.iris]
        for name, total, values in (
            ("numerator", row.numerator, [c.numerator for c in parts]),
            ("denominator", row.denominator, [c.denominator for c in parts]),
        ):
            if total is None or any(v is None for v in values):
                continue
            gap = total - math.fsum(v for v in values if v is not None)
            if abs(gap) > _SUM_TOLERANCE * max(1.0, abs(total)):
                raise fail(row.code, f"{name} is not the sum of its IRIS rows (off by {gap:g})")


def apply_primary(table: IndicatorTable, rules: DisclosureRules) -> tuple[ReleasedCell, ...]:
    """Every cell, published with its value or secret by the primary rules."""
    released = []
    for cell in table.cells:
        if is_primary_secret(cell, table.indicator, rules):
            released.append(ReleasedCell(cell, CellStatus.SECRET_PRIMARY, None))
        else:
            released.append(ReleasedCell(cell, CellStatus.OK, cell_value(cell, table.indicator)))
    return tuple(released)


def check_cells(
    cells: Sequence[ReleasedCell], indicator: Indicator, rules: DisclosureRules
) -> tuple[tuple[DisclosureFinding, ...], bool]:
    """The disclosure check described above: one finding per secret cell and checked
    quantity, and whether the cells are protected (every published cell passes
    the primary rules; every secret interval is at least k wide, never a point)."""
    check = _check(cells, _hierarchy([c.cell for c in cells]), indicator, rules)
    return check.findings, check.passed


def check_release(
    release: Release, indicator: Indicator
) -> tuple[tuple[DisclosureFinding, ...], bool]:
    """`check_cells` of a release made earlier, under the rules it was made with."""
    return check_cells(release.cells, indicator, release.rules)


def suppress_secondary(
    cells: Sequence[ReleasedCell], indicator: Indicator, rules: DisclosureRules
) -> tuple[ReleasedCell, ...]:
    """Add secondary suppressions until the disclosure check passes. Cells already secret
    stay secret, so a protected release comes back unchanged."""
    return _suppress(cells, indicator, rules)[0]


def protect(release: Release, cells: Sequence[ReleasedCell], indicator: Indicator) -> Release:
    """`release` with `cells` (more of them secret), secondary suppression run again
    under its rules, and the disclosure check it ends on."""
    protected, check = _suppress(cells, indicator, release.rules)
    return replace(release, cells=protected, findings=check.findings, passed=check.passed)


def release_table(table: IndicatorTable, rules: DisclosureRules) -> Release:
    """The protected release of an indicator table under `rules`.

    Raises TableStructureError for a table that breaks its own structure."""
    check_table(table)
    cells, check = _suppress(apply_primary(table, rules), table.indicator, rules)
    return Release(
        indicator_id=table.indicator.id,
        period=table.period,
        rules=rules,
        cells=cells,
        findings=check.findings,
        passed=check.passed,
    )


def _small(count: float, k: int) -> bool:
    return 0 < count < k


@dataclass
class _Group:
    """One commune: its row (index into the cells), if given, and its IRIS rows."""

    row: int | None = None
    iris: list[int] = field(default_factory=list)


def _hierarchy(cells: Sequence[Cell]) -> dict[str, _Group]:
    groups: dict[str, _Group] = {}
    for i, cell in enumerate(cells):
        group = groups.setdefault(cell.commune, _Group())
        if cell.level is Level.COMMUNE:
            group.row = i
        else:
            group.iris.append(i)
    return groups


@dataclass(frozen=True)
class _Check:
    findings: tuple[DisclosureFinding, ...]
    passed: bool
    failing: Mapping[str, CheckedQuantity]  # commune -> first quantity failing in it


def _check(
    cells: Sequence[ReleasedCell],
    groups: Mapping[str, _Group],
    indicator: Indicator,
    rules: DisclosureRules,
) -> _Check:
    passed = all(
        not is_primary_secret(c.cell, indicator, rules) for c in cells if c.status is CellStatus.OK
    )
    findings = []
    failing: dict[str, CheckedQuantity] = {}
    for quantity in checked_quantities(indicator, rules):
        system = _system(cells, groups, quantity, indicator)
        intervals = feasible_intervals(system)
        baseline: dict[str, Interval] | None = None  # what the priors alone give
        for released in cells:
            if released.status is CellStatus.OK:
                continue
            cell = released.cell
            low, high = intervals[_key(cell)]
            findings.append(DisclosureFinding(cell.code, cell.level, low, high, quantity))
            if is_protected(Interval(low, high), rules.k):
                continue
            if baseline is None:
                baseline = feasible_intervals(
                    _without_publication(system, cells, quantity, indicator)
                )
            if not _nothing_learnt(low, high, baseline[_key(cell)]):
                passed = False
                failing.setdefault(cell.commune, quantity)
    return _Check(tuple(findings), passed, failing)


def _without_publication(
    system: LinearSystem,
    cells: Sequence[ReleasedCell],
    quantity: CheckedQuantity,
    indicator: Indicator,
) -> LinearSystem:
    """The same structure with nothing published: what the attacker's prior
    knowledge alone (`_prior`) already implies of each cell."""
    hidden = {_key(c.cell): _prior(c.cell, quantity, indicator) for c in cells}
    return LinearSystem({}, hidden, system.relations)


def _nothing_learnt(low: float, high: float, prior: tuple[float, float]) -> bool:
    """The published figures tell no more of the cell than the attacker's prior
    knowledge already did (an empty IRIS, a share whose denominators are under
    k): nothing to protect."""
    return low <= prior[0] + _PRIOR_TOLERANCE and high >= prior[1] - _PRIOR_TOLERANCE


def _key(cell: Cell) -> str:
    return f"{cell.level.value}:{cell.code}"


def _amount(cell: Cell, quantity: CheckedQuantity) -> float:
    if quantity is CheckedQuantity.COMPLEMENT:
        return (cell.denominator or 0.0) - cell.numerator
    return cell.numerator


def _prior(cell: Cell, quantity: CheckedQuantity, indicator: Indicator) -> tuple[float, float]:
    """What an attacker may know of a secret cell before reading the release.

    Assumed known, to be safe: that the cell is empty when it is (an activity
    zone, a count published as 0 in another indicator: a known zero can never
    hide anything), and, for a share of one dataset, its denominator (the same
    count is published as an indicator of its own), which bounds both the
    numerator and the complement. Otherwise only that a count is not negative.
    """
    if _amount(cell, quantity) == 0:
        return (0.0, 0.0)
    if indicator.share_of_one_dataset and cell.denominator is not None:
        return (0.0, cell.denominator)
    return NON_NEGATIVE


def _system(
    cells: Sequence[ReleasedCell],
    groups: Mapping[str, _Group],
    quantity: CheckedQuantity,
    indicator: Indicator,
) -> LinearSystem:
    """What is published of `quantity`, what is known of the secret cells, and the
    commune = sum of IRIS relations."""
    known = {}
    hidden = {}
    for released in cells:
        if released.status is CellStatus.OK:
            known[_key(released.cell)] = _amount(released.cell, quantity)
        else:
            hidden[_key(released.cell)] = _prior(released.cell, quantity, indicator)
    relations = tuple(
        sum_relation(_key(cells[g.row].cell), [_key(cells[i].cell) for i in g.iris])
        for g in groups.values()
        if g.row is not None and g.iris
    )
    return LinearSystem(known, hidden, relations)


def _suppress(
    cells: Sequence[ReleasedCell], indicator: Indicator, rules: DisclosureRules
) -> tuple[tuple[ReleasedCell, ...], _Check]:
    current = tuple(cells)
    groups = _hierarchy([c.cell for c in current])
    check = _check(current, groups, indicator, rules)
    if not rules.secondary_suppression:
        return current, check
    while check.failing:
        chosen = {
            _complementary(current, groups[commune], quantity)
            for commune, quantity in check.failing.items()
        }
        current = tuple(
            replace(c, status=CellStatus.SECRET_SECONDARY, value=None) if i in chosen else c
            for i, c in enumerate(current)
        )
        check = _check(current, groups, indicator, rules)
    return current, check


def _complementary(cells: Sequence[ReleasedCell], group: _Group, quantity: CheckedQuantity) -> int:
    """The cheapest published cell whose suppression widens this commune's
    intervals: the IRIS with the smallest non-zero amount; failing that the
    commune row; failing that any published IRIS (it leaves a secret commune
    row unbounded)."""

    def published(i: int) -> bool:
        return cells[i].status is CellStatus.OK

    iris = [i for i in group.iris if published(i)]
    useful = [i for i in iris if _amount(cells[i].cell, quantity) > 0]
    if useful:
        return min(useful, key=lambda i: (_amount(cells[i].cell, quantity), cells[i].cell.code))
    if group.row is not None and published(group.row):
        return group.row
    if iris:
        return min(iris, key=lambda i: cells[i].cell.code)
    # Every cell of the commune secret leaves every interval unbounded above,
    # so a check cannot fail here unless the system itself is broken.
    raise AssertionError("secondary suppression found nothing left to suppress")
