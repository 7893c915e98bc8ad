from typing import Any

import pytest

from contracts.errors import FieldPolicyError
from contracts.policies import field_policy_problems, validate_field_policies
from schemas.catalog import load_catalog
from tests.unit.contracts.support import PARTNERS, build, demo_conventions, demo_data, with_changes

FIELDS = ("datasets", "caf.allocataires", "fields")
CAF = "datasets[caf.allocataires]"


def problems_of(data: dict[str, Any]) -> list[tuple[str, str]]:
    convention = build(data, "caf33.yaml")
    return [(p.code, p.field) for p in field_policy_problems(convention, load_catalog())]


def test_the_demo_conventions_fit_the_schemas() -> None:
    conventions = demo_conventions()
    assert {c.producer for c in conventions} == set(PARTNERS)
    for convention in conventions:
        assert validate_field_policies(convention, load_catalog()) is convention


@pytest.mark.parametrize(
    ("field", "policy", "expected"),
    [
        ("age_responsable", {"policy": "generalise", "bands": [18, 30]}, "band_gap"),
        ("type_foyer", {"policy": "generalise", "bands": [0, 1]}, "generalise_non_numeric"),
        ("rsa", "pseudonymise", "pseudonymise_non_identifier"),
        ("matricule", "keep", "identifier_in_clear"),
        ("iris", "drop", "location_not_kept"),
        ("iris", "pseudonymise", "location_not_kept"),
        ("situation", "keep", "unknown_field"),
    ],
)
def test_field_policy_errors_name_the_field(field: str, policy: Any, expected: str) -> None:
    data = with_changes(demo_data(), (*FIELDS, field), policy)
    assert problems_of(data) == [(expected, f"{CAF}.fields.{field}")]


def test_every_field_needs_a_policy() -> None:
    data = with_changes(demo_data(), (*FIELDS, "quotient_familial"), None)  # a v2 field
    assert problems_of(data) == [("missing_policy", f"{CAF}.fields.quotient_familial")]


def test_a_generalised_date_is_not_a_number() -> None:
    data = with_changes(
        demo_data("ccas-bordeaux"),
        ("datasets", "ccas.aides", "fields", "date_decision"),
        {"policy": "generalise", "bands": [0, 100]},
    )
    assert problems_of(data) == [
        ("generalise_non_numeric", "datasets[ccas.aides].fields.date_decision")
    ]


def test_measures_and_coordinates_must_be_kept() -> None:
    insee = with_changes(
        demo_data("insee"), ("datasets", "insee.menages", "fields", "menages"), "drop"
    )
    assert problems_of(insee) == [("measure_not_kept", "datasets[insee.menages].fields.menages")]
    ft = with_changes(
        demo_data("francetravail33"),
        ("datasets", "france_travail.demandeurs", "fields", "lat"),
        {"policy": "generalise", "bands": [-90, 0]},
    )
    assert problems_of(ft) == [
        ("location_not_kept", "datasets[france_travail.demandeurs].fields.lat")
    ]


def test_unknown_dataset_and_schema_version() -> None:
    data = demo_data()
    renamed = dict(data, datasets={"caf.inconnu": data["datasets"]["caf.allocataires"]})
    assert problems_of(renamed) == [("unknown_dataset", "datasets[caf.inconnu]")]
    versions = with_changes(data, ("datasets", "caf.allocataires", "schema_versions"), [1, 2, 9])
    assert problems_of(versions) == [("unknown_schema_version", f"{CAF}.schema_versions")]


def test_the_error_carries_file_line_and_convention() -> None:
    data = with_changes(demo_data(), (*FIELDS, "iris"), "drop")
    with pytest.raises(FieldPolicyError) as caught:
        validate_field_policies(build(data, "caf33.yaml"), load_catalog())
    error = caught.value
    assert (error.file, error.field, error.convention_id) == (
        "caf33.yaml",
        f"{CAF}.fields.iris",
        "caf33-obshub",
    )
    assert error.line is not None
    assert str(error).startswith(f"caf33.yaml:{error.line}: {CAF}.fields.iris: ")


def test_a_crs_belongs_to_datasets_of_points_only() -> None:
    data = with_changes(demo_data(), ("datasets", "caf.allocataires", "crs"), "EPSG:2154")
    assert problems_of(data) == [("crs_without_points", f"{CAF}.crs")]
    ft = with_changes(
        demo_data("francetravail33"), ("datasets", "france_travail.demandeurs", "crs"), "EPSG:2154"
    )
    assert problems_of(ft) == []
