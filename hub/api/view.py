"""The latest published indicator rows, in memory (pure: no Kafka, no clock).

The `indicators` topic is compacted and keyed `indicator|period|level|code`,
so its latest message per key is the published cell. `IndicatorView.apply`
keeps exactly that: the last row applied for a key wins, as compaction
would keep it, so replaying the topic from the beginning rebuilds the same
view (`hub.api.feed` does, on every start). A key whose value is null (a
tombstone) removes the cell.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contracts.periods import PeriodError, period_start

LEVEL_ORDER = ("iris", "commune")
SECRET = "secret"


@dataclass(frozen=True)
class IndicatorRow:
    """One published cell, as the `indicator_row` message carries it."""

    indicator: str
    level: str
    code: str
    period: str
    value: float | None
    numerator: float | None
    denominator: float | None
    status: str
    release_id: str = ""
    published_at: datetime | None = None

    @property
    def key(self) -> str:
        return row_key(self.indicator, self.period, self.level, self.code)

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> IndicatorRow:
        """From a decoded `indicator_row` record."""
        return cls(
            indicator=record["indicator"],
            level=record["level"],
            code=record["code"],
            period=record["period"],
            value=record.get("value"),
            numerator=record.get("numerator"),
            denominator=record.get("denominator"),
            status=record["status"],
            release_id=record.get("release_id", ""),
            published_at=record.get("published_at"),
        )

    def public(self) -> dict[str, Any]:
        """The fields the API serves. A secret row shows no figure, whatever it
        carries, and a non-finite figure (never valid JSON) shows as null."""
        secret = self.status == SECRET
        return {
            "level": self.level,
            "code": self.code,
            "period": self.period,
            "value": None if secret else _finite(self.value),
            "numerator": None if secret else _finite(self.numerator),
            "denominator": None if secret else _finite(self.denominator),
            "status": self.status,
        }


def row_key(indicator: str, period: str, level: str, code: str) -> str:
    """The Kafka key of a cell on `indicators`."""
    return f"{indicator}|{period}|{level}|{code}"


def parse_key(key: str) -> tuple[str, str, str, str] | None:
    """(indicator, period, level, code) of a key, or None if it is not one."""
    parts = key.split("|")
    if len(parts) != 4 or not all(parts):
        return None
    return parts[0], parts[1], parts[2], parts[3]


def period_order(period: str) -> tuple[int, int, str]:
    """Chronological order; a period in no known form sorts first."""
    try:
        year, month = period_start(period)
    except PeriodError:
        return (0, 0, period)
    return (year, month, period)


def _finite(number: float | None) -> float | None:
    return number if number is not None and math.isfinite(number) else None


Cells = dict[tuple[str, str], IndicatorRow]  # (level, code) -> row


class IndicatorView:
    """indicator → period → (level, code) → latest row, with a readiness flag."""

    def __init__(self) -> None:
        self._cells: dict[str, dict[str, Cells]] = {}
        self.ready = False  # set once the feed has caught up with the topic's end
        self.failure: str | None = None  # why the feed stopped, if it did

    def apply(self, row: IndicatorRow) -> None:
        """Keep `row` as the latest of its key."""
        periods = self._cells.setdefault(row.indicator, {})
        periods.setdefault(row.period, {})[(row.level, row.code)] = row

    def remove(self, indicator: str, period: str, level: str, code: str) -> None:
        """Forget a cell (a tombstone on the topic)."""
        periods = self._cells.get(indicator)
        if periods is None or period not in periods:
            return
        periods[period].pop((level, code), None)
        if not periods[period]:
            del periods[period]
        if not periods:
            del self._cells[indicator]

    def __len__(self) -> int:
        return sum(len(cells) for periods in self._cells.values() for cells in periods.values())

    def indicators(self) -> list[str]:
        return sorted(self._cells)

    def periods(self, indicator: str) -> list[str]:
        """The indicator's periods with at least one row, oldest first."""
        return sorted(self._cells.get(indicator, {}), key=period_order)

    def latest_period(self, indicator: str) -> str | None:
        periods = self.periods(indicator)
        return periods[-1] if periods else None

    def rows(
        self, indicator: str, period: str, level: str | None = None, code: str | None = None
    ) -> list[IndicatorRow]:
        """The period's rows, IRIS before communes, then by code."""
        cells = self._cells.get(indicator, {}).get(period, {})
        chosen = [
            row
            for (row_level, row_code), row in cells.items()
            if (level is None or row_level == level) and (code is None or row_code == code)
        ]
        return sorted(chosen, key=_row_order)


def _row_order(row: IndicatorRow) -> tuple[int, str]:
    rank = LEVEL_ORDER.index(row.level) if row.level in LEVEL_ORDER else len(LEVEL_ORDER)
    return (rank, row.code)
