"""Releases that share a count hide it in the same cells, and pass their disclosure checks."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.context import load_context
from hub.published import Source, build_release
from hub.releases import releases_for
from hub.settings import HubSettings
from hub.tables import CellStatus, DropAggregate, selection_key

CTX = load_context(HubSettings())
CAF = "caf.allocataires"
IN_FORCE = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def caf_drop(counts: dict[str, tuple[int, int, int]]) -> DropAggregate:
    """Per IRIS: (households, low income, with children) → the catalog's CAF selections."""
    keys = {}
    for indicator in CTX.indicators.each():
        for role, selection in indicator.selections:
            if selection.dataset == CAF:
                keys[(indicator.id, role)] = selection_key(selection)
    everyone = keys[("caf_allocataires", "numerator")]
    low = keys[("caf_bas_revenus_part", "numerator")]
    children = keys[("caf_monoparents_part", "denominator")]
    mono = keys[("caf_monoparents_part", "numerator")]
    rsa = keys[("rsa_pour_100_menages", "numerator")]
    table: dict[str, dict[str, float]] = {everyone: {}, low: {}, children: {}, mono: {}, rsa: {}}
    for iris, (total, poor, kids) in counts.items():
        table[everyone][iris] = total
        table[low][iris] = min(poor, total)
        table[children][iris] = min(kids, total)
        table[mono][iris] = min(kids, total) // 3
        table[rsa][iris] = min(poor, total) // 4
    return DropAggregate(
        "d1",
        "caf33",
        "caf33-obshub",
        1,
        CAF,
        "2026-10",
        table,
        records=sum(t for t, _, _ in counts.values()),
    )


IRIS = CTX.territory.iris


@settings(max_examples=15, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 400), st.integers(0, 200), st.integers(0, 150)),
        min_size=len(IRIS),
        max_size=len(IRIS),
    )
)
def test_no_release_publishes_a_count_another_one_hides(values: list[tuple[int, int, int]]) -> None:
    drop = caf_drop(dict(zip(IRIS, values, strict=True)))
    planned = releases_for(
        CAF, CTX.indicators, {CAF: [drop]}, CTX.territory, CTX.conventions.survey(IN_FORCE)
    ).releases
    assert {p.indicator.id for p in planned} == {
        "caf_allocataires",
        "caf_bas_revenus_part",
        "caf_monoparents_part",
    }
    hidden: set[tuple[str, str, str]] = set()
    published: set[tuple[str, str, str]] = set()
    for plan in planned:
        assert plan.release.passed
        quantities = plan.quantities()
        for cell in plan.release.cells:
            spot = (cell.cell.level, cell.cell.code)
            if cell.status is CellStatus.OK:
                published |= {(key, *spot) for key, _ in quantities.values()}
            else:
                hidden.add((quantities["numerator"][0], *spot))
    assert hidden.isdisjoint(published)


def test_a_small_iris_is_hidden_in_every_release_that_counts_its_households() -> None:
    counts = {iris: (300, 120, 90) for iris in IRIS}
    small = IRIS[1]
    counts[small] = (7, 3, 2)
    planned = releases_for(
        CAF,
        CTX.indicators,
        {CAF: [caf_drop(counts)]},
        CTX.territory,
        CTX.conventions.survey(IN_FORCE),
    ).releases
    for plan in planned:
        sources = [Source.of(d) for own in plan.drops.values() for d in own]
        release = build_release(plan.indicator, plan.release, sources, None, IN_FORCE)
        row = next(r for r in release.rows if r.level == "iris" and r.code == small)
        assert row.status == "secret" and row.denominator is None, plan.indicator.id


def test_an_ended_convention_holds_its_indicators_with_the_reason() -> None:
    from contracts.keys import TrustStore
    from contracts.lifecycle import survey

    keys = CTX.trust
    withdrawn = TrustStore({p: k for p, k in keys.items() if p != "caf33"}, "test")
    standing = survey(CTX.conventions.all(), withdrawn, (), IN_FORCE)
    counts = {iris: (300, 120, 90) for iris in IRIS}
    plan = releases_for(CAF, CTX.indicators, {CAF: [caf_drop(counts)]}, CTX.territory, standing)
    assert plan.releases == []
    assert {(h.indicator, h.reason) for h in plan.held} >= {
        ("caf_allocataires", "convention_revoked"),
        ("caf_bas_revenus_part", "convention_revoked"),
    }
    expired = CTX.conventions.survey(dt.datetime(2028, 1, 2, tzinfo=dt.UTC))
    plan = releases_for(CAF, CTX.indicators, {CAF: [caf_drop(counts)]}, CTX.territory, expired)
    assert plan.releases == [] and {h.reason for h in plan.held} == {"convention_expired"}


def test_drops_of_a_convention_the_hub_no_longer_holds_count_for_nothing() -> None:
    counts = {iris: (300, 120, 90) for iris in IRIS}
    stranger = DropAggregate(**{**caf_drop(counts).__dict__, "convention_id": "gone-obshub"})
    plan = releases_for(
        CAF, CTX.indicators, {CAF: [stranger]}, CTX.territory, CTX.conventions.survey(IN_FORCE)
    )
    assert plan.releases == [] and plan.held == []  # no period of its own to publish
