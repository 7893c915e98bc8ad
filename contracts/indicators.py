"""The indicator catalog: what the hub computes and publishes.

An indicator counts the records of one dataset that pass a filter (or sums
a field of them, for aggregate datasets such as INSEE's), optionally
divides by a denominator built the same way, and multiplies by `scale`:

    indicators:
      - id: defm_jeunes_part
        title: Part des moins de 26 ans parmi les demandeurs de catégorie A
        unit: "%"
        numerator:
          dataset: france_travail.demandeurs
          where: {categorie: A, age: {lt: 26}}
        denominator:
          dataset: france_travail.demandeurs
          where: {categorie: A}
        scale: 100
        levels: [iris, commune]

`where` is the filter language of `contracts.filters`. Whether the
conventions provide what an indicator needs is checked in
`contracts.bindings`; consent to it in `contracts.consent`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from contracts.convention import DatasetId, FieldName, IndicatorId, Text
from contracts.filters import Condition, matches_all, parse_where
from contracts.located import Located

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class Level(StrEnum):
    """The levels every territory built from the official files may have; a
    territory adds its own zones (e.g. `quartier`) under names of their own."""

    IRIS = "iris"
    COMMUNE = "commune"
    QPV = "qpv"
    COMMUNE_HORS_QPV = "commune_hors_qpv"
    EPCI = "epci"


LevelName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
_LEVEL_ORDER = [level.value for level in Level]


def level_order(level: str) -> tuple[int, str]:
    """Sort key of levels: the built-in ones from the finest, then the territory's own."""
    return (_LEVEL_ORDER.index(level), "") if level in _LEVEL_ORDER else (len(_LEVEL_ORDER), level)


class Selection(BaseModel):
    """Records of one dataset passing a filter: counted, or `sum` of a field."""

    model_config = _FROZEN

    dataset: DatasetId
    where: tuple[Condition, ...] = ()
    sum: FieldName | None = None

    @field_validator("where", mode="before")
    @classmethod
    def _where(cls, value: Any) -> Any:
        return parse_where(value)

    def selects(self, record: Mapping[str, Any]) -> bool:
        """Whether the record counts (or is summed) in this selection."""
        return matches_all(self.where, record)

    @property
    def fields(self) -> tuple[str, ...]:
        """Every field it reads: filtered fields, then the summed one."""
        names = [c.field for c in self.where] + ([self.sum] if self.sum else [])
        return tuple(dict.fromkeys(names))


class Indicator(BaseModel):
    """One published indicator: value = numerator / denominator * scale."""

    model_config = _FROZEN

    id: IndicatorId
    title: Text
    unit: Text
    numerator: Selection
    denominator: Selection | None = None
    scale: int | float = Field(default=1, gt=0)
    levels: tuple[LevelName, ...] = Field(min_length=1)

    @field_validator("levels", mode="before")
    @classmethod
    def _levels(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            if len(set(value)) != len(value):
                raise ValueError("a level is listed twice")
            return sorted(value, key=lambda v: level_order(str(v)))
        return value

    @property
    def selections(self) -> tuple[tuple[str, Selection], ...]:
        """`("numerator", …)` and, for a ratio, `("denominator", …)`."""
        pairs = [("numerator", self.numerator)]
        if self.denominator is not None:
            pairs.append(("denominator", self.denominator))
        return tuple(pairs)

    @property
    def datasets(self) -> tuple[str, ...]:
        """The datasets it reads, sorted: their conventions all contribute."""
        return tuple(sorted({s.dataset for _, s in self.selections}))

    @property
    def is_count(self) -> bool:
        return self.denominator is None

    @property
    def share_of_one_dataset(self) -> bool:
        """A share of one dataset: the numerator's records are a subset of the
        denominator's (same dataset, no sums, every denominator condition in the
        numerator), so denominator - numerator counts records too and the
        complement rule of the secret statistique applies."""
        den = self.denominator
        if den is None or den.dataset != self.numerator.dataset:
            return False
        if den.sum is not None or self.numerator.sum is not None:
            return False
        return set(den.where) <= set(self.numerator.where)


class IndicatorCatalog(Located):
    """Every indicator the hub knows, by id."""

    model_config = _FROZEN

    indicators: tuple[Indicator, ...] = Field(min_length=1)

    @field_validator("indicators")
    @classmethod
    def _unique(cls, value: tuple[Indicator, ...]) -> tuple[Indicator, ...]:
        ids = [i.id for i in value]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"indicator id defined twice: {', '.join(dupes)}")
        return value

    def ids(self) -> list[str]:
        return [i.id for i in self.indicators]

    def get(self, indicator_id: str) -> Indicator | None:
        return next((i for i in self.indicators if i.id == indicator_id), None)

    def index_of(self, indicator_id: str) -> int:
        """Its position in the file (for line numbers)."""
        return self.ids().index(indicator_id)

    def __len__(self) -> int:
        return len(self.indicators)

    def each(self) -> Iterator[Indicator]:
        return iter(self.indicators)
