"""Field policies checked against the dataset schemas of the catalog.

The convention model checks each policy on its own (bands strictly
increasing, bands only with `generalise`); here each one meets the schema
of every dataset version the convention allows. Codes:

| code | meaning |
| --- | --- |
| `unknown_dataset` | the catalog has no such dataset |
| `unknown_schema_version` | the catalog has no such version of the dataset |
| `unknown_field` | a policy names a field no allowed version has |
| `missing_policy` | a field of an allowed version has no policy (every field needs one) |
| `generalise_non_numeric` | `generalise` on a string, boolean or date field |
| `band_gap` | the first band starts above the field's minimum: low values would have no band |
| `pseudonymise_non_identifier` | `pseudonymise` on a field that is not the dataset's identifier |
| `identifier_in_clear` | the identifier is kept or generalised, not pseudonymised or dropped |
| `location_not_kept` | a location field (`iris`, `lon`/`lat`, `carreau`) is not `keep` |
| `measure_not_kept` | an aggregate's measure is not `keep` (the hub sums it) |
"""

from __future__ import annotations

from enum import StrEnum

from contracts.convention import Convention, Crs, DatasetTerms, FieldPolicy, Policy
from contracts.errors import FieldPolicyError
from contracts.problems import Problem
from contracts.status import convention_problem
from schemas.catalog import SchemaCatalog
from schemas.model import DatasetSchema, FieldSpec

_NUMERIC = frozenset({"int", "long", "float", "double"})


class PolicyCode(StrEnum):
    UNKNOWN_DATASET = "unknown_dataset"
    UNKNOWN_SCHEMA_VERSION = "unknown_schema_version"
    UNKNOWN_FIELD = "unknown_field"
    MISSING_POLICY = "missing_policy"
    GENERALISE_NON_NUMERIC = "generalise_non_numeric"
    BAND_GAP = "band_gap"
    PSEUDONYMISE_NON_IDENTIFIER = "pseudonymise_non_identifier"
    IDENTIFIER_IN_CLEAR = "identifier_in_clear"
    LOCATION_NOT_KEPT = "location_not_kept"
    MEASURE_NOT_KEPT = "measure_not_kept"
    CRS_WITHOUT_POINTS = "crs_without_points"


def is_numeric(spec: FieldSpec) -> bool:
    """A plain number (a date is stored as an int but is not one)."""
    return spec.avro_type in _NUMERIC and spec.logical_type is None


def _field_issue(
    name: str, policy: FieldPolicy, spec: FieldSpec, schema: DatasetSchema
) -> tuple[PolicyCode, str] | None:
    label = schema.label
    if name in schema.location_fields and policy.policy is not Policy.KEEP:
        return PolicyCode.LOCATION_NOT_KEPT, (
            f"{name} locates the records of {label}: its policy must be keep, not {policy.policy}"
        )
    if name == schema.measure and policy.policy is not Policy.KEEP:
        return PolicyCode.MEASURE_NOT_KEPT, (
            f"{name} is the measure the hub sums for {label}: its policy must be keep"
        )
    if name == schema.identifier and policy.policy in (Policy.KEEP, Policy.GENERALISE):
        return PolicyCode.IDENTIFIER_IN_CLEAR, (
            f"{name} identifies a {schema.grain} of {label}: pseudonymise or drop it"
        )
    if policy.policy is Policy.PSEUDONYMISE and name != schema.identifier:
        expected = schema.identifier or "none, it is an aggregate"
        return PolicyCode.PSEUDONYMISE_NON_IDENTIFIER, (
            f"only the identifier can be pseudonymised ({label}: {expected})"
        )
    if policy.policy is Policy.GENERALISE:
        if not is_numeric(spec):
            kind = spec.logical_type or spec.avro_type
            return PolicyCode.GENERALISE_NON_NUMERIC, (
                f"generalise needs a number; {name} is {kind} in {label}"
            )
        bands = policy.bands or ()
        if spec.minimum is not None and bands and bands[0] > spec.minimum:
            return PolicyCode.BAND_GAP, (
                f"{name} goes down to {spec.minimum} in {label} but the first band "
                f"starts at {bands[0]}: lower values would have no band"
            )
    return None


def _terms_problems(
    convention: Convention, dataset_id: str, terms: DatasetTerms, catalog: SchemaCatalog
) -> list[Problem]:
    base = ("datasets", dataset_id)

    def problem(path: tuple[str, ...], code: PolicyCode, message: str) -> Problem:
        return convention_problem(convention, (*base, *path), code, message)

    if dataset_id not in catalog.datasets():
        known = ", ".join(catalog.datasets())
        return [problem((), PolicyCode.UNKNOWN_DATASET, f"unknown dataset (known: {known})")]
    problems: list[Problem] = []
    known_versions = catalog.versions(dataset_id)
    versions = [v for v in terms.schema_versions if v in known_versions]
    for version in terms.schema_versions:
        if version not in known_versions:
            listed = ", ".join(str(v) for v in known_versions)
            problems.append(
                problem(
                    ("schema_versions",),
                    PolicyCode.UNKNOWN_SCHEMA_VERSION,
                    f"{dataset_id} has no schema version {version} (known: {listed})",
                )
            )
    schemas = [catalog.dataset(dataset_id, v) for v in versions]
    if not schemas:
        return problems
    if terms.crs is not Crs.WGS84 and any(s.location != "lonlat" for s in schemas):
        problems.append(
            problem(
                ("crs",),
                PolicyCode.CRS_WITHOUT_POINTS,
                f"crs {terms.crs} applies to datasets of points (lon, lat); "
                f"{dataset_id} is placed otherwise",
            )
        )
    everywhere = {name for schema in schemas for name in schema.fields}
    for name in terms.fields:
        if name not in everywhere:
            labels = ", ".join(s.label for s in schemas)
            problems.append(
                problem(
                    ("fields", name),
                    PolicyCode.UNKNOWN_FIELD,
                    f"not a field of {labels}",
                )
            )
    seen: set[tuple[str, str]] = set()
    for schema in schemas:
        for name, spec in schema.fields.items():
            policy = terms.fields.get(name)
            if policy is None:
                if (name, PolicyCode.MISSING_POLICY) not in seen:
                    seen.add((name, PolicyCode.MISSING_POLICY))
                    problems.append(
                        problem(
                            ("fields", name),
                            PolicyCode.MISSING_POLICY,
                            f"field {name} of {schema.label} has no policy "
                            "(every field needs one: keep, pseudonymise, generalise or drop)",
                        )
                    )
                continue
            issue = _field_issue(name, policy, spec, schema)
            if issue is not None and (name, issue[0]) not in seen:
                seen.add((name, issue[0]))
                problems.append(problem(("fields", name), *issue))
    return problems


def field_policy_problems(convention: Convention, catalog: SchemaCatalog) -> list[Problem]:
    """Every way `convention`'s datasets and field policies do not fit `catalog`."""
    problems: list[Problem] = []
    for dataset_id, terms in convention.datasets.items():
        problems += _terms_problems(convention, dataset_id, terms, catalog)
    return problems


def validate_field_policies(convention: Convention, catalog: SchemaCatalog) -> Convention:
    """`convention` if its policies fit `catalog`; raise `FieldPolicyError` otherwise."""
    problems = field_policy_problems(convention, catalog)
    if problems:
        raise FieldPolicyError(problems)
    return convention
