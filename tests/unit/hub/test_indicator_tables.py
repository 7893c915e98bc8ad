from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import pytest

from contracts.indicators import Indicator, Level
from contracts.loading import load_indicator_catalog
from hub.aggregation import (
    ChunkKey,
    aggregate_chunk,
    place_records,
    selections_for,
)
from hub.indicator_tables import (
    build_indicator_table,
    build_indicator_tables,
    contributing_drops,
    latest_drop,
    periods_to_publish,
)
from hub.tables import DropAggregate, IndicatorTable, selection_key
from schemas.catalog import load_catalog
from tests.unit.hub.geo_support import DEMO_INDICATORS, demo_territory
from tests.unit.hub.test_aggregation import caf_accumulator

CATALOG = load_indicator_catalog(DEMO_INDICATORS)
TERRITORY = demo_territory()
IRIS = TERRITORY.iris
BORDEAUX = [i for i in IRIS if i.startswith("33063")]
BOUSCAT = [i for i in IRIS if i.startswith("33069")]


def indicator(indicator_id: str) -> Indicator:
    found = CATALOG.get(indicator_id)
    assert found is not None
    return found


def drop(
    dataset: str, period: str, counts: Mapping[str, Mapping[str, float]], name: str = ""
) -> DropAggregate:
    """A drop with `counts` for the given selections and empty counts for the
    dataset's other selections of the catalog."""
    full: dict[str, Mapping[str, float]] = {key: {} for key in selections_for(CATALOG, dataset)}
    full.update(counts)
    return DropAggregate(
        drop_id=name or f"{dataset}@{period}",
        partner="p",
        convention_id="c",
        convention_version=1,
        dataset=dataset,
        period=period,
        counts=full,
        records=0,
    )


RSA = indicator("rsa_pour_100_menages")
RSA_NUM, MENAGES = selection_key(RSA.numerator), selection_key(RSA.denominator)  # type: ignore[arg-type]


def caf_drop(period: str, rsa: Mapping[str, float], name: str = "") -> DropAggregate:
    return drop("caf.allocataires", period, {RSA_NUM: rsa}, name)


def insee_drop(period: str, menages: Mapping[str, float]) -> DropAggregate:
    return drop("insee.menages", period, {MENAGES: menages})


def cells(table: IndicatorTable | None, level: Level) -> dict[str, tuple[float, float | None]]:
    assert table is not None
    return {c.code: (c.numerator, c.denominator) for c in table.cells if c.level == level}


# ---- the join rule


def test_latest_drop_not_after_the_period() -> None:
    drops = [insee_drop("2024", {}), insee_drop("2025", {}), insee_drop("2026", {})]
    assert latest_drop(drops, "2026-03") is drops[2]
    assert latest_drop(drops, "2025-12") is drops[1]
    assert latest_drop(drops, "2025-Q4") is drops[1]
    assert latest_drop(drops, "2026") is drops[2]
    assert latest_drop(drops, "2023-12") is None
    monthly = [caf_drop("2026-03", {}), caf_drop("2026-01", {})]  # order of acceptance
    assert latest_drop(monthly, "2026-02") is monthly[1]
    assert latest_drop(monthly, "2026-Q1") is monthly[1]  # the quarter starts in January


def test_a_later_drop_of_the_same_period_replaces_the_earlier() -> None:
    first, correction = (
        caf_drop("2026-03", {IRIS[0]: 5}, "a"),
        caf_drop("2026-03", {IRIS[0]: 7}, "b"),
    )
    aggregates = {
        "caf.allocataires": [first, correction],
        "insee.menages": [insee_drop("2025", {})],
    }
    assert latest_drop([first, correction], "2026-03") is correction
    table = build_indicator_table(RSA, "2026-03", aggregates, TERRITORY)
    assert cells(table, Level.IRIS)[IRIS[0]][0] == 7


def test_cross_dataset_join_insee_yearly_caf_monthly() -> None:
    a = IRIS[0]
    insee_2025, insee_2026 = insee_drop("2025", {a: 1000}), insee_drop("2026", {a: 1100})
    aggregates = {
        "caf.allocataires": [
            caf_drop("2025-12", {a: 40}),
            caf_drop("2026-01", {a: 41}),
            caf_drop("2026-02", {a: 42}),
        ],
        "insee.menages": [insee_2025, insee_2026],
    }
    assert periods_to_publish(RSA, aggregates) == ["2025-12", "2026-01", "2026-02"]
    assert cells(build_indicator_table(RSA, "2025-12", aggregates, TERRITORY), Level.IRIS)[a] == (
        40,
        1000,
    )
    assert cells(build_indicator_table(RSA, "2026-02", aggregates, TERRITORY), Level.IRIS)[a] == (
        42,
        1100,
    )
    chosen = contributing_drops(RSA, "2026-01", aggregates)
    assert chosen is not None
    assert chosen["insee.menages"] == (insee_2026,)
    assert [d.period for d in chosen["caf.allocataires"]] == ["2026-01"]


def test_not_computable_without_a_drop_of_every_input() -> None:
    caf_only = {"caf.allocataires": [caf_drop("2026-01", {IRIS[0]: 3})]}
    assert build_indicator_table(RSA, "2026-01", caf_only, TERRITORY) is None
    too_late = caf_only | {"insee.menages": [insee_drop("2027", {IRIS[0]: 10})]}
    assert build_indicator_table(RSA, "2026-01", too_late, TERRITORY) is None
    tables = build_indicator_tables(CATALOG, too_late, TERRITORY)
    computed = {(t.indicator.id, t.period) for t in tables}
    assert ("caf_allocataires", "2026-01") in computed  # reads CAF alone
    assert all(indicator_id != RSA.id for indicator_id, _ in computed)


def test_a_drop_not_aggregated_for_the_selection_does_not_count() -> None:
    old = DropAggregate("d", "p", "c", 1, "caf.allocataires", "2026-01", {}, 0)
    aggregates = {"caf.allocataires": [old], "insee.menages": [insee_drop("2025", {})]}
    assert build_indicator_table(RSA, "2026-01", aggregates, TERRITORY) is None


def test_quarterly_numerator_with_yearly_denominator() -> None:
    apa_indicator = indicator("apa_domicile_pour_100_75plus")
    num = selection_key(apa_indicator.numerator)
    den = selection_key(apa_indicator.denominator)  # type: ignore[arg-type]
    aggregates = {
        "departement.apa": [drop("departement.apa", "2026-Q1", {num: {IRIS[2]: 12}})],
        "insee.population": [drop("insee.population", "2025", {den: {IRIS[2]: 300}})],
    }
    assert periods_to_publish(apa_indicator, aggregates) == ["2026-Q1"]
    table = build_indicator_table(apa_indicator, "2026-Q1", aggregates, TERRITORY)
    assert cells(table, Level.IRIS)[IRIS[2]] == (12, 300)


# ---- rows


def test_every_iris_has_a_row_and_communes_are_sums_of_their_iris() -> None:
    rsa = {BORDEAUX[0]: 4, BORDEAUX[5]: 11, BOUSCAT[1]: 3}
    menages = {code: 1000 + n for n, code in enumerate(IRIS)}
    aggregates = {
        "caf.allocataires": [caf_drop("2026-03", rsa)],
        "insee.menages": [insee_drop("2026", menages)],
    }
    table = build_indicator_table(RSA, "2026-03", aggregates, TERRITORY)
    iris_rows, commune_rows = cells(table, Level.IRIS), cells(table, Level.COMMUNE)
    assert list(iris_rows) == list(IRIS)
    assert iris_rows[BORDEAUX[1]] == (0, menages[BORDEAUX[1]])
    assert commune_rows == {
        "33063": (15, sum(menages[i] for i in BORDEAUX)),
        "33069": (3, sum(menages[i] for i in BOUSCAT)),
    }
    assert table is not None
    assert [c.level for c in table.cells[:2]] == [Level.COMMUNE, Level.COMMUNE]
    assert all(c.atoms == TERRITORY.area(c.level, c.code).atoms for c in table.cells)  # type: ignore[union-attr]


def test_count_indicator_has_no_denominator_and_levels_are_respected() -> None:
    count = indicator("caf_allocataires")
    everyone = selection_key(count.numerator)
    aggregates = {
        "caf.allocataires": [drop("caf.allocataires", "2026-03", {everyone: {IRIS[0]: 2}})]
    }
    table = build_indicator_table(count, "2026-03", aggregates, TERRITORY)
    assert table is not None and all(c.denominator is None for c in table.cells)
    iris_only = count.model_copy(update={"levels": (Level.IRIS,)})
    table = build_indicator_table(iris_only, "2026-03", aggregates, TERRITORY)
    assert table is not None and {c.level for c in table.cells} == {Level.IRIS}


@pytest.mark.parametrize("chunk_size", [1, 7, 1000])
def test_records_to_table_commune_totals_are_exact(chunk_size: int) -> None:
    """Placed, aggregated in chunks, accumulated, tabled: commune rows count
    exactly the records of the commune, whatever the chunking."""
    schema = load_catalog().dataset("caf.allocataires", 1)
    records: list[dict[str, Any]] = [
        {"matricule": f"{n:064x}", "iris": IRIS[(n * 7) % len(IRIS)], "rsa": int(n % 3 == 0)}
        for n in range(500)
    ]
    selections = selections_for(CATALOG, "caf.allocataires")
    accumulator = caf_accumulator(selections)
    for sequence, start in enumerate(range(0, len(records), chunk_size)):
        chunk = records[start : start + chunk_size]
        placed, rejected = place_records(chunk, schema, TERRITORY, ChunkKey("d", sequence))
        counts = aggregate_chunk(placed, selections)
        assert accumulator.add_chunk(sequence, counts, rejected, len(placed))
        assert not accumulator.add_chunk(sequence, counts, rejected, len(placed))  # redelivered
    aggregates = {
        "caf.allocataires": [accumulator.to_aggregate()],
        "insee.menages": [insee_drop("2026", {i: 100 for i in IRIS})],
    }
    table = build_indicator_table(RSA, "2026-03", aggregates, TERRITORY)
    expected = Counter(r["iris"][:5] for r in records if r["rsa"] == 1)
    assert {code: num for code, (num, _) in cells(table, Level.COMMUNE).items()} == expected


# ---- many conventions per dataset

CCAS = indicator("ccas_aides_pour_1000_menages")
AIDES = selection_key(CCAS.numerator)
CCAS_MENAGES = selection_key(CCAS.denominator)  # type: ignore[arg-type]


def ccas_drop(convention: str, period: str, aides: Mapping[str, float], name: str) -> DropAggregate:
    made = drop("ccas.aides", period, {AIDES: aides}, name)
    return DropAggregate(**{**made.__dict__, "convention_id": convention})


def test_two_ccas_on_one_dataset_add_up_and_never_replace_each_other() -> None:
    bordeaux = ccas_drop("ccas-bordeaux-obshub", "2026-11", {BORDEAUX[0]: 30}, "b1")
    bouscat = ccas_drop("ccas-le-bouscat-obshub", "2026-11", {BOUSCAT[0]: 12}, "l1")
    bordeaux_fix = ccas_drop("ccas-bordeaux-obshub", "2026-11", {BORDEAUX[0]: 31}, "b2")
    menages = drop("insee.menages", "2025", {CCAS_MENAGES: dict.fromkeys(IRIS, 500.0)})
    # Le Bouscat's drop accepted after Bordeaux's, then Bordeaux corrected: all count
    aggregates = {"ccas.aides": [bordeaux, bouscat, bordeaux_fix], "insee.menages": [menages]}
    chosen = contributing_drops(CCAS, "2026-11", aggregates)
    assert chosen is not None and [d.drop_id for d in chosen["ccas.aides"]] == ["b2", "l1"]
    table = build_indicator_table(CCAS, "2026-11", aggregates, TERRITORY)
    communes = cells(table, Level.COMMUNE)
    assert communes["33063"][0] == 31 and communes["33069"][0] == 12
    iris = cells(table, Level.IRIS)
    assert iris[BORDEAUX[0]][0] == 31 and iris[BOUSCAT[0]][0] == 12


def test_a_commune_no_convention_covers_has_no_row_rather_than_a_false_zero() -> None:
    bordeaux = ccas_drop("ccas-bordeaux-obshub", "2026-11", {BORDEAUX[0]: 30}, "b1")
    menages = drop("insee.menages", "2025", {CCAS_MENAGES: dict.fromkeys(IRIS, 500.0)})
    menages = DropAggregate(**{**menages.__dict__, "convention_id": "insee-obshub"})
    aggregates = {"ccas.aides": [bordeaux], "insee.menages": [menages]}
    coverage = {
        ("ccas-bordeaux-obshub", "ccas.aides"): ["33063"],
        ("ccas-le-bouscat-obshub", "ccas.aides"): ["33069"],
        ("insee-obshub", "insee.menages"): ["33063", "33069"],
    }
    table = build_indicator_table(CCAS, "2026-11", aggregates, TERRITORY, coverage)
    assert set(cells(table, Level.COMMUNE)) == {"33063"}
    assert set(cells(table, Level.IRIS)) == set(BORDEAUX)
