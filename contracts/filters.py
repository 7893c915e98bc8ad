"""A small filter language over anonymised records, for indicator definitions.

In YAML, `where` maps a field to a value (equality) or to operators, all of
which must hold (AND):

    where:
      categorie: A                 # equality
      age: {lt: 26}                # one operator
      anciennete_mois: {ge: 12, lt: 24}
      type_aide: {in: [alimentaire, energie]}

Operators: `eq`, `ne`, `lt`, `le`, `gt`, `ge` (numbers only for the four
orderings) and `in` (a non-empty list). Values are scalars: strings,
numbers, booleans. A null field (dropped, or missing) matches nothing, not
even `ne`. There is no expression syntax and nothing is evaluated: a filter
is data, and `matches` compares values.

A filter applies to records after the convention's field policies: a
generalised number is the lower bound of its band. `preserved_by_bands`
tells whether a condition gives the same answer on the band's lower bound
as on the original value, i.e. whether the bands keep the threshold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

Scalar = str | int | float | bool
_Number = int | float


class Op(StrEnum):
    EQ = "eq"
    NE = "ne"
    LT = "lt"
    LE = "le"
    GT = "gt"
    GE = "ge"
    IN = "in"


ORDERINGS = frozenset({Op.LT, Op.LE, Op.GT, Op.GE})


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same_kind(a: object, b: object) -> bool:
    """Numbers compare with numbers, strings with strings, booleans with booleans."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool)
    return (_is_number(a) and _is_number(b)) or (isinstance(a, str) and isinstance(b, str))


class Condition(BaseModel):
    """`field op value`, e.g. `age lt 26`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    field: str
    op: Op
    value: Scalar | tuple[Scalar, ...]

    def __str__(self) -> str:
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        return f"{self.field} {self.op} {value}"

    @property
    def values(self) -> tuple[Scalar, ...]:
        """The value(s) compared with: one, or the list of `in`."""
        return self.value if isinstance(self.value, tuple) else (self.value,)

    def matches(self, record: Mapping[str, Any]) -> bool:
        """Whether the record's value satisfies the condition (null never does)."""
        actual = record.get(self.field)
        if actual is None:
            return False
        if self.op is Op.IN:
            return any(_same_kind(actual, v) and actual == v for v in self.values)
        expected = self.value
        if not _same_kind(actual, expected):
            return self.op is Op.NE
        if self.op is Op.EQ:
            return bool(actual == expected)
        if self.op is Op.NE:
            return bool(actual != expected)
        left, right = float(actual), float(expected)  # type: ignore[arg-type]
        return {
            Op.LT: left < right,
            Op.LE: left <= right,
            Op.GT: left > right,
            Op.GE: left >= right,
        }[self.op]


def _scalar(field: str, value: Any) -> Scalar:
    if isinstance(value, str | bool | int | float) and value == value:  # no NaN
        return value
    raise ValueError(f"{field}: {value!r} is not a string, number or boolean")


def parse_where(where: Any) -> tuple[Condition, ...]:
    """Conditions from the YAML mapping form, sorted so that order does not matter."""
    if where is None:
        return ()
    if isinstance(where, list | tuple) and all(isinstance(c, Condition) for c in where):
        return tuple(sorted(where, key=str))
    if not isinstance(where, Mapping):
        raise ValueError("where must map fields to a value or to {operator: value}")
    conditions: list[Condition] = []
    for field, spec in where.items():
        if not isinstance(field, str) or not field:
            raise ValueError(f"where: {field!r} is not a field name")
        operators = spec if isinstance(spec, Mapping) else {Op.EQ.value: spec}
        if not operators:
            raise ValueError(f"{field}: no operator")
        for name, value in operators.items():
            try:
                op = Op(name)
            except ValueError:
                ops = ", ".join(o.value for o in Op)
                raise ValueError(f"{field}: unknown operator {name!r} (use {ops})") from None
            if op is Op.IN:
                if not isinstance(value, list | tuple) or not value:
                    raise ValueError(f"{field}: in needs a non-empty list")
                parsed: Scalar | tuple[Scalar, ...] = tuple(_scalar(field, v) for v in value)
            else:
                parsed = _scalar(field, value)
                if op in ORDERINGS and not _is_number(parsed):
                    raise ValueError(f"{field}: {op} needs a number, not {value!r}")
            conditions.append(Condition(field=field, op=op, value=parsed))
    return tuple(sorted(conditions, key=str))


def matches_all(conditions: Sequence[Condition], record: Mapping[str, Any]) -> bool:
    """Whether every condition holds for the record (an empty filter holds)."""
    return all(c.matches(record) for c in conditions)


def _cut_kept(cut: _Number, bands: Sequence[_Number]) -> bool:
    """Whether `x < cut` has the same answer for x and its band's lower bound."""
    return cut <= bands[0] or cut in bands


def preserved_by_bands(condition: Condition, bands: Sequence[_Number], integral: bool) -> bool:
    """Whether `condition` gives the same answer on a value and on the lower
    bound of its band (values below the first band do not occur)."""
    if not bands:
        return False
    step = 1 if integral else None

    def point_kept(value: Scalar) -> bool:
        # x == v for a single v: its band must be exactly [v, v + 1) of integers
        if not _is_number(value):
            return False
        v = float(value)
        if v < bands[0]:
            return True  # nothing matches, before or after
        return step is not None and v in bands and v + step in bands

    if condition.op in (Op.EQ, Op.NE, Op.IN):
        return all(point_kept(v) for v in condition.values)
    value = condition.value
    if not _is_number(value):
        return False
    number = float(value)  # type: ignore[arg-type]
    if condition.op in (Op.LT, Op.GE):
        return _cut_kept(number, bands)
    # x <= t is x < t + 1 for integers; for real numbers only below every band
    if step is not None and number.is_integer():
        return _cut_kept(number + step, bands)
    return number < bands[0]
