"""The release step (pure): from the aggregates store to what the worker sends.

`release_step` is to releases what `hub.ingest.ingest_message` is to drops:
given the accepted aggregates, the indicator catalog, the territory, where
the conventions stand, the change that calls for it (a dataset, from a
period on) and the releases already published, it returns everything to
send and count, and the faust agent only sends it:

- the new releases (`IndicatorRelease`), each complete, each naming the
  release of the same indicator and period it replaces; a release whose id
  is the one already published is not made again (the same inputs give the
  same id);
- the deliveries: which consumer's topic gets which release, decided by
  consent on the Kafka channel at `now`;
- the audit events: each release published or failed, each fan-out
  decision;
- the state of every period it considered (released, unchanged, held, and
  why), for the staleness watch, and counters for the metrics.

Suppression and its disclosure check run in `hub.releases.releases_for`,
once per release (again only for a release that coordination made hide
more cells).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from contracts.indicators import IndicatorCatalog
from contracts.lifecycle import Survey
from hub.audit import AuditEvent, access_event, release_event
from hub.disclosure import protect_revision
from hub.fanout import fanout_decisions
from hub.geography import Territory
from hub.published import IndicatorRelease, Source, build_release, release_key
from hub.releases import Held, releases_for
from hub.tables import CellStatus, DropAggregate

FAILED_CHECK = "failed_check"
REVISION_HELD = "revision_held"  # the outcome; the reason says why
REVISION_FROZEN = "revision_frozen"  # the conventions say `revisions: freeze`
REVISION_UNSAFE = "revision_unsafe"  # no pattern hides the change and passes the check


@dataclass(frozen=True)
class Change:
    """What calls for releases: a dataset's drops changed, for `since` and later
    periods (None: every period, as after a convention changed standing)."""

    dataset: str
    since: str | None = None


@dataclass(frozen=True)
class Delivery:
    consumer: str
    release: IndicatorRelease


@dataclass(frozen=True)
class PeriodState:
    """One period the step considered: released (or unchanged) when `held` is None."""

    indicator: str
    period: str
    held: Held | None = None


@dataclass(frozen=True)
class ReleaseStep:
    releases: tuple[IndicatorRelease, ...] = ()
    deliveries: tuple[Delivery, ...] = ()
    audit: tuple[AuditEvent, ...] = ()
    periods: tuple[PeriodState, ...] = ()
    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)  # (indicator, outcome)
    cells: Counter[tuple[str, str]] = field(default_factory=Counter)  # (indicator, status)


def release_step(
    store: Mapping[str, Sequence[DropAggregate]],
    catalog: IndicatorCatalog,
    territory: Territory,
    survey: Survey,
    change: Change,
    published: Mapping[str, IndicatorRelease],
    now: dt.datetime,
) -> ReleaseStep:
    """Everything to send for `change` (module docstring). `published` maps
    `indicator|period` to the release published for it.

    A release that would replace one already published is a revision: under
    `revisions: freeze` it is held; otherwise it is made safe against the
    published one (`hub.disclosure.protect_revision`) and held when that
    cannot pass the disclosure check. A held revision leaves the published
    release served, and says why on `hub.audit` and in the metrics."""
    plan = releases_for(change.dataset, catalog, store, territory, survey, change.since)
    releases: list[IndicatorRelease] = []
    deliveries: list[Delivery] = []
    audit: list[AuditEvent] = []
    periods: list[PeriodState] = []
    outcomes: Counter[tuple[str, str]] = Counter()
    cells: Counter[tuple[str, str]] = Counter()
    for planned in plan.releases:
        indicator, period = planned.indicator.id, planned.release.period
        if not planned.release.passed:
            message = "the release failed its disclosure check"
            audit.append(release_event(indicator, period, FAILED_CHECK, now, f"period {period}"))
            periods.append(
                PeriodState(indicator, period, Held(indicator, period, FAILED_CHECK, message))
            )
            outcomes[(indicator, FAILED_CHECK)] += 1
            continue
        previous = published.get(release_key(indicator, period))
        before = previous.release_id if previous is not None else None
        sources = [Source.of(d) for own in planned.drops.values() for d in own]
        made = planned.release
        if previous is not None:
            made = protect_revision(made, planned.indicator, previous.figures)
        release = build_release(planned.indicator, made, sources, before, now)
        if release.release_id == before:
            periods.append(PeriodState(indicator, period))
            outcomes[(indicator, "unchanged")] += 1
            continue
        if previous is not None and (made.rules.revisions == "freeze" or not made.passed):
            reason = REVISION_FROZEN if made.rules.revisions == "freeze" else REVISION_UNSAFE
            message = (
                f"period {period} is published and its conventions freeze it"
                if reason == REVISION_FROZEN
                else "no pattern hides the change from the published release and passes the check"
            )
            held = Held(indicator, period, reason, message)
            periods.append(PeriodState(indicator, period, held))
            audit.append(release_event(indicator, period, reason, now, f"keeps {before}"))
            outcomes[(indicator, REVISION_HELD)] += 1
            continue
        periods.append(PeriodState(indicator, period))
        releases.append(release)
        outcomes[(indicator, "published")] += 1
        audit.append(
            release_event(
                indicator,
                period,
                "published",
                now,
                before and f"replaces {before}",
                release.release_id,
            )
        )
        for consumer, decision in fanout_decisions(indicator, survey, catalog).items():
            if decision.granted:
                deliveries.append(Delivery(consumer, release))
            audit.append(
                access_event(
                    consumer,
                    indicator,
                    decision.granted,
                    decision.reason.value,
                    "kafka",
                    now,
                    decision.conventions,
                    actor="hub",
                )
            )
        for released in made.cells:
            status = "published" if released.status is CellStatus.OK else released.status.value
            cells[(indicator, status)] += 1
    for held in plan.held:
        periods.append(PeriodState(held.indicator, held.period, held))
        outcomes[(held.indicator, "held")] += 1
    return ReleaseStep(
        tuple(releases), tuple(deliveries), tuple(audit), tuple(periods), outcomes, cells
    )
