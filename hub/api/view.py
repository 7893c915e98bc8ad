"""The published releases, in memory (pure: no Kafka, no clock).

The API's view is made of whole releases (`hub.published.IndicatorRelease`):
`ReleaseView.apply` adds a release to the register and makes it the current
one of its indicator and period, in one step, so an answer is always one
complete release, never a mix of two. Applying the `hub.releases` topic
from its beginning (`hub.api.feed` does, on every start) rebuilds the same
register and the same current releases: within an indicator and period the
releases are in publication order, since they share a Kafka key.
"""

from __future__ import annotations

from contracts.periods import PeriodError, period_start
from hub.published import IndicatorRelease


def period_order(period: str) -> tuple[int, int, str]:
    """Chronological order; a period in no known form sorts first."""
    try:
        year, month = period_start(period)
    except PeriodError:
        return (0, 0, period)
    return (year, month, period)


class ReleaseView:
    """The register of releases and, per indicator and period, the current one."""

    def __init__(self) -> None:
        self._current: dict[str, dict[str, IndicatorRelease]] = {}  # indicator -> period -> release
        self._register: dict[str, IndicatorRelease] = {}  # release id -> release
        self._order: list[str] = []  # release ids, in the order applied
        self.ready = False  # set once the feed has caught up with the topic's end
        self.failure: str | None = None  # why the feed stopped, if it did

    def apply(self, release: IndicatorRelease) -> None:
        """Register `release` and make it the current one of its indicator and period."""
        if release.release_id not in self._register:
            self._order.append(release.release_id)
        self._register[release.release_id] = release
        self._current.setdefault(release.indicator, {})[release.period] = release

    def __len__(self) -> int:
        """Rows of the current releases."""
        return sum(len(r.rows) for periods in self._current.values() for r in periods.values())

    def indicators(self) -> list[str]:
        return sorted(self._current)

    def periods(self, indicator: str) -> list[str]:
        """The indicator's released periods, oldest first."""
        return sorted(self._current.get(indicator, {}), key=period_order)

    def latest_period(self, indicator: str) -> str | None:
        periods = self.periods(indicator)
        return periods[-1] if periods else None

    def current(self, indicator: str, period: str) -> IndicatorRelease | None:
        return self._current.get(indicator, {}).get(period)

    def release(self, release_id: str) -> IndicatorRelease | None:
        return self._register.get(release_id)

    def register(
        self, indicator: str | None = None, period: str | None = None
    ) -> list[IndicatorRelease]:
        """Every release published, filtered, oldest first (publication order)."""
        chosen = [self._register[i] for i in self._order]
        return [
            r
            for r in chosen
            if (indicator is None or r.indicator == indicator)
            and (period is None or r.period == period)
        ]
