"""The release step, driven with in-memory aggregates: what it returns to send."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from contracts.lifecycle import Survey
from hub.audit import Action
from hub.context import load_context
from hub.published import IndicatorRelease, release_key
from hub.release_step import Change, ReleaseStep, release_step
from hub.settings import HubSettings
from hub.tables import DropAggregate
from schemas.catalog import load_catalog
from schemas.codec import decode_message, encode_message
from tests.unit.hub.test_releases import caf_drop

CTX = load_context(HubSettings())
CONVENTIONS = HubSettings().conventions_dir
KEYS = HubSettings().keys_dir
CAF = "caf.allocataires"
IN_FORCE = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
IRIS = CTX.territory.iris
CAF_INDICATORS = {"caf_allocataires", "caf_bas_revenus_part", "caf_monoparents_part"}
OBSERVATORY = "observatoire-bordeaux"  # the demo's only consumer on the Kafka channel


def drop(scale: int = 1, drop_id: str = "d1") -> DropAggregate:
    counts = {iris: (300 * scale, 120 * scale, 90 * scale) for iris in IRIS}
    counts[IRIS[3]] = (7, 3, 2)  # one small IRIS: secret cells in every release
    return dataclasses.replace(caf_drop(counts), drop_id=drop_id)


def step(
    store: dict[str, list[DropAggregate]],
    published: dict[str, IndicatorRelease] | None = None,
    change: Change = Change(CAF, "2026-10"),
    now: dt.datetime = IN_FORCE,
    survey: Survey | None = None,
) -> ReleaseStep:
    survey = survey or CTX.conventions.survey(now)
    return release_step(store, CTX.indicators, CTX.territory, survey, change, published or {}, now)


def ids(result: ReleaseStep) -> dict[str, str]:
    return {r.key: r.release_id for r in result.releases}


def served(result: ReleaseStep) -> dict[str, IndicatorRelease]:
    """What the worker keeps as published after sending `result`."""
    return {r.key: r for r in result.releases}


def test_each_release_is_one_complete_table_with_its_provenance() -> None:
    result = step({CAF: [drop()]})
    assert {r.indicator for r in result.releases} == CAF_INDICATORS
    communes = set(CTX.territory.communes())
    for release in result.releases:
        assert {(r.level, r.code) for r in release.rows} == {("iris", c) for c in IRIS} | {
            ("commune", c) for c in communes
        }
        assert release.replaces is None and release.check.passed
        assert release.check.secret_primary >= 1
        assert [
            (s.drop_id, s.partner, s.convention, s.dataset, s.period) for s in release.sources
        ] == [("d1", "caf33", "caf33-obshub", CAF, "2026-10")]
        assert (release.rules.k, release.rules.min_denominator) == (11, 50)
        secret = [r for r in release.rows if r.status == "secret"]
        assert secret and all(
            (r.value, r.numerator, r.denominator) == (None, None, None) for r in secret
        )


def test_the_same_inputs_give_the_same_release_ids() -> None:
    first = step({CAF: [drop()]})
    again = step({CAF: [drop()]}, now=IN_FORCE + dt.timedelta(hours=1))
    assert ids(first) == ids(again) and len(ids(first)) == 3
    assert ids(step({CAF: [drop(drop_id="d2")]})) != ids(first)  # other drops, other ids


def test_an_aggregate_for_another_dataset_changes_nothing() -> None:
    alone = step({CAF: [drop()]})
    other = dataclasses.replace(drop(), dataset="france_travail.demandeurs", drop_id="ft1")
    beside = step({CAF: [drop()], "france_travail.demandeurs": [other]})
    assert ids(beside) == ids(alone)
    assert step({CAF: [drop()]}, change=Change("departement.apa", "2026-10")).releases == ()


def test_a_release_already_published_is_not_sent_again() -> None:
    first = step({CAF: [drop()]})
    again = step({CAF: [drop()]}, published=served(first))
    assert again.releases == () and again.deliveries == ()
    assert sum(n for (_, outcome), n in again.outcomes.items() if outcome == "unchanged") == 3


def test_a_revision_names_the_release_it_replaces() -> None:
    first = step({CAF: [drop()]})
    revised = step({CAF: [drop(scale=2, drop_id="d2")]}, published=served(first))
    assert {r.key: r.replaces for r in revised.releases} == ids(first)
    assert all(r.release_id != r.replaces for r in revised.releases)
    published = [e for e in revised.audit if e.action is Action.RELEASE]
    assert {e.release_id for e in published} == {r.release_id for r in revised.releases}
    assert all(e.outcome == "published" and "replaces" in (e.reason or "") for e in published)


def test_releases_go_to_the_consumers_consent_allows_and_every_decision_is_audited() -> None:
    result = step({CAF: [drop()]})
    assert {(d.consumer, d.release.indicator) for d in result.deliveries} == {
        (OBSERVATORY, i) for i in CAF_INDICATORS
    }
    access = [e for e in result.audit if e.action is Action.ACCESS]
    assert {(e.consumer, e.indicator, e.outcome, e.channel) for e in access} == {
        (OBSERVATORY, i, "granted", "kafka") for i in CAF_INDICATORS
    }
    after = step({CAF: [drop()]}, now=dt.datetime(2028, 1, 2, tzinfo=dt.UTC))  # expired
    assert after.releases == () and after.deliveries == ()
    assert {p.held.reason for p in after.periods if p.held} == {"convention_expired"}


def test_a_release_travels_as_one_message_and_comes_back_the_same() -> None:
    catalog = load_catalog()
    schema = catalog.protocol("indicator_release")
    for release in step({CAF: [drop()]}).releases:
        value = encode_message(schema, release.to_record())
        back = IndicatorRelease.from_record(decode_message(catalog, value)[1])
        assert back == release
        assert release.key == release_key(release.indicator, release.period)


def one_more(iris: str, households: int) -> DropAggregate:
    """The first drop corrected: `households` more households in one IRIS."""
    counts = {code: (300, 120, 90) for code in IRIS}
    counts[IRIS[3]] = (7, 3, 2)
    counts[iris] = (300 + households, 120, 90)
    return dataclasses.replace(caf_drop(counts), drop_id="d2")


def test_a_revision_never_shows_a_change_of_a_few_households() -> None:
    first = step({CAF: [drop()]})
    old = served(first)["caf_allocataires|2026-10"]
    before = {(r.level, r.code): r.numerator for r in old.rows if r.status == "ok"}
    gained = next(code for level, code in sorted(before) if level == "iris")  # shown in the first
    revised = step({CAF: [one_more(gained, 2)]}, published=served(first))
    new = next(r for r in revised.releases if r.indicator == "caf_allocataires")
    assert new.replaces == old.release_id and new.check.passed
    after = {(r.level, r.code): r.numerator for r in new.rows if r.status == "ok"}
    # the IRIS that gained 2 households, and its commune, are no longer shown
    assert ("iris", gained) not in after
    assert ("commune", gained[:5]) not in after
    # what an attacker holding both releases subtracts: every row shown in both
    # changed by 0 or by at least k, and no row's change is a combination of them
    both = sorted(set(before) & set(after))
    changes = {key: after[key] - before[key] for key in both}  # type: ignore[operator]
    assert all(c == 0 or abs(c) >= 11 for c in changes.values())
    import numpy as np

    atoms = {code: {code} for code in IRIS}
    members = {
        key: atoms[key[1]] if key[0] == "iris" else {c for c in IRIS if c.startswith(key[1])}
        for key in {(r.level, r.code) for r in new.rows}
    }
    matrix = np.array([[1.0 if c in members[key] else 0.0 for c in IRIS] for key in both]).T
    for key, held in members.items():
        goal = np.array([1.0 if c in held else 0.0 for c in IRIS])
        weights, *_ = np.linalg.lstsq(matrix, goal, rcond=None)
        if np.abs(matrix @ weights - goal).max() < 1e-6:  # derivable from rows in both
            derived = sum(w * changes[k] for w, k in zip(weights, both, strict=True))
            assert abs(derived) < 1e-6 or abs(derived) >= 11, (key, derived)


def test_a_frozen_period_is_never_released_again(tmp_path: Path) -> None:
    import shutil

    from hub.context import ConventionBook
    from tests.support.conventions import variant, write_signed

    conventions = tmp_path / "conventions"
    shutil.copytree(CONVENTIONS, conventions)
    text = variant("caf33").replace("disclosure:\n", "disclosure:\n  revisions: freeze\n", 1)
    write_signed(conventions / "caf33.yaml", text)
    book = ConventionBook(conventions, keys_dir=KEYS)
    book.reload_if_changed()
    survey = book.survey(IN_FORCE)
    first = step({CAF: [drop()]}, survey=survey)
    assert {r.indicator for r in first.releases} == CAF_INDICATORS
    revised = step({CAF: [drop(scale=2, drop_id="d2")]}, published=served(first), survey=survey)
    assert revised.releases == () and revised.deliveries == ()
    held = {p.indicator: p.held for p in revised.periods if p.held is not None}
    assert {i: h.reason for i, h in held.items() if i in CAF_INDICATORS} == dict.fromkeys(
        CAF_INDICATORS, "revision_frozen"
    )
    assert revised.outcomes[("caf_allocataires", "revision_held")] == 1
    events = [e for e in revised.audit if e.action is Action.RELEASE]
    assert {e.outcome for e in events} == {"revision_frozen"}
