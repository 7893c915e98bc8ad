"""The materialised view: latest row per key, periods per indicator."""

from __future__ import annotations

import math

from hub.api.view import IndicatorView, parse_key, period_order, row_key
from tests.unit.hub.api_support import row


def test_the_latest_row_of_a_key_wins() -> None:
    view = IndicatorView()
    view.apply(row(value=10.0, release_id="r1"))
    view.apply(row(value=12.0, release_id="r2"))
    rows = view.rows("caf_allocataires", "2026-04")
    assert [(r.value, r.release_id) for r in rows] == [(12.0, "r2")]
    assert len(view) == 1


def test_a_later_secret_row_replaces_a_published_one() -> None:
    view = IndicatorView()
    view.apply(row(value=10.0))
    view.apply(row(value=None, status="secret"))
    (only,) = view.rows("caf_allocataires", "2026-04")
    assert only.status == "secret"


def test_periods_are_chronological_and_latest_is_the_last() -> None:
    view = IndicatorView()
    for period in ("2026-04", "2025-12", "2026-01"):
        view.apply(row(period=period))
    view.apply(row(indicator="defm_cat_a", period="2027-01"))
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


def test_rows_filter_by_level_and_code_iris_first() -> None:
    view = IndicatorView()
    view.apply(row(level="commune", code="33063"))
    view.apply(row(code="330630102"))
    view.apply(row(code="330630101"))
    all_rows = view.rows("caf_allocataires", "2026-04")
    assert [(r.level, r.code) for r in all_rows] == [
        ("iris", "330630101"),
        ("iris", "330630102"),
        ("commune", "33063"),
    ]
    assert [r.code for r in view.rows("caf_allocataires", "2026-04", "commune")] == ["33063"]
    assert [r.code for r in view.rows("caf_allocataires", "2026-04", None, "330630102")] == [
        "330630102"
    ]


def test_a_tombstone_removes_the_cell_and_empty_periods() -> None:
    view = IndicatorView()
    view.apply(row())
    view.remove("caf_allocataires", "2026-04", "iris", "330630101")
    assert view.periods("caf_allocataires") == []
    assert len(view) == 0
    view.remove("caf_allocataires", "2026-04", "iris", "330630101")  # twice is fine


def test_secret_rows_never_show_figures() -> None:
    leaky = row(value=3.0, numerator=3.0, denominator=60.0, status="secret")
    public = leaky.public()
    assert (public["value"], public["numerator"], public["denominator"]) == (None, None, None)
    assert public["status"] == "secret"


def test_non_finite_figures_show_as_null() -> None:
    assert row(value=math.nan).public()["value"] is None


def test_keys_round_trip() -> None:
    key = row().key
    assert key == row_key("caf_allocataires", "2026-04", "iris", "330630101")
    assert parse_key(key) == ("caf_allocataires", "2026-04", "iris", "330630101")
    assert parse_key("a|b|c") is None
