"""The view: whole releases, the current one per indicator and period, the register."""

from __future__ import annotations

import math
from datetime import timedelta

from hub.api.view import ReleaseView, period_order
from hub.published import release_key
from tests.unit.hub.api_support import PUBLISHED, release, row


def test_an_applied_release_is_the_current_one_of_its_period() -> None:
    view = ReleaseView()
    first = release(rows=[row(value=10.0), row(level="commune", code="33063", value=30.0)])
    view.apply(first)
    assert view.current("caf_allocataires", "2026-04") is first
    assert view.current("caf_allocataires", "2026-03") is None
    assert view.current("defm_cat_a", "2026-04") is None
    assert view.release(first.release_id) is first
    assert len(view) == 2


def test_a_later_release_replaces_the_whole_period() -> None:
    view = ReleaseView()
    a = release(
        rows=[
            row(value=10.0),
            row(code="330630102", value=14.0),  # only in A
            row(level="commune", code="33063", value=30.0),
        ]
    )
    b = release(
        rows=[
            row(value=12.0),
            row(level="commune", code="33063", value=None, status="secret"),
        ],
        replaces=a.release_id,
        published_at=PUBLISHED + timedelta(days=1),
    )
    view.apply(a)
    view.apply(b)
    current = view.current("caf_allocataires", "2026-04")
    assert current is b
    assert current.rows == b.rows
    assert "330630102" not in {r.code for r in current.rows}
    (commune,) = current.select("commune")
    assert commune.status == "secret"  # a later secret cell replaces a published one
    assert current.select(code="330630102") == []
    assert len(view) == 2  # B's rows only
    assert view.periods("caf_allocataires") == ["2026-04"]


def test_the_register_keeps_every_release_oldest_first() -> None:
    view = ReleaseView()
    a = release(rows=[row(value=10.0)])
    other = release("defm_cat_a", rows=[row(value=64.0)])
    b = release(rows=[row(value=12.0)], replaces=a.release_id)
    for r in (a, other, b):
        view.apply(r)
    assert [r.release_id for r in view.register()] == [
        a.release_id,
        other.release_id,
        b.release_id,
    ]
    listed = view.register("caf_allocataires", "2026-04")
    assert [(r.release_id, r.replaces) for r in listed] == [
        (a.release_id, None),
        (b.release_id, a.release_id),
    ]
    assert view.register(period="2026-03") == []
    assert view.register("defm_cat_a") == [other]
    # the replaced release stays in the register with its own rows
    replaced = view.release(a.release_id)
    assert replaced is not None and [r.value for r in replaced.rows] == [10.0]


def test_applying_a_release_again_does_not_register_it_twice() -> None:
    view = ReleaseView()
    a = release(rows=[row(value=10.0)])
    view.apply(a)
    view.apply(a)
    assert view.register() == [a]
    assert len(view) == 1


def test_periods_are_chronological_and_latest_is_the_last() -> None:
    view = ReleaseView()
    for period in ("2026-04", "2025-12", "2026-01"):
        view.apply(release(period=period))
    view.apply(release("defm_cat_a", "2027-01"))
    assert view.periods("caf_allocataires") == ["2025-12", "2026-01", "2026-04"]
    assert view.latest_period("caf_allocataires") == "2026-04"
    assert view.latest_period("unknown") is None
    assert view.indicators() == ["caf_allocataires", "defm_cat_a"]


def test_quarters_and_years_order_by_their_first_month() -> None:
    assert sorted(["2026", "2025-Q4", "2025-Q1"], key=period_order) == [
        "2025-Q1",
        "2025-Q4",
        "2026",
    ]


def test_select_filters_by_level_and_code() -> None:
    current = release(
        rows=[
            row(code="330630101"),
            row(code="330630102"),
            row(level="commune", code="33063"),
        ]
    )
    assert [(r.level, r.code) for r in current.select()] == [
        ("iris", "330630101"),
        ("iris", "330630102"),
        ("commune", "33063"),
    ]
    assert [r.code for r in current.select("commune")] == ["33063"]
    assert [r.code for r in current.select(None, "330630102")] == ["330630102"]
    assert current.select("commune", "330630102") == []


def test_secret_rows_never_show_figures() -> None:
    leaky = row(value=3.0, numerator=3.0, denominator=60.0, status="secret")
    public = leaky.public("2026-04")
    assert (public["value"], public["numerator"], public["denominator"]) == (None, None, None)
    assert (public["status"], public["period"]) == ("secret", "2026-04")


def test_non_finite_figures_show_as_null() -> None:
    public = row(value=math.nan, numerator=math.inf, denominator=-math.inf).public("2026-04")
    assert (public["value"], public["numerator"], public["denominator"]) == (None, None, None)
    assert row(value=0.0).public("2026-04")["value"] == 0.0


def test_a_release_is_keyed_by_indicator_and_period() -> None:
    assert release().key == release_key("caf_allocataires", "2026-04") == "caf_allocataires|2026-04"
    assert release(period="2026-03").key != release().key
