"""A release: the unit of everything the hub publishes (pure).

An `IndicatorRelease` is one indicator for one period, complete: every
published cell of every level, the disclosure rules applied, the outcome of
the disclosure check, the drops it is made of and, for a revision, the
release it replaces. One release travels as one `indicator_release`
message, so whoever reads it (the access API, a consumer's topic, the
register on `hub.releases`) has all of it or none of it.

The id is derived from what the release is made of and what it says: the
indicator's definition, the period, the contributing drops, the rules and
the cells. The same inputs give the same id, and a release whose id is
already the published one for its indicator and period is not sent again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from contracts.disclosure import DisclosureRules
from contracts.indicators import Indicator, level_order
from hub.tables import CellStatus, DropAggregate, Release

METHOD = "suppression"
SECRET = "secret"
OK = "ok"


@dataclass(frozen=True)
class Source:
    """One drop a release is made of (never its contents)."""

    drop_id: str
    partner: str
    dataset: str
    period: str
    convention: str
    convention_version: int

    @classmethod
    def of(cls, aggregate: DropAggregate) -> Source:
        return cls(
            aggregate.drop_id,
            aggregate.partner,
            aggregate.dataset,
            aggregate.period,
            aggregate.convention_id,
            aggregate.convention_version,
        )

    def public(self) -> dict[str, Any]:
        """What the access API shows of it: who, what, when, under which convention."""
        return {
            "partner": self.partner,
            "dataset": self.dataset,
            "period": self.period,
            "convention": self.convention,
            "convention_version": self.convention_version,
        }


@dataclass(frozen=True)
class Rules:
    method: str
    k: int
    complement: bool
    min_denominator: int
    secondary_suppression: bool

    @classmethod
    def of(cls, rules: DisclosureRules) -> Rules:
        return cls(
            METHOD, rules.k, rules.complement, rules.min_denominator, rules.secondary_suppression
        )


@dataclass(frozen=True)
class Check:
    """The disclosure check a release passed, in brief."""

    passed: bool
    secret_primary: int
    secret_secondary: int
    narrowest_interval: float | None

    @classmethod
    def of(cls, release: Release) -> Check:
        widths = [f.high - f.low for f in release.findings if math.isfinite(f.high)]
        statuses = [c.status for c in release.cells]
        return cls(
            release.passed,
            statuses.count(CellStatus.SECRET_PRIMARY),
            statuses.count(CellStatus.SECRET_SECONDARY),
            round(min(widths), 6) if widths else None,
        )


@dataclass(frozen=True)
class Row:
    """One cell as published: a secret one carries no figure."""

    level: str
    code: str
    value: float | None
    numerator: float | None
    denominator: float | None
    status: str

    def public(self, period: str) -> dict[str, Any]:
        """The row as the API serves it: a non-finite figure (never valid JSON) is null."""
        secret = self.status == SECRET
        return {
            "level": self.level,
            "code": self.code,
            "period": period,
            "value": None if secret else _finite(self.value),
            "numerator": None if secret else _finite(self.numerator),
            "denominator": None if secret else _finite(self.denominator),
            "status": self.status,
        }


@dataclass(frozen=True)
class IndicatorRelease:
    release_id: str
    indicator: str
    period: str
    levels: tuple[str, ...]
    replaces: str | None
    rules: Rules
    check: Check
    sources: tuple[Source, ...]
    created_at: dt.datetime
    published_at: dt.datetime
    rows: tuple[Row, ...]

    @property
    def figures(self) -> dict[tuple[str, str], tuple[float, float | None] | None]:
        """(level, code) -> (numerator, denominator) of each published row, None
        for a secret one: what a revision is audited against."""
        return {
            (row.level, row.code): None
            if row.status != OK or row.numerator is None
            else (row.numerator, row.denominator)
            for row in self.rows
        }

    @property
    def key(self) -> str:
        """Its Kafka key: one indicator and period (the compacted view keeps the latest)."""
        return release_key(self.indicator, self.period)

    def select(self, level: str | None = None, code: str | None = None) -> list[Row]:
        """Its rows at a level and/or for a code, IRIS before communes, then by code."""
        chosen = [
            r
            for r in self.rows
            if (level is None or r.level == level) and (code is None or r.code == code)
        ]
        return sorted(chosen, key=_row_order)

    def to_record(self) -> dict[str, Any]:
        """The `indicator_release` record."""
        record = asdict(self)
        record["levels"] = list(self.levels)
        record["sources"] = [asdict(s) for s in self.sources]
        record["rows"] = [asdict(r) for r in self.rows]
        return record

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> IndicatorRelease:
        return cls(
            release_id=record["release_id"],
            indicator=record["indicator"],
            period=record["period"],
            levels=tuple(record["levels"]),
            replaces=record.get("replaces"),
            rules=Rules(**record["rules"]),
            check=Check(**record["check"]),
            sources=tuple(Source(**s) for s in record["sources"]),
            created_at=record["created_at"],
            published_at=record["published_at"],
            rows=tuple(Row(**r) for r in record["rows"]),
        )

    def summary(self) -> dict[str, Any]:
        """Its entry in the register (`GET /v1/releases`): everything but the rows."""
        return {
            "id": self.release_id,
            "indicator": self.indicator,
            "period": self.period,
            "levels": list(self.levels),
            "published_at": self.published_at,
            "replaces": self.replaces,
            "rules": asdict(self.rules),
            "audit": asdict(self.check),
            "sources": [s.public() for s in self.sources],
        }


def release_key(indicator: str, period: str) -> str:
    return f"{indicator}|{period}"


def flat_rows(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """An `indicator_release` record as one flat row per cell, each carrying the
    indicator, period, release id and publication time (summaries, tables)."""
    shared = {
        "indicator": record["indicator"],
        "period": record["period"],
        "release_id": record["release_id"],
        "published_at": record["published_at"],
    }
    return [{**shared, **row} for row in record["rows"]]


def build_release(
    indicator: Indicator,
    release: Release,
    sources: Sequence[Source],
    replaces: str | None,
    now: dt.datetime,
) -> IndicatorRelease:
    """The release of a protected table, named by what it is made of and says."""
    rows = tuple(sorted((_row(c) for c in release.cells), key=_row_order))
    rules = Rules.of(release.rules)
    ordered = tuple(sorted(sources, key=lambda s: (s.dataset, s.convention, s.drop_id)))
    identity = {
        "indicator": indicator.model_dump(mode="json"),
        "period": release.period,
        "sources": [asdict(s) for s in ordered],
        "rules": asdict(rules),
        "rows": [asdict(r) for r in rows],
    }
    digest = hashlib.sha256(
        json.dumps(identity, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    return IndicatorRelease(
        release_id=digest[:20],
        indicator=indicator.id,
        period=release.period,
        levels=tuple(indicator.levels),
        replaces=replaces,
        rules=rules,
        check=Check.of(release),
        sources=ordered,
        created_at=now,
        published_at=now,
        rows=rows,
    )


def _row(released: Any) -> Row:
    cell = released.cell
    if released.status is not CellStatus.OK:
        return Row(cell.level, cell.code, None, None, None, SECRET)
    denominator = None if cell.denominator is None else float(cell.denominator)
    return Row(cell.level, cell.code, released.value, float(cell.numerator), denominator, OK)


def _row_order(row: Row) -> tuple[tuple[int, str], str]:
    return (level_order(row.level), row.code)


def _finite(number: float | None) -> float | None:
    return number if number is not None and math.isfinite(number) else None
