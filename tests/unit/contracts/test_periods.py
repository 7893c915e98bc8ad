import pytest

from contracts.periods import PeriodError, check_period, normalise_period, period_start


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
        ("2026-13", "monthly", "expected YYYY-MM"),
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
