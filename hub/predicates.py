"""Indicator filters compiled once into fast record predicates.

`contracts.filters.Condition.matches` is the reference meaning of a filter
(null matches nothing, numbers compare with numbers, strings with strings,
booleans with booleans). Calling it for every record and every selection
costs a dispatch on the operator each time; aggregation calls a filter
tens of thousands of times per chunk. `compile_selection` builds, once per
selection, a closure specialised for its operators and value types, with
a fast path for the plain `str`, `int`, `float`, `bool` and `None` values
that Avro decoding produces, and `Condition.matches` itself for any other
value, so the answer is always the reference one
(tests/unit/hub/test_aggregation.py checks it on random records).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, TypeGuard

from contracts.filters import Condition, Op
from contracts.indicators import Selection

Predicate = Callable[[Mapping[str, Any]], bool]

_NUMBERS = (int, float)


def is_number(value: object) -> TypeGuard[int | float]:
    """An int or a float, not a bool (as the filter language means it)."""
    return isinstance(value, _NUMBERS) and not isinstance(value, bool)


@functools.lru_cache(maxsize=1024)
def compile_selection(selection: Selection) -> Predicate | None:
    """The selection's filter as one predicate; None when it keeps every record."""
    return compile_where(selection.where)


def compile_where(conditions: tuple[Condition, ...]) -> Predicate | None:
    """All conditions (AND) as one predicate; None for no condition."""
    predicates = tuple(_compile(c) for c in conditions)
    if not predicates:
        return None
    if len(predicates) == 1:
        return predicates[0]
    if len(predicates) == 2:
        first, second = predicates
        return lambda record: first(record) and second(record)

    def every(record: Mapping[str, Any]) -> bool:
        return all(p(record) for p in predicates)

    return every


def _compile(condition: Condition) -> Predicate:
    name, op, reference = condition.field, condition.op, condition.matches
    if op is Op.IN:
        return _compile_in(name, condition.values, reference)
    value = condition.value
    if op in (Op.EQ, Op.NE):
        kind = _kind(value)
        if kind is None:
            return reference
        eq, numeric = op is Op.EQ, kind is int or kind is float

        def equality(record: Mapping[str, Any]) -> bool:
            actual = record.get(name)
            if actual is None:
                return False
            if actual.__class__ is kind:
                return (actual == value) is eq
            if numeric and (actual.__class__ is int or actual.__class__ is float):
                return (actual == value) is eq
            return reference(record)

        return equality
    right = float(value)  # type: ignore[arg-type]  # orderings take numbers (parse_where)
    compare: Callable[[float, float], bool] = {
        Op.LT: float.__lt__,
        Op.LE: float.__le__,
        Op.GT: float.__gt__,
        Op.GE: float.__ge__,
    }[op]

    def ordering(record: Mapping[str, Any]) -> bool:
        actual = record.get(name)
        if actual is None:
            return False
        if actual.__class__ is int or actual.__class__ is float:
            return compare(float(actual), right)
        return reference(record)

    return ordering


def _compile_in(name: str, values: tuple[Any, ...], reference: Predicate) -> Predicate:
    strings = frozenset(v for v in values if isinstance(v, str))
    numbers = frozenset(v for v in values if is_number(v))
    booleans = frozenset(v for v in values if isinstance(v, bool))

    def membership(record: Mapping[str, Any]) -> bool:
        actual = record.get(name)
        if actual is None:
            return False
        cls = actual.__class__
        if cls is str:
            return actual in strings
        if cls is int or cls is float:
            return actual in numbers
        if cls is bool:
            return actual in booleans
        return reference(record)

    return membership


def _kind(value: object) -> type | None:
    """The exact class a plain value has (int and float are one kind, handled above)."""
    cls = value.__class__
    return cls if cls in (str, int, float, bool) else None
