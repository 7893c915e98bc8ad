"""The plain data the hub's pure core passes around.

Aggregation produces, per accepted drop, counts per selection and place
(`DropAggregate`: an atom for a point, an IRIS for an IRIS code or a grid
cell); the indicator stage turns the latest drops into one `IndicatorTable`
per indicator and period (a row per area of each level it is published at);
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
from contracts.indicators import Indicator, Selection


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
    # selection key -> place (an atom id for points, an IRIS code otherwise) -> count or sum
    counts: Mapping[str, Mapping[str, float]]
    records: int  # records aggregated
    rejected: Mapping[str, int] = field(default_factory=dict)  # reason -> records


class CellStatus(StrEnum):
    OK = "ok"
    SECRET_PRIMARY = "secret_primary"
    SECRET_SECONDARY = "secret_secondary"


@dataclass(frozen=True)
class Cell:
    """One row of an indicator table before disclosure control."""

    level: str  # iris, commune, qpv, commune_hors_qpv, epci or a zone level of the territory
    code: str  # the area's code at its level
    atoms: tuple[str, ...]  # the territory's atoms the area is the union of, sorted
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
    level: str
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
