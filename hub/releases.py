"""From accepted drops to released indicator rows (pure).

The worker keeps, per dataset, period and convention, the latest accepted
drop's aggregate (`store_key`): a newer accepted drop for the same
convention, dataset and period supersedes the older one; drops of other
conventions for the same dataset add up (hub/indicator_tables.py).

Which drops count is decided by where their conventions stand now
(`contracts.lifecycle`): a drop counts while its convention id has a
version in force (a renewal takes over the drops of the version it renews,
under its own rules); a convention that ended (revoked, expired with no
renewal in force) holds every release of the indicators that read it, with
its reason; a convention the hub no longer holds, or holds only as a
draft, contributes nothing.

`releases_for` recomputes every indicator that reads a dataset, for each
period it publishes, under the strictest disclosure
rules of the conventions whose drops contribute, and says which releases
are held and why; `coordinate` makes releases that publish the same count
hide it in the same cells. `hub.release_step` turns the plan into what the
worker sends.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from contracts.disclosure import DEFAULT_RULES, DisclosureRules, strictest
from contracts.indicators import Indicator, IndicatorCatalog
from contracts.lifecycle import Status, Survey
from contracts.periods import period_start
from hub.disclosure import protect, release_table
from hub.geography import Territory
from hub.indicator_tables import build_indicator_table, contributing_drops, periods_to_publish
from hub.tables import CellStatus, DropAggregate, Release, selection_key


def store_key(aggregate: DropAggregate) -> str:
    return f"{aggregate.dataset}|{aggregate.period}|{aggregate.convention_id}"


def aggregate_to_json(aggregate: DropAggregate, accepted_at: float) -> dict[str, Any]:
    return {
        "drop_id": aggregate.drop_id,
        "partner": aggregate.partner,
        "convention_id": aggregate.convention_id,
        "convention_version": aggregate.convention_version,
        "dataset": aggregate.dataset,
        "period": aggregate.period,
        "counts": {k: dict(v) for k, v in aggregate.counts.items()},
        "records": aggregate.records,
        "rejected": dict(aggregate.rejected),
        "accepted_at": accepted_at,
    }


def aggregate_from_json(data: Mapping[str, Any]) -> DropAggregate:
    return DropAggregate(
        drop_id=data["drop_id"],
        partner=data["partner"],
        convention_id=data["convention_id"],
        convention_version=int(data["convention_version"]),
        dataset=data["dataset"],
        period=data["period"],
        counts=data["counts"],
        records=int(data["records"]),
        rejected=data.get("rejected", {}),
    )


def by_dataset(entries: Iterable[Mapping[str, Any]]) -> dict[str, list[DropAggregate]]:
    """Dataset id → accepted aggregates, oldest acceptance first (the join's order)."""
    ordered = sorted(entries, key=lambda e: (e["accepted_at"], e["drop_id"]))
    result: dict[str, list[DropAggregate]] = {}
    for entry in ordered:
        result.setdefault(entry["dataset"], []).append(aggregate_from_json(entry))
    return result


@dataclass(frozen=True)
class Admitted:
    """The aggregates that count now, what ended conventions hold, and their territories."""

    aggregates: dict[str, list[DropAggregate]]
    blocked: dict[str, Status]  # dataset id -> an ended convention that provides it
    coverage: dict[tuple[str, str], frozenset[str]]  # (convention id, dataset) -> communes
    rules: dict[str, DisclosureRules]  # convention id -> the rules of its version in force


def admit(aggregates: Mapping[str, Sequence[DropAggregate]], survey: Survey) -> Admitted:
    """Sort the stored aggregates by where their conventions stand (module docstring)."""
    admitted: dict[str, list[DropAggregate]] = {}
    blocked: dict[str, Status] = {}
    coverage: dict[tuple[str, str], frozenset[str]] = {}
    rules: dict[str, DisclosureRules] = {}
    for status in survey.representatives():
        convention = status.convention
        for dataset, terms in convention.datasets.items():
            if status.in_force:
                coverage[(convention.id, dataset)] = frozenset(terms.territory)
            else:
                blocked.setdefault(dataset, status)
        if status.in_force:
            rules[convention.id] = convention.disclosure
    for dataset, drops in aggregates.items():
        kept = [d for d in drops if (d.convention_id, dataset) in coverage]
        if kept:
            admitted[dataset] = kept
    return Admitted(admitted, blocked, coverage, rules)


def rules_for(
    drops: Mapping[str, Sequence[DropAggregate]], rules: Mapping[str, DisclosureRules]
) -> DisclosureRules:
    """The strictest rules of the conventions (in their versions in force) whose drops
    feed a release: a tampered or missing convention contributes no drop at all, so
    no release is ever made under rules nobody signed."""
    chosen = [rules[d.convention_id] for own in drops.values() for d in own]
    return strictest(*chosen) if chosen else DEFAULT_RULES


@dataclass(frozen=True)
class PlannedRelease:
    release: Release
    indicator: Indicator
    drops: Mapping[str, tuple[DropAggregate, ...]]  # dataset id -> the drops it is made of

    def quantities(self) -> dict[str, tuple[str, str]]:
        """What its cells publish: `numerator`/`denominator` → (selection key, drops)."""
        return {
            role: (
                selection_key(selection),
                "+".join(d.drop_id for d in self.drops[selection.dataset]),
            )
            for role, selection in self.indicator.selections
        }


@dataclass(frozen=True)
class Held:
    """A period of an indicator that cannot be released now, and why."""

    indicator: str
    period: str
    reason: str  # convention_revoked, convention_expired, missing_input, failed_check
    message: str


@dataclass(frozen=True)
class ReleasePlan:
    releases: list[PlannedRelease]
    held: list[Held]


Quantity = tuple[str, str, str, str]  # selection key, drop id, level, code


def coordinate(planned: Sequence[PlannedRelease]) -> list[PlannedRelease]:
    """Make releases that publish the same quantity hide it in the same cells.

    A count protected in one release (its numerator, e.g. the CAF households
    of an IRIS in `caf_allocataires`) is published again elsewhere (as the
    denominator of `caf_bas_revenus_part`). Each release protects its own
    numerators, so a cell it hides must be hidden in every release of the
    same quantity, or subtraction recovers it. Hidden cells only grow:
    repeat until no release changes, re-running secondary suppression and
    the audit of each release that had to hide more.
    """
    current = list(planned)
    while True:
        protected: set[Quantity] = set()
        for plan in current:
            key, drop = plan.quantities()["numerator"]
            protected |= {
                (key, drop, c.cell.level, c.cell.code)
                for c in plan.release.cells
                if c.status is not CellStatus.OK
            }
        changed = False
        for index, plan in enumerate(current):
            quantities = plan.quantities().values()
            forced = {
                i
                for i, c in enumerate(plan.release.cells)
                if c.status is CellStatus.OK
                and any(
                    (key, drop, c.cell.level, c.cell.code) in protected for key, drop in quantities
                )
            }
            if not forced:
                continue
            cells = tuple(
                replace(c, status=CellStatus.SECRET_SECONDARY, value=None) if i in forced else c
                for i, c in enumerate(plan.release.cells)
            )
            current[index] = replace(plan, release=protect(plan.release, cells, plan.indicator))
            changed = True
        if not changed:
            return current


def releases_for(
    dataset: str,
    catalog: IndicatorCatalog,
    aggregates: Mapping[str, Sequence[DropAggregate]],
    territory: Territory,
    survey: Survey,
    since: str | None = None,
) -> ReleasePlan:
    """Every release that a new drop of `dataset` (or a change of its conventions)
    may change, and the periods held.

    With `since` (the new drop's period), only periods that start no earlier:
    an indicator reads, for each input, the latest drop not after its period,
    so a drop cannot change an earlier period's release.
    """
    planned: list[PlannedRelease] = []
    held: list[Held] = []
    admitted = admit(aggregates, survey)
    floor = period_start(since) if since is not None else (0, 0)
    for indicator in catalog.each():
        if dataset not in indicator.datasets:
            continue
        blocking = [admitted.blocked[d] for d in indicator.datasets if d in admitted.blocked]
        source = aggregates if blocking else admitted.aggregates
        periods = [p for p in periods_to_publish(indicator, source) if period_start(p) >= floor]
        if blocking:
            status = blocking[0]
            held += [Held(indicator.id, p, status.reason, status.message) for p in periods]
            continue
        for period in periods:
            table = build_indicator_table(
                indicator, period, admitted.aggregates, territory, admitted.coverage
            )
            drops = contributing_drops(indicator, period, admitted.aggregates)
            if table is None or drops is None:
                missing = [d for d in indicator.datasets if d not in admitted.aggregates]
                note = f"no drop in force for {', '.join(missing)}" if missing else "no input"
                held.append(Held(indicator.id, period, "missing_input", note))
                continue
            rules = rules_for(drops, admitted.rules)
            planned.append(
                PlannedRelease(
                    release_table(table, rules),
                    indicator,
                    drops,
                )
            )
    return ReleasePlan(coordinate(planned), held)
