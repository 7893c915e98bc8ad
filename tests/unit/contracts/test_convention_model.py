from typing import Any

import pytest

from contracts.convention import ALL, Channel, FieldPolicy, Policy
from contracts.errors import ConventionFormatError
from tests.unit.contracts.support import build, demo_data, with_changes

FIELDS = ("datasets", "caf.allocataires", "fields")


def format_errors(data: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ConventionFormatError) as caught:
        build(data)
    return [(p.field, p.message) for p in caught.value.problems]


def test_the_demo_convention_reads_as_expected() -> None:
    convention = build(demo_data())
    assert convention.ref == "caf33-obshub v1"
    assert convention.signers == ("caf33", "hub-operator")
    terms = convention.datasets["caf.allocataires"]
    assert terms.territory == ("33063", "33069")
    assert terms.fields["matricule"].policy is Policy.PSEUDONYMISE
    assert convention.disclosure.k == 11 and convention.disclosure.min_denominator == 50
    assert convention.consumers["observatoire-bordeaux"].indicators == ALL
    agora = convention.consumers["agora-le-bouscat"]
    assert agora.names("caf_allocataires") and not agora.names("rsa_pour_100_menages")
    assert agora.allows(Channel.API) and not agora.allows(Channel.KAFKA)


@pytest.mark.parametrize(
    ("bands", "message"),
    [
        ([0, 18, 18], "strictly increasing: 18 then 18"),
        ([0, 30, 18], "strictly increasing: 30 then 18"),
        ([], "non-empty list"),
        (["a", 1], "not a number"),
    ],
)
def test_bands_must_be_strictly_increasing_numbers(bands: list[Any], message: str) -> None:
    data = with_changes(
        demo_data(), (*FIELDS, "age_responsable"), {"policy": "generalise", "bands": bands}
    )
    [(field, text)] = format_errors(data)
    assert field == "datasets[caf.allocataires].fields.age_responsable.bands"
    assert message in text


def test_generalise_maps_to_the_lower_bound_of_the_band() -> None:
    policy = FieldPolicy(policy=Policy.GENERALISE, bands=(0, 18, 26, 65))
    assert [policy.generalise(v) for v in (0, 17, 18, 25.9, 26, 99)] == [0, 0, 18, 18, 26, 65]
    assert policy.generalise(-1) is None


@pytest.mark.parametrize(
    ("path", "value", "field", "message"),
    [
        (("parties", "producer"), "CAF 33", "parties.producer", "principal name"),
        (("parties", "hub_operator"), "caf33", "parties", "must be different"),
        (
            ("datasets", "caf.allocataires", "territory"),
            [33063],
            "datasets[caf.allocataires].territory",
            "must be quoted",
        ),
        (
            ("datasets", "caf.allocataires", "territory"),
            ["33063", "33063"],
            "datasets[caf.allocataires].territory",
            "listed twice",
        ),
        (("validity", "valid_until"), "2024-01-01", "validity", "before valid_from"),
        (("consumers", "agora-le-bouscat", "channels"), ["mail"], "", "unknown channel 'mail'"),
        (("consumers", "agora-le-bouscat", "indicators"), [], "", "`all` or a non-empty"),
        (("disclosure", "dominance"), 1.5, "disclosure.dominance", "less than or equal"),
        (("version",), 0, "version", "greater than or equal to 1"),
        (("signed_by",), "me", "signed_by", "unknown field"),
        (("purpose",), None, "purpose", "required field is missing"),
    ],
)
def test_format_errors_name_the_field(
    path: tuple[str, ...], value: Any, field: str, message: str
) -> None:
    problems = format_errors(with_changes(demo_data(), path, value))
    assert len(problems) == 1
    assert problems[0][0].startswith(field)
    assert message in problems[0][1]


def test_policy_shorthand_and_long_form_are_equal() -> None:
    assert FieldPolicy.model_validate("keep") == FieldPolicy.model_validate({"policy": "keep"})
    with pytest.raises(ValueError, match="generalise needs bands"):
        FieldPolicy.model_validate("generalise")
    with pytest.raises(ValueError, match="bands apply to generalise only"):
        FieldPolicy.model_validate({"policy": "keep", "bands": [0]})
