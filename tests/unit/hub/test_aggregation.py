from __future__ import annotations

import itertools
import json
import math
import random
from collections import Counter
from collections.abc import Iterable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.filters import matches_all, parse_where
from contracts.indicators import Selection
from contracts.loading import load_indicator_catalog
from hub.aggregation import (
    MISSING_LOCATION,
    OUTSIDE_TERRITORY,
    ChunkKey,
    DropAccumulator,
    aggregate_chunk,
    identity_draw,
    merge_counts,
    place_records,
    position_draw,
    selections_for,
)
from hub.predicates import compile_selection, compile_where
from hub.tables import selection_key
from schemas.catalog import load_catalog
from tests.unit.hub.geo_support import DEMO_INDICATORS, demo_territory

CATALOG = load_indicator_catalog(DEMO_INDICATORS)
SCHEMAS = load_catalog()
CAF = SCHEMAS.dataset("caf.allocataires", 1)
FT = SCHEMAS.dataset("france_travail.demandeurs", 1)
APA = SCHEMAS.dataset("departement.apa", 1)
MENAGES = SCHEMAS.dataset("insee.menages", 1)
KEY = ChunkKey("drop-1", 0)
TERRITORY = demo_territory()
IRIS = TERRITORY.iris


def caf(iris: str | None, **fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "matricule": "ab" * 32,
        "iris": iris,
        "age_responsable": 40,
        "type_foyer": "isole",
        "nb_enfants": 0,
        "bas_revenus": 0,
        "rsa": 0,
        "aah": 0,
        "aide_logement": 0,
    }
    return record | fields


def shared_carreaux() -> list[str]:
    return [
        c
        for c in TERRITORY.carreaux
        if len(TERRITORY.carreau_weights(c) or ()) > 1
        and min(w for _, w in TERRITORY.carreau_weights(c) or ()) > 0.1
    ]


# ---- selections


def test_selections_for_reads_numerators_and_denominators_of_the_dataset() -> None:
    caf_selections = selections_for(CATALOG, "caf.allocataires")
    # every row; bas_revenus; monoparent & nb_enfants >= 1; nb_enfants >= 1; rsa
    assert len(caf_selections) == 5
    assert all(key == selection_key(s) for key, s in caf_selections.items())
    assert all(s.dataset == "caf.allocataires" for s in caf_selections.values())
    menages = selections_for(CATALOG, "insee.menages")
    assert [s.sum for s in menages.values()] == ["menages"]
    assert selections_for(CATALOG, "unknown.dataset") == {}


# ---- placement


def test_iris_records_are_placed_or_rejected_with_a_reason() -> None:
    records = [caf(IRIS[0]), caf("330639999"), caf(None), caf(IRIS[1]), caf("")]
    placed, rejected = place_records(records, CAF, TERRITORY, KEY)
    assert placed == [(IRIS[0], records[0]), (IRIS[1], records[3])]
    assert rejected == Counter({OUTSIDE_TERRITORY: 1, MISSING_LOCATION: 2})


def test_lonlat_records_go_through_point_in_polygon() -> None:
    minx, miny, maxx, maxy = TERRITORY.bounds
    rng = random.Random(3)
    points = [(rng.uniform(minx, maxx), rng.uniform(miny, maxy)) for _ in range(500)]
    records: list[dict[str, Any]] = [{"identifiant": "x", "lon": x, "lat": y} for x, y in points]
    records += [
        {"lon": None, "lat": 44.8},
        {"lon": math.nan, "lat": 44.8},
        {"lon": True, "lat": 44.8},
        {"lon": 2.35, "lat": 48.85},
    ]
    placed, rejected = place_records(records, FT, TERRITORY, KEY)
    expected = [
        (TERRITORY.locate_point(x, y), r) for (x, y), r in zip(points, records, strict=False)
    ]
    # a point's place is the atom holding it: its IRIS, or a piece of it a QPV cuts
    assert [(TERRITORY.atom(place).iris, r) for place, r in placed] == [  # type: ignore[union-attr]
        (code, r) for code, r in expected if code is not None
    ]
    assert {place for place, _ in placed} - set(TERRITORY.iris)  # some points fall in a QPV
    outside = sum(code is None for code, _ in expected) + 1
    assert rejected == Counter({MISSING_LOCATION: 3, OUTSIDE_TERRITORY: outside})


def apa(identifier: str | None, carreau: str | None) -> dict[str, Any]:
    return {"id_beneficiaire": identifier, "carreau": carreau, "lieu": "domicile"}


def test_carreau_placement_is_integer_and_deterministic() -> None:
    cell = shared_carreaux()[0]
    records = [apa(f"{i:064x}", cell) for i in range(200)] + [apa(None, cell)] * 50
    records += [apa("x", "CRS3035RES200mN0000000E0000000"), apa("y", None)]
    placed, rejected = place_records(records, APA, TERRITORY, KEY)
    again, _ = place_records(records, APA, TERRITORY, KEY)
    assert placed == again
    assert len(placed) == 250  # every record in exactly one IRIS
    assert rejected == Counter({OUTSIDE_TERRITORY: 1, MISSING_LOCATION: 1})
    allowed = {code for code, _ in TERRITORY.carreau_weights(cell) or ()}
    assert {code for code, _ in placed} == allowed
    counts = aggregate_chunk(placed, selections_for(CATALOG, "departement.apa"))
    assert all(isinstance(v, int) for cells in counts.values() for v in cells.values())


def test_same_person_same_iris_in_every_drop_and_position() -> None:
    cells = shared_carreaux()[:5]
    people = [f"{random.Random(i).getrandbits(256):064x}" for i in range(100)]
    records = [apa(p, cells[i % len(cells)]) for i, p in enumerate(people)]
    first, _ = place_records(records, APA, TERRITORY, ChunkKey("drop-2026-Q1", 0))
    shuffled = list(reversed(records))
    second, _ = place_records(shuffled, APA, TERRITORY, ChunkKey("drop-2026-Q2", 7))
    where_first = {r["id_beneficiaire"]: code for code, r in first}
    where_second = {r["id_beneficiaire"]: code for code, r in second}
    assert where_first == where_second


def test_records_without_identifier_draw_from_their_position() -> None:
    cell = shared_carreaux()[0]
    assert position_draw(KEY, 0, cell) == position_draw(ChunkKey("drop-1", 0), 0, cell)
    draws = {position_draw(KEY, i, cell) for i in range(100)}
    draws |= {position_draw(ChunkKey("drop-1", 1), i, cell) for i in range(100)}
    draws |= {position_draw(ChunkKey("drop-2", 0), i, cell) for i in range(100)}
    assert len(draws) == 300
    assert all(0.0 <= d < 1.0 for d in draws)
    assert identity_draw("a", cell) != identity_draw("a", shared_carreaux()[1])


def test_carreau_frequencies_converge_to_the_weights() -> None:
    n = 20_000
    for cell in shared_carreaux()[:4]:
        records = [apa(f"{random.Random(i).getrandbits(128):032x}", cell) for i in range(n)]
        placed, _ = place_records(records, APA, TERRITORY, KEY)
        frequencies = Counter(code for code, _ in placed)
        for code, weight in TERRITORY.carreau_weights(cell) or ():
            sigma = math.sqrt(n * weight * (1 - weight))
            assert abs(frequencies[code] - n * weight) < 5 * sigma + 1, (cell, code)


# ---- compiled filters


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-30, 30),
    st.floats(-30, 30, allow_nan=False),
    st.sampled_from(["A", "B", "monoparent", ""]),
)
VALUES = st.one_of(
    st.booleans(),
    st.integers(-30, 30),
    st.floats(-30, 30, allow_nan=False),
    st.sampled_from(["A", "B", "monoparent"]),
)
NUMBERS = st.one_of(st.integers(-30, 30), st.floats(-30, 30, allow_nan=False))
FIELDS = st.sampled_from(["a", "b", "c"])
SPECS = st.one_of(
    VALUES,
    st.fixed_dictionaries({"ne": VALUES}),
    st.fixed_dictionaries({"eq": VALUES}),
    st.fixed_dictionaries({"in": st.lists(VALUES, min_size=1, max_size=4)}),
    st.dictionaries(st.sampled_from(["lt", "le", "gt", "ge"]), NUMBERS, min_size=1),
)


@settings(max_examples=500, deadline=None)
@given(
    st.dictionaries(FIELDS, SPECS, max_size=3),
    st.lists(
        st.dictionaries(FIELDS, SCALARS | st.just(math.nan) | st.binary(max_size=1)), max_size=10
    ),
)
def test_compiled_filter_means_what_the_reference_means(
    where: dict[str, Any], records: list[dict[str, Any]]
) -> None:
    conditions = parse_where(where)
    predicate = compile_where(conditions)
    for record in records:
        expected = matches_all(conditions, record)
        assert (True if predicate is None else predicate(record)) is expected, (where, record)


def test_compiled_selection_is_cached() -> None:
    selection = Selection(dataset="caf.allocataires", where={"rsa": 1})
    assert compile_selection(selection) is compile_selection(selection)


# ---- aggregation


def test_aggregate_counts_and_sums_per_selection_and_iris() -> None:
    a, b = IRIS[0], IRIS[1]
    placed = [
        (a, caf(a, rsa=1, nb_enfants=2, type_foyer="monoparent")),
        (a, caf(a, rsa=1)),
        (b, caf(b, rsa=0, nb_enfants=1)),
        (b, caf(b, rsa=None, nb_enfants=None)),
    ]
    selections = selections_for(CATALOG, "caf.allocataires")
    counts = aggregate_chunk(placed, selections, CAF.measure)
    by_where = {tuple(str(c) for c in s.where): counts[k] for k, s in selections.items()}
    assert by_where[()] == {a: 2, b: 2}
    assert by_where[("rsa eq 1",)] == {a: 2}
    assert by_where[("nb_enfants ge 1",)] == {a: 1, b: 1}
    assert by_where[("bas_revenus eq 1",)] == {}  # present, empty
    assert by_where[("nb_enfants ge 1", "type_foyer eq monoparent")] == {a: 1}


def test_aggregate_sums_the_measure_of_aggregate_datasets() -> None:
    a, b = IRIS[0], IRIS[1]
    placed = [
        (a, {"iris": a, "menages": 900}),
        (a, {"iris": a, "menages": 12}),
        (b, {"iris": b, "menages": 0}),
    ]
    selections = selections_for(CATALOG, "insee.menages")
    counts = aggregate_chunk(placed, selections, MENAGES.measure)
    assert list(counts.values()) == [{a: 912, b: 0}]
    # without `sum`, an aggregate dataset's rows are still summed by their measure
    plain = {"k": Selection(dataset="insee.menages")}
    assert aggregate_chunk(placed, plain, "menages") == {"k": {a: 912, b: 0}}
    summed = {"k": Selection(dataset="ccas.aides", where={"v": {"ge": 0}}, sum="v")}
    rows: list[tuple[str, dict[str, Any]]] = [
        (a, {"v": 2.5}),
        (a, {"v": None}),
        (a, {"v": True}),
        (b, {"v": -1}),
    ]
    assert aggregate_chunk(rows, summed) == {"k": {a: 2.5}}


def test_merge_counts_is_a_pure_sum() -> None:
    left = {"s": {"i1": 1, "i2": 2}, "t": {"i1": 5}}
    right = {"s": {"i2": 3, "i3": 4}, "u": {}}
    before = json.dumps([left, right], sort_keys=True)
    assert merge_counts(left, right) == {"s": {"i1": 1, "i2": 5, "i3": 4}, "t": {"i1": 5}, "u": {}}
    assert json.dumps([left, right], sort_keys=True) == before


CAF_RECORDS = st.lists(
    st.builds(
        caf,
        st.sampled_from([*IRIS[:8], "330639999", None]),
        rsa=st.sampled_from([0, 1, None]),
        bas_revenus=st.sampled_from([0, 1]),
        nb_enfants=st.integers(0, 4) | st.none(),
        type_foyer=st.sampled_from(["isole", "monoparent", "couple_avec_enfants"]),
    ),
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(CAF_RECORDS, st.lists(st.integers(0, 60), max_size=6))
def test_aggregates_of_chunks_sum_to_the_whole(
    records: list[dict[str, Any]], cuts: list[int]
) -> None:
    selections = selections_for(CATALOG, "caf.allocataires")
    bounds = [0, *sorted(min(c, len(records)) for c in cuts), len(records)]
    chunks = [records[lo:hi] for lo, hi in itertools.pairwise(bounds)]

    whole_placed, whole_rejected = place_records(records, CAF, TERRITORY, KEY)
    whole = aggregate_chunk(whole_placed, selections)

    merged: dict[str, dict[str, float]] = {}
    accumulator = caf_accumulator(selections)
    for sequence, chunk in enumerate(chunks):
        placed, rejected = place_records(chunk, CAF, TERRITORY, ChunkKey("d", sequence))
        counts = aggregate_chunk(placed, selections)
        merged = merge_counts(merged, counts)
        assert accumulator.add_chunk(sequence, counts, rejected, len(placed))
    assert merged == whole
    aggregate = accumulator.to_aggregate()
    assert aggregate.counts == whole
    assert aggregate.records == len(whole_placed)
    assert aggregate.rejected == dict(whole_rejected)


def caf_accumulator(
    selection_keys: Iterable[str], convention_id: str = "c", convention_version: int = 1
) -> DropAccumulator:
    """An empty accumulator of a caf33 drop `d` for 2026-03."""
    return DropAccumulator(
        drop_id="d",
        partner="caf33",
        convention_id=convention_id,
        convention_version=convention_version,
        dataset="caf.allocataires",
        period="2026-03",
        selection_keys=selection_keys,
    )


def accumulator_with_two_chunks() -> DropAccumulator:
    accumulator = caf_accumulator(["s", "t"], "caf33-2026", 2)
    assert accumulator.add_chunk(0, {"s": {"i1": 3}}, {OUTSIDE_TERRITORY: 1}, 3)
    assert accumulator.add_chunk(1, {"s": {"i1": 1, "i2": 2}}, {}, 3)
    return accumulator


def test_a_redelivered_chunk_is_not_counted_twice() -> None:
    accumulator = accumulator_with_two_chunks()
    before = accumulator.to_aggregate()
    assert not accumulator.add_chunk(1, {"s": {"i1": 1, "i2": 2}}, {}, 3)
    assert not accumulator.add_chunk(0, {"s": {"i9": 99}}, {MISSING_LOCATION: 9}, 99)
    assert accumulator.to_aggregate() == before
    assert before.counts == {"s": {"i1": 4, "i2": 2}, "t": {}}
    assert before.records == 6 and before.rejected == {OUTSIDE_TERRITORY: 1}
    assert accumulator.sequences == {0, 1}
    assert accumulator.is_complete(2) and not accumulator.is_complete(3)
    with pytest.raises(ValueError):
        accumulator.add_chunk(-1, {}, {}, 0)


def test_accumulator_state_round_trips_through_json() -> None:
    accumulator = accumulator_with_two_chunks()
    state = json.loads(json.dumps(accumulator.to_state()))
    restored = DropAccumulator.from_state(state)
    assert restored.to_aggregate() == accumulator.to_aggregate()
    assert not restored.add_chunk(0, {"s": {"i1": 3}}, {}, 3)  # still remembers
    assert restored.add_chunk(2, {"t": {"i3": 1}}, {}, 1)
