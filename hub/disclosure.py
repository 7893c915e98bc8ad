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

Geography. Every row is an area of one level (IRIS, commune, QPV, commune
hors QPV, EPCI, a zone of the territory) and every area is a union of the
territory's atoms, so the rows of all levels are sums over the same
non-negative unknowns: the pieces of the territory no published boundary
cuts ("units": atoms grouped by the rows they belong to). The attacker knows
those relations: a commune is the sum of its IRIS, and also of its QPV
pieces and its hors-QPV area, a QPV over two IRIS is tied to both. The
check bounds every secret row over all of them at once, so subtracting one
geography from another (commune - hors QPV = the QPV inside it) is caught
like any other deduction.

Slivers. A piece no row publishes — IRIS minus the QPV that cuts it, the
part of a QPV in one IRIS, a commune's hors-QPV part inside one IRIS — can
be isolated by differencing too. The check lists them as INSEE's diffman
does (each unit, and for every two rows that overlap without one holding
the other, what each has outside the other and what they share) and fails
when published rows add and subtract exactly to one holding 1 to k-1.

Secondary suppression. While the check fails, for each failing secret row
or sliver one published row is suppressed: among the published rows that
the failing one is a linear combination of (those that reveal it by
subtraction; first those whose suppression alone breaks every such
combination), the one with the smallest non-zero value of the failing quantity (ties: code);
failing that, a published row of the same level inside a row that holds it
(a neighbouring IRIS of its commune), the smallest; failing that, the
smallest published row holding it; failing that, the smallest published row
meeting it, then any. With IRIS and communes only, that is the classic
rule: the smallest published IRIS of the commune, else the commune row. The
loop checks again after each round, until the disclosure check passes.

Pure functions over plain data; the LP core is `hub.inference`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from contracts.disclosure import DisclosureRules
from contracts.indicators import Indicator
from hub.errors import TableStructureError
from hub.inference import (
    NON_NEGATIVE,
    Interval,
    LinearSystem,
    Relation,
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

    seen: set[tuple[str, str]] = set()
    for cell in table.cells:
        if (cell.level, cell.code) in seen:
            raise fail(cell.code, f"{cell.level} row given twice")
        seen.add((cell.level, cell.code))
        if not cell.atoms:
            raise fail(cell.code, f"a {cell.level} row covers no atom of the territory")
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
    for whole, part_indices in _partitions(table.cells):
        row = table.cells[whole]
        parts = [table.cells[i] for i in part_indices]
        for name, total, values in (
            ("numerator", row.numerator, [c.numerator for c in parts]),
            ("denominator", row.denominator, [c.denominator for c in parts]),
        ):
            if total is None or any(v is None for v in values):
                continue
            gap = total - math.fsum(v for v in values if v is not None)
            if abs(gap) > _SUM_TOLERANCE * max(1.0, abs(total)):
                level = parts[0].level
                raise fail(row.code, f"{name} is not the sum of its {level} rows (off by {gap:g})")


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
    check = _check(cells, _structure([c.cell for c in cells]), indicator, rules)
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


# (level, code) -> (numerator, denominator) as a release published them; None when secret
Previous = Mapping[tuple[str, str], tuple[float, float | None] | None]


def protect_revision(release: Release, indicator: Indicator, previous: Previous) -> Release:
    """A release that replaces one already published (`previous`), made safe
    against it: every row secret before stays secret, and no change between
    the two releases (a row's, a sliver's, or any that rows published in both
    add and subtract to) holds 1 to k-1 people; each such change hides a row
    that reveals it, and secondary suppression runs again. The result carries
    the disclosure check it ends on."""
    current = release
    for _ in range(len(release.cells) + 1):
        cells = current.cells
        forced = {
            i
            for i, c in enumerate(cells)
            if c.status is CellStatus.OK and _row(c.cell) in previous and not previous[_row(c.cell)]
        }
        if not forced:
            forced = _revealed_changes(cells, indicator, current.rules, previous)
        if not forced:
            return current
        hidden = [
            replace(c, status=CellStatus.SECRET_SECONDARY, value=None) if i in forced else c
            for i, c in enumerate(cells)
        ]
        current = protect(current, hidden, indicator)
    return current


def _row(cell: Cell) -> tuple[str, str]:
    return (cell.level, cell.code)


def _revealed_changes(
    cells: Sequence[ReleasedCell], indicator: Indicator, rules: DisclosureRules, previous: Previous
) -> set[int]:
    """Rows to hide so that no change between the releases is isolated under k."""
    structure = _structure([c.cell for c in cells])
    both = [
        i for i, c in enumerate(cells) if c.status is CellStatus.OK and previous.get(_row(c.cell))
    ]
    targets = [*structure.unit_rows, *structure.slivers]
    combinations = _combinations(structure, both, targets)
    chosen: set[int] = set()
    for quantity in checked_quantities(indicator, rules):
        change = {
            i: _amount(cells[i].cell, quantity) - _old(previous[_row(cells[i].cell)], quantity)
            for i in both
        }
        for units, weights in zip(targets, combinations, strict=True):
            if weights is None:
                continue
            value = math.fsum(w * change[i] for i, w in zip(both, weights, strict=True))
            if not _PRIOR_TOLERANCE < abs(value) < rules.k - _PRIOR_TOLERANCE:
                continue
            own = [i for i in both if structure.unit_rows[i] == tuple(units)]
            revealing = own or [i for group in _revealing(structure, both, units) for i in group]
            if revealing and not chosen.intersection(revealing):
                chosen.add(revealing[0])
    return chosen


def _old(figures: tuple[float, float | None] | None, quantity: CheckedQuantity) -> float:
    numerator, denominator = figures or (0.0, None)
    if quantity is CheckedQuantity.COMPLEMENT:
        return (denominator or 0.0) - numerator
    return numerator


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


def _partitions(cells: Sequence[Cell]) -> list[tuple[int, list[int]]]:
    """(row, the rows of another level that exactly tile it): a commune and its
    IRIS, an EPCI and its communes, a quartier and its IRIS."""
    by_level: dict[str, dict[str, int]] = {}
    for i, cell in enumerate(cells):
        index = by_level.setdefault(cell.level, {})
        for atom in cell.atoms:
            index[atom] = i
    found = []
    for i, cell in enumerate(cells):
        held = set(cell.atoms)
        for level, index in by_level.items():
            if level == cell.level:
                continue
            parts = sorted({index[a] for a in cell.atoms if a in index})
            if not parts or any(a not in index for a in cell.atoms):
                continue
            if all(set(cells[j].atoms) <= held for j in parts):
                found.append((i, parts))
    return found


@dataclass(frozen=True)
class _Structure:
    """What ties the rows together: each row as a sum of units (pieces of the
    territory no row's border cuts), and which rows hold which."""

    units: tuple[frozenset[str], ...]  # atoms of each unit
    unit_rows: tuple[tuple[int, ...], ...]  # per row: the units it is the sum of
    variable: tuple[str, ...]  # per unit: the row key standing for it, or its own name
    slivers: tuple[tuple[int, ...], ...] = ()  # unions of units no row publishes

    def relations(self, cells: Sequence[Cell]) -> tuple[Relation, ...]:
        relations = []
        for i, cell in enumerate(cells):
            parts = [self.variable[u] for u in self.unit_rows[i]]
            if parts != [_key(cell)]:
                relations.append(sum_relation(_key(cell), parts))
        return tuple(relations)

    def unit_variables(self, cells: Sequence[Cell]) -> list[str]:
        keys = {_key(c) for c in cells}
        return [name for name in self.variable if name not in keys]


def _structure(cells: Sequence[Cell]) -> _Structure:
    signature: dict[str, list[int]] = {}
    for i, cell in enumerate(cells):
        for atom in cell.atoms:
            signature.setdefault(atom, []).append(i)
    grouped: dict[tuple[int, ...], set[str]] = {}
    for atom, rows in signature.items():
        grouped.setdefault(tuple(rows), set()).add(atom)
    units = sorted((frozenset(atoms) for atoms in grouped.values()), key=lambda u: min(u))
    by_atoms: dict[frozenset[str], str] = {}
    for cell in cells:
        by_atoms.setdefault(frozenset(cell.atoms), _key(cell))
    variable = tuple(by_atoms.get(unit, f"unit:{min(unit)}") for unit in units)
    unit_of = {atom: u for u, unit in enumerate(units) for atom in unit}
    unit_rows = tuple(tuple(sorted({unit_of[a] for a in cell.atoms})) for cell in cells)
    return _Structure(tuple(units), unit_rows, variable, _slivers(unit_rows, len(units)))


def _slivers(unit_rows: Sequence[tuple[int, ...]], count: int) -> tuple[tuple[int, ...], ...]:
    """The pieces a reader may try to isolate by differencing, as diffman finds
    them: each unit, and for every two rows that overlap without one holding
    the other, what each has outside the other and what they share; those
    that are no row."""
    rows = [frozenset(r) for r in unit_rows]
    published = set(rows)
    found = {frozenset({u}) for u in range(count)}
    for i, a in enumerate(rows):
        for b in rows[i + 1 :]:
            if a & b and not (a <= b or b <= a):
                found |= {a - b, b - a, a & b}
    return tuple(sorted(tuple(sorted(f)) for f in found if f and f not in published))


@dataclass(frozen=True)
class _Failure:
    """A secret row (`row`) or a sliver (`row` None) a reader could narrow to under k."""

    units: tuple[int, ...]
    row: int | None
    quantity: CheckedQuantity


@dataclass(frozen=True)
class _Check:
    findings: tuple[DisclosureFinding, ...]
    passed: bool
    failing: tuple[_Failure, ...]  # failing secret rows, then slivers; first quantity each
    slivers: int = 0  # slivers checked


def _check(
    cells: Sequence[ReleasedCell],
    structure: _Structure,
    indicator: Indicator,
    rules: DisclosureRules,
) -> _Check:
    passed = all(
        not is_primary_secret(c.cell, indicator, rules) for c in cells if c.status is CellStatus.OK
    )
    findings = []
    failing: dict[tuple[int, ...] | int, _Failure] = {}
    secret = [_key(c.cell) for c in cells if c.status is not CellStatus.OK]
    published = [i for i, c in enumerate(cells) if c.status is CellStatus.OK]
    # the slivers published rows add and subtract to exactly, as diffman derives them
    derivations = _combinations(structure, published, structure.slivers)
    for quantity in checked_quantities(indicator, rules):
        system = _system(cells, structure, quantity, indicator)
        intervals = feasible_intervals(system, secret)
        suspects: list[tuple[str, Interval, tuple[int, ...] | int, _Failure]] = []
        for i, released in enumerate(cells):
            if released.status is CellStatus.OK:
                continue
            cell = released.cell
            low, high = intervals[_key(cell)]
            findings.append(DisclosureFinding(cell.code, cell.level, low, high, quantity))
            if not is_protected(Interval(low, high), rules.k):
                failure = _Failure(structure.unit_rows[i], i, quantity)
                suspects.append((_key(cell), Interval(low, high), i, failure))
        for units, weights in zip(structure.slivers, derivations, strict=True):
            if weights is None:
                continue
            value = math.fsum(
                w * _amount(cells[i].cell, quantity)
                for i, w in zip(published, weights, strict=True)
            )
            if _PRIOR_TOLERANCE < value < rules.k - _PRIOR_TOLERANCE:
                passed = False
                failing.setdefault(units, _Failure(units, None, quantity))
        if not suspects:
            continue
        # what the priors alone give: a narrow interval known beforehand discloses nothing new
        baseline = feasible_intervals(
            _without_publication(system, cells, quantity, indicator), secret
        )
        for name, interval, key, failure in suspects:
            if not _nothing_learnt(interval.low, interval.high, baseline[name]):
                passed = False
                failing.setdefault(key, failure)
    ordered = sorted(failing.values(), key=lambda f: (f.row is None, f.row or 0, f.units))
    return _Check(tuple(findings), passed, tuple(ordered), len(structure.slivers))


def _without_publication(
    system: LinearSystem,
    cells: Sequence[ReleasedCell],
    quantity: CheckedQuantity,
    indicator: Indicator,
) -> LinearSystem:
    """The same structure with nothing published: what the attacker's prior
    knowledge alone (`_prior`) already implies of each cell."""
    hidden = dict(system.hidden)
    hidden.update({_key(c.cell): _prior(c.cell, quantity, indicator) for c in cells})
    return LinearSystem({}, hidden, system.relations)


def _nothing_learnt(low: float, high: float, prior: tuple[float, float]) -> bool:
    """The published figures tell no more of the cell than the attacker's prior
    knowledge already did (an empty IRIS, a share whose denominators are under
    k): nothing to protect."""
    return low <= prior[0] + _PRIOR_TOLERANCE and high >= prior[1] - _PRIOR_TOLERANCE


def _key(cell: Cell) -> str:
    return f"{cell.level}:{cell.code}"


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
    structure: _Structure,
    quantity: CheckedQuantity,
    indicator: Indicator,
) -> LinearSystem:
    """What is published of `quantity`, what is known of the secret rows, and
    every row as the sum of its units."""
    known = {}
    hidden = {}
    for released in cells:
        if released.status is CellStatus.OK:
            known[_key(released.cell)] = _amount(released.cell, quantity)
        else:
            hidden[_key(released.cell)] = _prior(released.cell, quantity, indicator)
    plain = [c.cell for c in cells]
    for name in structure.unit_variables(plain):
        hidden[name] = NON_NEGATIVE
    return LinearSystem(known, hidden, structure.relations(plain))


def _suppress(
    cells: Sequence[ReleasedCell], indicator: Indicator, rules: DisclosureRules
) -> tuple[tuple[ReleasedCell, ...], _Check]:
    current = tuple(cells)
    structure = _structure([c.cell for c in current])
    check = _check(current, structure, indicator, rules)
    if not rules.secondary_suppression:
        return current, check
    while check.failing:
        chosen: set[int] = set()
        for failure in check.failing:
            candidates = _complementary(current, structure, failure)
            if not chosen.intersection(candidates):  # a choice of this round may cover it
                chosen.add(candidates[0])
        current = tuple(
            replace(c, status=CellStatus.SECRET_SECONDARY, value=None) if i in chosen else c
            for i, c in enumerate(current)
        )
        check = _check(current, structure, indicator, rules)
    return current, check


def _complementary(
    cells: Sequence[ReleasedCell], structure: _Structure, failure: _Failure
) -> list[int]:
    """The published rows whose suppression may protect the failing row or
    sliver, best first (the order described in the module docstring); never empty."""
    row, quantity = failure.row, failure.quantity
    published = [i for i, c in enumerate(cells) if c.status is CellStatus.OK]
    if not published:
        # Every row secret leaves every interval unbounded above, so a check
        # cannot fail here unless the system itself is broken.
        raise AssertionError("secondary suppression found nothing left to suppress")

    def amount(i: int) -> float:
        return _amount(cells[i].cell, quantity)

    def smallest(rows: Iterable[int]) -> list[int]:
        return sorted(rows, key=lambda i: (amount(i) <= 0, amount(i), cells[i].cell.code))

    target = set(failure.units)
    holders = [i for i in range(len(cells)) if i != row and target <= set(structure.unit_rows[i])]
    level = cells[row].cell.level if row is not None else None
    siblings = {
        i
        for i in published
        if cells[i].cell.level == level
        and any(set(structure.unit_rows[i]) <= set(structure.unit_rows[h]) for h in holders)
    }
    meeting = [i for i in published if target & set(structure.unit_rows[i])]
    revealing = _revealing(structure, published, failure.units)
    ordered = (
        [i for group in revealing for i in smallest(j for j in group if amount(j) > 0)]
        + smallest(i for i in siblings if amount(i) > 0)
        + sorted(
            (i for i in holders if i in set(published)),
            key=lambda i: (len(structure.unit_rows[i]), cells[i].cell.code),
        )
        + smallest(meeting)
        + smallest(published)
    )
    return list(dict.fromkeys(ordered))


def _combination(
    structure: _Structure, rows: Sequence[int], units: Sequence[int]
) -> list[float] | None:
    """Weights of `rows` whose combination is exactly the sum of `units`, or None."""
    return _combinations(structure, rows, [units])[0]


def _combinations(
    structure: _Structure, rows: Sequence[int], targets: Sequence[Sequence[int]]
) -> list[list[float] | None]:
    """`_combination` for many targets, in one least-squares solve."""
    if not rows or not targets:
        return [None] * len(targets)
    size = len(structure.units)
    matrix = np.zeros((size, len(rows)))
    for column, i in enumerate(rows):
        matrix[list(structure.unit_rows[i]), column] = 1.0
    wanted = np.zeros((size, len(targets)))
    for column, units in enumerate(targets):
        wanted[list(units), column] = 1.0
    solution, *_ = np.linalg.lstsq(matrix, wanted, rcond=None)
    exact = np.abs(matrix @ solution - wanted).max(axis=0) <= 1e-6
    return [
        [float(w) for w in solution[:, column]] if exact[column] else None
        for column in range(len(targets))
    ]


def _revealing(
    structure: _Structure, published: Sequence[int], units: Sequence[int]
) -> list[list[int]]:
    """The published rows a linear combination of which equals the sum of
    `units` (what an attacker subtracts to find it): those whose suppression
    alone takes every such combination away, then the others; empty when
    there is none."""
    found = _combination(structure, published, units)
    if found is None:
        return []
    support = [i for i, w in zip(published, found, strict=True) if abs(w) > 1e-9]
    decisive = [
        i
        for i in support
        if _combination(structure, [j for j in published if j != i], units) is None
    ]
    return [decisive, [i for i in support if i not in decisive]]
