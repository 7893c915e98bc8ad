"""The disclosure check's LP core: feasible intervals of secret cells in linear systems."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from hub.errors import InconsistentSystemError
from hub.inference import (
    NON_NEGATIVE,
    Interval,
    LinearSystem,
    Relation,
    check_system,
    feasible_intervals,
    is_protected,
    sum_relation,
)


def two_way(values: Sequence[Sequence[float]], suppressed: set[tuple[int, int]]) -> LinearSystem:
    """A frequency table with its row, column and grand totals published,
    `suppressed` inner cells secret (non-negative), every margin relation known."""
    rows, cols = len(values), len(values[0])
    known: dict[str, float] = {}
    for r in range(rows):
        for c in range(cols):
            if (r, c) not in suppressed:
                known[f"r{r}c{c}"] = values[r][c]
        known[f"r{r}"] = sum(values[r])
    for c in range(cols):
        known[f"c{c}"] = sum(values[r][c] for r in range(rows))
    known["total"] = sum(map(sum, values))
    relations = [sum_relation(f"r{r}", [f"r{r}c{c}" for c in range(cols)]) for r in range(rows)]
    relations += [sum_relation(f"c{c}", [f"r{r}c{c}" for r in range(rows)]) for c in range(cols)]
    relations.append(sum_relation("total", [f"r{r}" for r in range(rows)]))
    hidden = {f"r{r}c{c}": NON_NEGATIVE for r, c in suppressed}
    return LinearSystem(known, hidden, tuple(relations))


# The SDC handbook's frequency-table case (Hundepool et al., cell suppression):
# four suppressed cells in a 2x2 pattern; margins published. Row 0 leaves 6 for
# its two secret cells, column 1 leaves 3, so x00 >= 6 - 3; row 1 leaves 6 and
# column 0 leaves 9, so x00 >= 9 - 6 and x00 <= 6.
HANDBOOK = [[4, 2, 10], [5, 1, 7], [8, 9, 12]]
HANDBOOK_SUPPRESSED = {(0, 0), (0, 1), (1, 0), (1, 1)}


def test_handbook_frequency_table_interval_is_3_to_6() -> None:
    intervals = feasible_intervals(two_way(HANDBOOK, HANDBOOK_SUPPRESSED))

    assert intervals == {
        "r0c0": Interval(3.0, 6.0),
        "r0c1": Interval(0.0, 3.0),
        "r1c0": Interval(3.0, 6.0),
        "r1c1": Interval(0.0, 3.0),
    }
    for name, interval in intervals.items():
        r, c = int(name[1]), int(name[3])
        assert interval.low <= HANDBOOK[r][c] <= interval.high


@pytest.mark.parametrize(("k", "protected"), [(3, True), (4, False)])
def test_handbook_table_protected_only_up_to_its_width(k: int, protected: bool) -> None:
    assert check_system(two_way(HANDBOOK, HANDBOOK_SUPPRESSED), k)[1] is protected


def test_two_suppressions_per_line_can_still_disclose_a_bridging_cell() -> None:
    # Two 2x2 cycles of secret cells, joined by one more secret cell (0, 2):
    # every row and column holds at least two secret cells, yet no pattern of
    # changes that keeps the margins can move the bridge, so it is exact.
    values = [[25, 30, 14, 40], [35, 20, 50, 45], [60, 55, 22, 28], [33, 47, 31, 19]]
    suppressed = {(0, 0), (0, 1), (1, 0), (1, 1), (2, 2), (2, 3), (3, 2), (3, 3), (0, 2)}
    for line in range(4):
        assert sum((line, c) in suppressed for c in range(4)) >= 2
        assert sum((r, line) in suppressed for r in range(4)) >= 2

    intervals, protected = check_system(two_way(values, suppressed), k=11)

    assert intervals["r0c2"] == Interval(14.0, 14.0)
    assert not is_protected(intervals["r0c2"], 11)
    assert protected is False
    assert intervals["r2c2"].width > 0  # the cycles themselves move


def test_hierarchy_lone_secret_is_recovered_and_a_pair_is_not() -> None:
    commune = sum_relation("c", ["i1", "i2", "i3"])
    lone = LinearSystem({"c": 60, "i2": 20, "i3": 35}, {"i1": NON_NEGATIVE}, (commune,))
    pair = LinearSystem({"c": 60, "i3": 35}, {"i1": NON_NEGATIVE, "i2": NON_NEGATIVE}, (commune,))

    assert feasible_intervals(lone) == {"i1": Interval(5.0, 5.0)}
    assert feasible_intervals(pair) == {"i1": Interval(0.0, 25.0), "i2": Interval(0.0, 25.0)}


@pytest.mark.parametrize(
    ("system", "expected"),
    [
        pytest.param(
            LinearSystem({}, {"x": NON_NEGATIVE}), {"x": Interval(0.0, math.inf)}, id="no relation"
        ),
        pytest.param(
            LinearSystem(
                {"i2": 4},
                {"c": NON_NEGATIVE, "i1": NON_NEGATIVE},
                (sum_relation("c", ["i1", "i2"]),),
            ),
            {"c": Interval(4.0, math.inf), "i1": Interval(0.0, math.inf)},
            id="secret total",
        ),
        pytest.param(
            LinearSystem(
                {"c": 10}, {"x": (0.0, 4.0), "y": NON_NEGATIVE}, (sum_relation("c", ["x", "y"]),)
            ),
            {"x": Interval(0.0, 4.0), "y": Interval(6.0, 10.0)},
            id="known upper bound",
        ),
        pytest.param(
            LinearSystem(
                {},
                {"x": (-math.inf, math.inf), "y": NON_NEGATIVE},
                (Relation({"x": 1, "y": -1}, 3),),
            ),
            {"x": Interval(3.0, math.inf), "y": Interval(0.0, math.inf)},
            id="free variable bounded below through a relation",
        ),
        pytest.param(
            LinearSystem(
                {},
                {"x": (-math.inf, math.inf), "y": (-math.inf, math.inf)},
                (Relation({"x": 1, "y": -1}, 3),),
            ),
            {"x": Interval(-math.inf, math.inf), "y": Interval(-math.inf, math.inf)},
            id="free both ways",
        ),
    ],
)
def test_intervals_of_small_systems(system: LinearSystem, expected: dict[str, Interval]) -> None:
    assert feasible_intervals(system) == expected


@pytest.mark.parametrize(
    "system",
    [
        pytest.param(
            LinearSystem({"c": 10, "i1": 4, "i2": 5}, {}, (sum_relation("c", ["i1", "i2"]),)),
            id="published cells break a relation",
        ),
        pytest.param(
            LinearSystem(
                {"c": 10, "i1": 14}, {"i2": NON_NEGATIVE}, (sum_relation("c", ["i1", "i2"]),)
            ),
            id="no non-negative assignment",
        ),
        pytest.param(
            LinearSystem({"c": 10}, {"i1": NON_NEGATIVE}, (sum_relation("c", ["i1", "i2"]),)),
            id="unknown cell",
        ),
        pytest.param(
            LinearSystem(
                {},
                {"x": (-math.inf, math.inf), "y": (-math.inf, math.inf)},
                (Relation({"x": 1, "y": -1}, 3), Relation({"x": 1, "y": -1}, 4)),
            ),
            id="infeasible with every bound infinite",
        ),
    ],
)
def test_contradictory_systems_are_refused(system: LinearSystem) -> None:
    with pytest.raises(InconsistentSystemError):
        feasible_intervals(system)


def one_at_a_time(system: LinearSystem) -> dict[str, Interval]:
    """The audit as its definition words it: two plain LPs per secret cell."""
    names = sorted(system.hidden)
    a_eq, b_eq = [], []
    for relation in system.relations:
        row = [0.0] * len(names)
        rhs = relation.total
        for name, coefficient in relation.terms.items():
            if name in system.known:
                rhs -= coefficient * system.known[name]
            else:
                row[names.index(name)] += coefficient
        a_eq.append(row)
        b_eq.append(rhs)
    bounds = [system.hidden[n] for n in names]
    out = {}
    for j, name in enumerate(names):
        ends = []
        for sign in (1.0, -1.0):
            cost = np.zeros(len(names))
            cost[j] = sign
            result = linprog(cost, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
            assert result.status in (0, 3)
            ends.append(sign * result.fun if result.status == 0 else sign * math.inf)
        out[name] = Interval(*ends)
    return out


@st.composite
def suppressed_tables(draw: st.DrawFn) -> LinearSystem:
    rows = draw(st.integers(2, 5))
    cols = draw(st.integers(2, 5))
    small = st.integers(0, 10)
    values = [
        [draw(st.one_of(small, st.integers(0, 200))) for _ in range(cols)] for _ in range(rows)
    ]
    cells = [(r, c) for r in range(rows) for c in range(cols)]
    suppressed = draw(st.sets(st.sampled_from(cells), min_size=1))
    return two_way(values, suppressed)


@settings(max_examples=60, deadline=None)
@given(suppressed_tables())
def test_stacked_lp_agrees_with_one_lp_per_bound(system: LinearSystem) -> None:
    stacked = feasible_intervals(system)
    plain = one_at_a_time(system)

    assert stacked.keys() == plain.keys()
    for name, (low, high) in stacked.items():
        assert low == pytest.approx(plain[name].low, abs=1e-6)
        assert high == pytest.approx(plain[name].high, abs=1e-6)
