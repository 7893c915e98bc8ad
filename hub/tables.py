"""The plain data the hub's pure core passes around.

Aggregation produces, per accepted drop, counts per selection and IRIS
(`DropAggregate`); the indicator stage turns the latest drops into one
`IndicatorTable` per indicator and period (IRIS rows and commune rows);
disclosure control turns a table into a `Release` whose cells are published
or secret, with the disclosure check that proves the secret ones protected.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from contracts.disclosure import DisclosureRules
from contracts.indicators import Indicator, Level, Selection


def selection_key(selection: Selection) -> str:
    """A stable short name for a selection (dataset, filter, summed field)."""
    canonical = json.dumps(selection.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return f"{selection.dataset}:{hashlib.sha256(canonical.encode()).hexdigest()[:12]}"


@dataclass(frozen=True)
class DropAggregate:
    """What one accepted drop contributes: per selection, a count per IRIS."""

    drop_id: str
    partner: str
    convention_id: str
    convention_version: int
    dataset: str
    period: str
    counts: Mapping[str, Mapping[str, float]]  # selection key -> IRIS code -> count or sum
    records: int  # records aggregated
    rejected: Mapping[str, int] = field(default_factory=dict)  # reason -> records


class CellStatus(StrEnum):
    OK = "ok"
    SECRET_PRIMARY = "secret_primary"
    SECRET_SECONDARY = "secret_secondary"


@dataclass(frozen=True)
class Cell:
    """One row of an indicator table before disclosure control."""

    level: Level
    code: str  # IRIS code or commune code
    commune: str  # the commune it belongs to (itself for a commune row)
    numerator: float
    denominator: float | None  # None for a count indicator


@dataclass(frozen=True)
class IndicatorTable:
    indicator: Indicator
    period: str
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class ReleasedCell:
    cell: Cell
    status: CellStatus
    value: float | None  # numerator / denominator * scale, None when secret


class CheckedQuantity(StrEnum):
    """What of a secret cell the disclosure check bounds: its numerator, and for a share of
    one dataset its complement (denominator - numerator), a count too."""

    NUMERATOR = "numerator"
    COMPLEMENT = "complement"


@dataclass(frozen=True)
class DisclosureFinding:
    code: str  # the secret cell's code
    level: Level
    low: float
    high: float  # feasible interval given everything published (math.inf: unbounded)
    quantity: CheckedQuantity = CheckedQuantity.NUMERATOR


@dataclass(frozen=True)
class Release:
    indicator_id: str
    period: str
    rules: DisclosureRules
    cells: tuple[ReleasedCell, ...]
    findings: tuple[DisclosureFinding, ...]  # one per secret cell and checked quantity
    passed: bool  # the disclosure check of hub.disclosure holds
