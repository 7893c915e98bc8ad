"""What an attacker can deduce from published figures: the disclosure check's LP core.

A release is a set of published cells, a set of secret cells and linear
relations between them that anyone knows (a commune row is the sum of its
IRIS rows; in a two-way table each row and column sums to its margin). The
attacker's best knowledge of a secret cell is its *feasible interval*: the
minimum and maximum of its value over every assignment of the secret cells
that satisfies the relations, given the published values and what is known
beforehand of each secret cell (by default only that it is non-negative).
A release is called protected when every such interval is
at least k wide.

`feasible_intervals` computes the intervals with `scipy.optimize.linprog`
(HiGHS): for each secret cell, one LP minimising it and one maximising it.
Solving them one call at a time costs about a millisecond of call overhead
each, so the LPs are stacked: every (cell, direction) pair gets its own copy
of the variables of its connected component, and one block-diagonal LP
minimises the sum of all the copies' objectives. The blocks share no variable
or constraint, so the joint optimum is every block at its own optimum, and
each copy's target variable holds that LP's answer. LP with an unbounded
block is unbounded as a whole, so unboundedness is decided first, exactly,
on the recession cone (see `_unbounded`), and unbounded directions are left
out of the stacked LP.

Pure: plain data in, plain data out; no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_array

from hub.errors import InconsistentSystemError

NON_NEGATIVE: tuple[float, float] = (0.0, math.inf)
_TOLERANCE = 1e-7  # HiGHS's default primal feasibility tolerance
_DECIMALS = 6  # intervals are reported to this many decimals: LP noise is below it
_WIDTH_TOLERANCE = 1e-6


class Interval(NamedTuple):
    """The values a secret cell can take given everything published."""

    low: float
    high: float  # math.inf when nothing bounds it from above

    @property
    def width(self) -> float:
        return self.high - self.low


@dataclass(frozen=True)
class Relation:
    """A published linear identity: sum of coefficient x cell equals `total`."""

    terms: Mapping[str, float]
    total: float = 0.0


@dataclass(frozen=True)
class LinearSystem:
    """Everything an attacker knows: published values, a priori bounds of the
    secret cells, and the relations that tie cells together."""

    known: Mapping[str, float]
    hidden: Mapping[str, tuple[float, float]] = field(default_factory=dict)  # cell -> (low, high)
    relations: tuple[Relation, ...] = ()


def is_protected(interval: Interval, k: float) -> bool:
    """The disclosure check's test for one secret cell: at least k wide, and so never a point."""
    return interval.high > interval.low and interval.width >= k - _WIDTH_TOLERANCE


def check_system(system: LinearSystem, k: float) -> tuple[dict[str, Interval], bool]:
    """Every hidden cell's interval, and whether all of them are protected."""
    intervals = feasible_intervals(system)
    return intervals, all(is_protected(i, k) for i in intervals.values())


def sum_relation(total: str, parts: Iterable[str]) -> Relation:
    """`total` is the sum of `parts` (a commune row and its IRIS rows, a margin and its row)."""
    terms = {total: 1.0}
    for part in parts:
        terms[part] = terms.get(part, 0.0) - 1.0
    return Relation(terms)


def feasible_intervals(
    system: LinearSystem, of: Iterable[str] | None = None
) -> dict[str, Interval]:
    """The feasible interval of every hidden cell of `system` (of those named in
    `of` only, when given: the others keep their prior bounds).

    Raises InconsistentSystemError when a relation names an unknown cell or
    no assignment satisfies the system (the published figures contradict
    each other)."""
    names = sorted(system.hidden)
    bounds = np.array([system.hidden[n] for n in names], dtype=float).reshape(-1, 2)
    rows = _reduce(system, {name: i for i, name in enumerate(names)})
    intervals = {name: Interval(*system.hidden[name]) for name in names}
    components = _components(len(names), rows)
    wanted = set(names if of is None else of)
    targets = [
        (comp, j, direction)
        for comp in components
        if comp.rows
        for j in range(len(comp.variables))
        if names[comp.variables[j]] in wanted
        for direction in (-1.0, 1.0)
    ]
    unbounded = _unbounded(targets, bounds)
    finite = [t for t, out in zip(targets, unbounded, strict=True) if not out]
    # A component whose every optimum is infinite still gets a block, with no
    # objective, so that an infeasible one is caught (the recession test
    # presumes a non-empty region).
    covered = {id(comp) for comp, _, _ in finite}
    finite += [(c, 0, 0.0) for c in components if c.rows and id(c) not in covered]
    optimum = _stacked(finite, bounds, recession=False)
    for (comp, j, direction), value in zip(finite, optimum, strict=True):
        if direction == 0.0:
            continue
        name = names[comp.variables[j]]
        low, high = intervals[name]
        if direction < 0:
            intervals[name] = Interval(round(value, _DECIMALS), high)
        else:
            intervals[name] = Interval(low, round(value, _DECIMALS))
    for (comp, j, direction), out in zip(targets, unbounded, strict=True):
        if out:
            name = names[comp.variables[j]]
            low, high = intervals[name]
            intervals[name] = (
                Interval(-math.inf, high) if direction < 0 else Interval(low, math.inf)
            )
    return intervals


class _Row(NamedTuple):
    coefficients: dict[int, float]  # hidden cell index -> coefficient
    rhs: float


@dataclass
class _Component:
    """Hidden cells linked by relations, with those relations in local indices."""

    variables: list[int]
    rows: list[_Row]


def _reduce(system: LinearSystem, index: Mapping[str, int]) -> list[_Row]:
    """The relations over hidden cells only, published values moved to the right."""
    rows = []
    for relation in system.relations:
        coefficients: dict[int, float] = {}
        rhs = relation.total
        for name, coefficient in relation.terms.items():
            if name in system.known:
                rhs -= coefficient * system.known[name]
            elif name in index:
                coefficients[index[name]] = coefficients.get(index[name], 0.0) + coefficient
            else:
                raise InconsistentSystemError(
                    f"a relation names {name!r}, neither published nor secret"
                )
        coefficients = {i: c for i, c in coefficients.items() if c != 0.0}
        scale = 1.0 + sum(abs(c * system.known.get(n, 0.0)) for n, c in relation.terms.items())
        if coefficients:
            rows.append(_Row(coefficients, rhs))
        elif abs(rhs) > _TOLERANCE * scale:
            raise InconsistentSystemError(f"published cells break a relation by {rhs:g}")
    return rows


def _components(count: int, rows: Sequence[_Row]) -> list[_Component]:
    """Hidden cells grouped by the relations that link them (union-find)."""
    parent = list(range(count))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for row in rows:
        first, *others = row.coefficients
        for other in others:
            parent[root(other)] = root(first)
    members: dict[int, list[int]] = {}
    for i in range(count):
        members.setdefault(root(i), []).append(i)
    components = {r: _Component(m, []) for r, m in members.items()}
    local = {i: pos for m in members.values() for pos, i in enumerate(m)}
    for row in rows:
        comp = components[root(next(iter(row.coefficients)))]
        comp.rows.append(_Row({local[i]: c for i, c in row.coefficients.items()}, row.rhs))
    return list(components.values())


@dataclass(frozen=True)
class _Block:
    """A component's equality rows as COO arrays and its variables' bounds."""

    rows: np.ndarray
    cols: np.ndarray
    data: np.ndarray
    rhs: np.ndarray
    box: np.ndarray

    @classmethod
    def of(cls, comp: _Component, bounds: np.ndarray, *, recession: bool) -> _Block:
        rows = [r for r, row in enumerate(comp.rows) for _ in row.coefficients]
        cols = [v for row in comp.rows for v in row.coefficients]
        data = [c for row in comp.rows for c in row.coefficients.values()]
        rhs = np.zeros(len(comp.rows)) if recession else np.array([r.rhs for r in comp.rows])
        own = bounds[comp.variables]
        if recession:
            own = np.column_stack(
                (np.where(np.isinf(own[:, 0]), -1.0, 0.0), np.where(np.isinf(own[:, 1]), 1.0, 0.0))
            )
        return cls(
            np.asarray(rows, dtype=np.int64),
            np.asarray(cols, dtype=np.int64),
            np.asarray(data, dtype=float),
            np.asarray(rhs, dtype=float).reshape(-1),
            own,
        )


# component, local variable, -1 minimise / +1 maximise (0: feasibility only)
_Target = tuple[_Component, int, float]


def _unbounded(targets: Sequence[_Target], bounds: np.ndarray) -> list[bool]:
    """Whether each target's optimum is infinite.

    Over a non-empty polyhedron {x : A x = b, l <= x <= u}, x_j grows without
    bound iff some direction d of its recession cone (A d = 0, d_i >= 0 where
    l_i is finite, d_i <= 0 where u_i is finite) has d_j > 0. Boxing d into
    [-1, 1] keeps that LP bounded: its optimum is 1 or 0."""
    result = [False] * len(targets)
    open_ends = []
    for pos, (comp, j, direction) in enumerate(targets):
        low, high = bounds[comp.variables[j]]
        if (direction > 0 and math.isinf(high)) or (direction < 0 and math.isinf(low)):
            open_ends.append(pos)
    if open_ends:
        optimum = _stacked([targets[p] for p in open_ends], bounds, recession=True)
        for pos, value in zip(open_ends, optimum, strict=True):
            result[pos] = abs(value) > 0.5
    return result


def _stacked(targets: Sequence[_Target], bounds: np.ndarray, *, recession: bool) -> list[float]:
    """Optimise each target's variable over its own copy of its component, in one LP."""
    if not targets:
        return []
    blocks: dict[int, _Block] = {}  # each component's rows as arrays, built once
    row_parts: list[np.ndarray] = []
    col_parts: list[np.ndarray] = []
    data_parts: list[np.ndarray] = []
    rhs_parts: list[np.ndarray] = []
    box: list[np.ndarray] = []
    objective_at: list[int] = []
    signs: list[float] = []
    offset = 0
    rows_so_far = 0
    for comp, j, direction in targets:
        block = blocks.get(id(comp))
        if block is None:
            block = blocks[id(comp)] = _Block.of(comp, bounds, recession=recession)
        row_parts.append(block.rows + rows_so_far)
        col_parts.append(block.cols + offset)
        data_parts.append(block.data)
        rhs_parts.append(block.rhs)
        box.append(block.box)
        objective_at.append(offset + j)
        signs.append(direction)
        offset += len(comp.variables)
        rows_so_far += len(block.rhs)
    row_ids = np.concatenate(row_parts)
    col_ids = np.concatenate(col_parts)
    data = np.concatenate(data_parts)
    rhs = np.concatenate(rhs_parts)
    cost = np.zeros(offset)
    cost[objective_at] = -np.asarray(signs)  # linprog minimises: maximise x by minimising -x
    a_eq = coo_array((data, (row_ids, col_ids)), shape=(len(rhs), offset)).tocsr()
    result = linprog(cost, A_eq=a_eq, b_eq=rhs, bounds=np.vstack(box), method="highs")
    if result.status == 2:
        raise InconsistentSystemError("no assignment of the secret cells fits the published ones")
    if result.status != 0:
        raise InconsistentSystemError(f"the disclosure check LP did not solve: {result.message}")
    solution = np.asarray(result.x)
    return [float(solution[i]) for i in objective_at]
