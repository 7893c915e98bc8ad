"""Do the conventions provide what each indicator needs?

An indicator reads datasets; each convention providing one of them must
let through, unaltered enough, every field the indicator filters on or
sums. Problems in the indicator catalog (codes):

| code | meaning |
| --- | --- |
| `no_convention` | no convention provides the dataset |
| `unknown_field` | the dataset's schema has no such field |
| `field_dropped` | a providing convention drops the field (or gives it no policy) |
| `field_pseudonymised` | a providing convention pseudonymises it: no value to compare |
| `threshold_lost` | a providing convention generalises it with bands that blur the condition |
| `bad_value` | the value cannot occur: wrong type, not an allowed value, ordering on text |
| `bad_sum` | `sum` of a field that is not a kept number, or a count of aggregate rows |

and in the conventions: `unknown_indicator` (a consumer is granted an
indicator the catalog lacks) and `unrelated_indicator` (granted an indicator
that reads none of the convention's datasets).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from contracts.convention import Convention, DatasetTerms, Policy
from contracts.errors import IndicatorBindingError
from contracts.filters import ORDERINGS, Condition, preserved_by_bands
from contracts.indicators import Indicator, IndicatorCatalog, Selection
from contracts.policies import is_numeric
from contracts.problems import FieldPath, Problem
from schemas.catalog import SchemaCatalog
from schemas.model import DatasetSchema, FieldSpec


class BindingCode(StrEnum):
    NO_CONVENTION = "no_convention"
    UNKNOWN_FIELD = "unknown_field"
    FIELD_DROPPED = "field_dropped"
    FIELD_PSEUDONYMISED = "field_pseudonymised"
    THRESHOLD_LOST = "threshold_lost"
    BAD_VALUE = "bad_value"
    BAD_SUM = "bad_sum"
    UNKNOWN_INDICATOR = "unknown_indicator"
    UNRELATED_INDICATOR = "unrelated_indicator"


def _value_issue(condition: Condition, spec: FieldSpec) -> str | None:
    values = condition.values
    if spec.avro_type == "boolean":
        if condition.op in ORDERINGS or not all(isinstance(v, bool) for v in values):
            return f"{spec.name} is a boolean: compare it with true or false"
        return None
    if is_numeric(spec):
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            return f"{spec.name} is a number; {condition} compares it with text"
        return None
    if condition.op in ORDERINGS:
        return (
            f"{spec.name} is {spec.logical_type or spec.avro_type}: {condition.op} needs a number"
        )
    if spec.values is not None:
        unknown = [v for v in values if v not in spec.values]
        if unknown:
            allowed = ", ".join(spec.values)
            return f"{spec.name} takes the values {allowed}; not {unknown[0]!r}"
    elif not all(isinstance(v, str) for v in values):
        return f"{spec.name} is text; {condition} compares it with a number"
    return None


class _Checker:
    def __init__(
        self, catalog: IndicatorCatalog, conventions: Sequence[Convention], schemas: SchemaCatalog
    ) -> None:
        self.catalog, self.conventions, self.schemas = catalog, conventions, schemas
        self.problems: list[Problem] = []

    def add(self, indicator: Indicator, path: FieldPath, code: str, message: str) -> None:
        index = self.catalog.index_of(indicator.id)
        problem = self.catalog.problem(
            ("indicators", indicator.id, *path),
            code,
            f"indicator {indicator.id}: {message}",
            line_path=("indicators", index, *path),
        )
        # Several conventions provide one dataset: the same finding is said once.
        if problem not in self.problems:
            self.problems.append(problem)

    def schemas_of(self, dataset_id: str, terms: DatasetTerms) -> list[DatasetSchema]:
        if dataset_id not in self.schemas.datasets():
            return []
        known = self.schemas.versions(dataset_id)
        return [self.schemas.dataset(dataset_id, v) for v in terms.schema_versions if v in known]

    def selection(self, indicator: Indicator, role: str, selection: Selection) -> None:
        dataset = selection.dataset
        providers = [c for c in self.conventions if c.provides(dataset)]
        if not providers:
            self.add(
                indicator,
                (role, "dataset"),
                BindingCode.NO_CONVENTION,
                f"no convention provides dataset {dataset}",
            )
            return
        for convention in providers:
            terms = convention.datasets[dataset]
            schemas = self.schemas_of(dataset, terms)
            for condition in selection.where:
                self.condition(
                    indicator,
                    (role, "where", condition.field),
                    condition,
                    convention,
                    terms,
                    schemas,
                )
            self.summed(indicator, role, selection, convention, terms, schemas)

    def field_policy(
        self,
        indicator: Indicator,
        path: FieldPath,
        name: str,
        convention: Convention,
        terms: DatasetTerms,
        schemas: list[DatasetSchema],
    ) -> FieldSpec | None:
        """The field's spec if the convention lets its values through, else report."""
        specs = [s.fields[name] for s in schemas if name in s.fields]
        if schemas and not specs:
            self.add(
                indicator,
                path,
                BindingCode.UNKNOWN_FIELD,
                f"{schemas[0].dataset_id} has no field {name}",
            )
            return None
        policy = terms.fields.get(name)
        if policy is None or policy.policy is Policy.DROP:
            self.add(
                indicator,
                path,
                BindingCode.FIELD_DROPPED,
                f"uses {name}, which convention {convention.ref} drops",
            )
            return None
        if policy.policy is Policy.PSEUDONYMISE:
            self.add(
                indicator,
                path,
                BindingCode.FIELD_PSEUDONYMISED,
                f"uses {name}, which convention {convention.ref} pseudonymises",
            )
            return None
        return specs[0] if specs else None

    def condition(
        self,
        indicator: Indicator,
        path: FieldPath,
        condition: Condition,
        convention: Convention,
        terms: DatasetTerms,
        schemas: list[DatasetSchema],
    ) -> None:
        spec = self.field_policy(indicator, path, condition.field, convention, terms, schemas)
        if spec is None:
            return
        issue = _value_issue(condition, spec)
        if issue is not None:
            self.add(indicator, path, BindingCode.BAD_VALUE, issue)
            return
        policy = terms.fields[condition.field]
        if policy.policy is Policy.GENERALISE and policy.bands is not None:
            integral = spec.avro_type in ("int", "long")
            if not preserved_by_bands(condition, policy.bands, integral):
                bands = ", ".join(str(b) for b in policy.bands)
                self.add(
                    indicator,
                    path,
                    BindingCode.THRESHOLD_LOST,
                    f"{condition} cannot be told from the bands [{bands}] to which "
                    f"convention {convention.ref} generalises {condition.field}",
                )

    def summed(
        self,
        indicator: Indicator,
        role: str,
        selection: Selection,
        convention: Convention,
        terms: DatasetTerms,
        schemas: list[DatasetSchema],
    ) -> None:
        measures = {s.measure for s in schemas if s.measure is not None}
        if selection.sum is None:
            if measures:
                self.add(
                    indicator,
                    (role,),
                    BindingCode.BAD_SUM,
                    f"{selection.dataset} is an aggregate: sum its measure "
                    f"({', '.join(sorted(measures))}) instead of counting rows",
                )
            return
        path: FieldPath = (role, "sum")
        spec = self.field_policy(indicator, path, selection.sum, convention, terms, schemas)
        if spec is None:
            return
        policy = terms.fields[selection.sum]
        if not is_numeric(spec) or policy.policy is not Policy.KEEP:
            self.add(
                indicator,
                path,
                BindingCode.BAD_SUM,
                f"sum needs a number kept as is; {selection.sum} is not",
            )

    def consumers(self, convention: Convention) -> None:
        for consumer, terms in convention.consumers.items():
            if terms.indicators == "all":
                continue
            for indicator_id in terms.indicators:
                indicator = self.catalog.get(indicator_id)
                path = ("consumers", consumer, "indicators")
                if indicator is None:
                    self.problems.append(
                        convention.problem_at(
                            path,
                            BindingCode.UNKNOWN_INDICATOR,
                            f"{consumer} is granted {indicator_id}, which the catalog "
                            f"{self.catalog.source_file} does not define",
                        )
                    )
                elif not any(convention.provides(d) for d in indicator.datasets):
                    self.problems.append(
                        convention.problem_at(
                            path,
                            BindingCode.UNRELATED_INDICATOR,
                            f"{consumer} is granted {indicator_id}, which reads none of "
                            "this convention's datasets",
                        )
                    )


def binding_problems(
    catalog: IndicatorCatalog, conventions: Sequence[Convention], schemas: SchemaCatalog
) -> list[Problem]:
    """Every way the conventions fail to provide what the catalog's indicators need,
    and every consent to an indicator the catalog does not have."""
    checker = _Checker(catalog, conventions, schemas)
    for indicator in catalog.indicators:
        for role, selection in indicator.selections:
            checker.selection(indicator, role, selection)
    for convention in conventions:
        checker.consumers(convention)
    return checker.problems


def validate_bindings(
    catalog: IndicatorCatalog, conventions: Sequence[Convention], schemas: SchemaCatalog
) -> IndicatorCatalog:
    """`catalog` if the conventions provide all it needs; raise `IndicatorBindingError`."""
    problems = binding_problems(catalog, conventions, schemas)
    if problems:
        raise IndicatorBindingError(problems)
    return catalog
