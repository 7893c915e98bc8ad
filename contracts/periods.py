"""Periods of a drop, in the form its dataset's cadence calls for.

monthly `YYYY-MM`, quarterly `YYYY-Qn`, yearly `YYYY`. A partner may give a
month for any cadence (`--period 2026-10` on a quarterly dataset means its
quarter, 2026-Q4); the connector normalises it, and the hub checks the form.
Periods order chronologically by their first month; a period starts at
midnight UTC on the first day of that month, and a drop for a period that
has not started is refused.
"""

from __future__ import annotations

import datetime as dt
import re

from contracts.errors import ContractError, InstantError

_MONTH = re.compile(r"^(\d{4})-([0-9]{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([0-9])$")
_YEAR = re.compile(r"^(\d{4})$")


class PeriodError(ContractError):
    """A period not in its cadence's form (`bad_period`), or one that has not
    started yet (`future_period`): the codes a drop under it is rejected with."""

    reason = "bad_period"

    def __init__(self, period: str, detail: str, reason: str = "bad_period") -> None:
        self.period, self.detail, self.reason = period, detail, reason
        super().__init__(f"period {period!r}: {detail}")


def _parse(period: str) -> tuple[int, int, str]:
    """(year, first month, kind) of a period in any of the three forms."""
    if m := _MONTH.match(period):
        month = int(m.group(2))
        if not 1 <= month <= 12:
            raise PeriodError(period, f"month {m.group(2)} is not between 01 and 12")
        return int(m.group(1)), month, "monthly"
    if m := _QUARTER.match(period):
        quarter = int(m.group(2))
        if not 1 <= quarter <= 4:
            raise PeriodError(period, f"quarter Q{quarter} is not between Q1 and Q4")
        return int(m.group(1)), 3 * quarter - 2, "quarterly"
    if m := _YEAR.match(period):
        return int(m.group(1)), 1, "yearly"
    raise PeriodError(period, "expected YYYY-MM, YYYY-Qn or YYYY")


def normalise_period(period: str, cadence: str) -> str:
    """`period` in the form of `cadence`; a coarser period than the cadence is an error."""
    year, month, kind = _parse(period.strip())
    rank = {"monthly": 0, "quarterly": 1, "yearly": 2}
    if rank[kind] > rank[cadence]:
        raise PeriodError(period, f"too coarse for a {cadence} dataset")
    if cadence == "monthly":
        return f"{year:04d}-{month:02d}"
    if cadence == "quarterly":
        return f"{year:04d}-Q{(month - 1) // 3 + 1}"
    return f"{year:04d}"


def check_period(period: str, cadence: str) -> str:
    """`period` if it is already in the form of `cadence`, else `PeriodError`."""
    if normalise_period(period, cadence) != period:
        raise PeriodError(period, f"not in the form of a {cadence} period")
    return period


def period_start(period: str) -> tuple[int, int]:
    """(year, month) of the period's first month, for chronological order."""
    year, month, _ = _parse(period)
    return year, month


def period_starts_at(period: str) -> dt.datetime:
    """The first instant of the period: midnight UTC on the first day of its first month."""
    year, month = period_start(period)
    return dt.datetime(year, month, 1, tzinfo=dt.UTC)


def check_period_started(period: str, now: dt.datetime) -> None:
    """`PeriodError` if `period` starts after `now` (an aware instant, compared in UTC).

    A period has started on its first day: `2026-12` on 2026-12-01, `2026-Q4`
    on 2026-10-01, `2026` on 2026-01-01. Data for a period to come cannot exist
    yet; such a period is a mistake (a wrong year, a cron's date arithmetic).
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise InstantError(now.isoformat())
    starts = period_starts_at(period)
    if now.astimezone(dt.UTC) < starts:
        raise PeriodError(
            period, f"has not started (it starts on {starts:%Y-%m-%d})", reason="future_period"
        )
