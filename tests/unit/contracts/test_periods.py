import datetime as dt

import pytest

from contracts.errors import InstantError
from contracts.periods import (
    PeriodError,
    check_period,
    check_period_started,
    normalise_period,
    period_start,
    period_starts_at,
)


@pytest.mark.parametrize(
    ("period", "cadence", "expected"),
    [
        ("2026-10", "monthly", "2026-10"),
        ("2026-10", "quarterly", "2026-Q4"),
        ("2026-03", "quarterly", "2026-Q1"),
        ("2026-Q2", "quarterly", "2026-Q2"),
        ("2026-10", "yearly", "2026"),
        ("2026-Q3", "yearly", "2026"),
        ("2026", "yearly", "2026"),
    ],
)
def test_normalise(period: str, cadence: str, expected: str) -> None:
    assert normalise_period(period, cadence) == expected


@pytest.mark.parametrize(
    ("period", "cadence", "message"),
    [
        ("2026-13", "monthly", "month 13 is not between 01 and 12"),
        ("2026-Q4", "monthly", "too coarse"),
        ("2026", "quarterly", "too coarse"),
        ("26-10", "monthly", "expected"),
    ],
)
def test_bad_periods(period: str, cadence: str, message: str) -> None:
    with pytest.raises(PeriodError, match=message):
        normalise_period(period, cadence)


def test_check_period_wants_the_exact_form() -> None:
    assert check_period("2026-Q4", "quarterly") == "2026-Q4"
    with pytest.raises(PeriodError, match="not in the form of a quarterly period"):
        check_period("2026-10", "quarterly")


def test_order() -> None:
    periods = ["2026-10", "2026", "2025-Q4", "2026-Q3"]
    assert sorted(periods, key=period_start) == ["2025-Q4", "2026", "2026-Q3", "2026-10"]


DEC_1 = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
JUST_BEFORE = dt.timedelta(microseconds=1)


@pytest.mark.parametrize(
    ("period", "now", "starts"),
    [
        ("2027-06", DEC_1, "2027-06-01"),  # monthly
        ("2026-12", DEC_1 - JUST_BEFORE, "2026-12-01"),
        ("2027-Q1", DEC_1, "2027-01-01"),  # quarterly
        ("2026-Q4", dt.datetime(2026, 10, 1, tzinfo=dt.UTC) - JUST_BEFORE, "2026-10-01"),
        ("2027", DEC_1, "2027-01-01"),  # yearly
        ("2026", dt.datetime(2026, 1, 1, tzinfo=dt.UTC) - JUST_BEFORE, "2026-01-01"),
    ],
)
def test_a_period_that_has_not_started_is_refused(
    period: str, now: dt.datetime, starts: str
) -> None:
    with pytest.raises(PeriodError) as refused:
        check_period_started(period, now)
    assert str(refused.value) == f"period '{period}': has not started (it starts on {starts})"
    assert refused.value.period == period


@pytest.mark.parametrize(
    "period", ["2026-12", "2026-11", "2026-Q4", "2026-Q1", "2026", "2025", "2025-Q4"]
)
def test_a_period_that_has_started_is_accepted(period: str) -> None:
    # the current month, quarter and year, and earlier ones: started, so no error
    assert period_starts_at(period) <= DEC_1
    assert check_period_started(period, DEC_1) is None


def test_a_period_starts_at_midnight_utc() -> None:
    check_period_started("2027-01", dt.datetime(2027, 1, 1, tzinfo=dt.UTC))
    paris = dt.timezone(dt.timedelta(hours=1))
    with pytest.raises(PeriodError, match="has not started"):  # 2026-12-31T23:30 UTC
        check_period_started("2027-01", dt.datetime(2027, 1, 1, 0, 30, tzinfo=paris))
    azores = dt.timezone(dt.timedelta(hours=-1))  # 2027-01-01T00:30 UTC
    check_period_started("2027", dt.datetime(2026, 12, 31, 23, 30, tzinfo=azores))


def test_the_instant_must_be_aware_and_the_period_well_formed() -> None:
    with pytest.raises(InstantError):
        check_period_started("2026-10", dt.datetime(2026, 12, 1))
    with pytest.raises(PeriodError, match="month 13 is not between 01 and 12"):
        check_period_started("2026-13", DEC_1)
    with pytest.raises(PeriodError, match="expected YYYY-MM"):
        check_period_started("2026-1", DEC_1)


@pytest.mark.parametrize(
    ("period", "message"),
    [
        ("2026-13", "period '2026-13': month 13 is not between 01 and 12"),
        ("2026-00", "period '2026-00': month 00 is not between 01 and 12"),
        ("2026-Q5", "period '2026-Q5': quarter Q5 is not between Q1 and Q4"),
        ("2026-Q0", "period '2026-Q0': quarter Q0 is not between Q1 and Q4"),
        ("2026-1", "period '2026-1': expected YYYY-MM, YYYY-Qn or YYYY"),
        ("2026-Q12", "period '2026-Q12': expected YYYY-MM, YYYY-Qn or YYYY"),
    ],
)
def test_a_month_or_quarter_out_of_range_is_named(period: str, message: str) -> None:
    # in the right form, only the month or quarter is wrong: say that, not the form
    for cadence in ("monthly", "quarterly", "yearly"):
        with pytest.raises(PeriodError) as refused:
            normalise_period(period, cadence)
        assert str(refused.value) == message
        assert refused.value.reason == "bad_period"


def test_a_period_to_come_has_its_own_reason_code() -> None:
    with pytest.raises(PeriodError) as refused:
        check_period_started("2027-06", DEC_1)
    assert refused.value.reason == "future_period"
