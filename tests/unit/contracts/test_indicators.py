from typing import Any

import pytest
import yaml

from contracts.bindings import binding_problems, validate_bindings
from contracts.errors import IndicatorBindingError, IndicatorFormatError
from contracts.filters import Condition, Op, parse_where, preserved_by_bands
from contracts.indicators import IndicatorCatalog, Level
from contracts.loading import parse_indicator_catalog
from schemas.catalog import load_catalog
from tests.unit.contracts.support import (
    INDICATORS_FILE,
    build,
    demo_catalog,
    demo_conventions,
    demo_data,
    with_changes,
)

# The demo indicator catalog: id → (numerator, denominator, scale)
EXPECTED = {
    "caf_allocataires": (("caf.allocataires", []), None, 1),
    "caf_bas_revenus_part": (
        ("caf.allocataires", ["bas_revenus eq 1"]),
        ("caf.allocataires", []),
        100,
    ),
    "caf_monoparents_part": (
        ("caf.allocataires", ["nb_enfants ge 1", "type_foyer eq monoparent"]),
        ("caf.allocataires", ["nb_enfants ge 1"]),
        100,
    ),
    "rsa_pour_100_menages": (("caf.allocataires", ["rsa eq 1"]), ("insee.menages", []), 100),
    "defm_cat_a": (("france_travail.demandeurs", ["categorie eq A"]), None, 1),
    "defm_jeunes_part": (
        ("france_travail.demandeurs", ["age lt 26", "categorie eq A"]),
        ("france_travail.demandeurs", ["categorie eq A"]),
        100,
    ),
    "defm_longue_duree_part": (
        ("france_travail.demandeurs", ["anciennete_mois ge 12", "categorie eq A"]),
        ("france_travail.demandeurs", ["categorie eq A"]),
        100,
    ),
    "apa_domicile_pour_100_75plus": (
        ("departement.apa", ["lieu eq domicile"]),
        ("insee.population", ["tranche_age eq 75+"]),
        100,
    ),
    "ccas_aides_pour_1000_menages": (("ccas.aides", []), ("insee.menages", []), 1000),
}
SHARES = {
    "caf_bas_revenus_part",
    "caf_monoparents_part",
    "defm_jeunes_part",
    "defm_longue_duree_part",
}


def test_the_demo_catalog_is_exactly_the_nine_indicators() -> None:
    catalog = demo_catalog()
    assert catalog.ids() == list(EXPECTED)
    for indicator in catalog.indicators:
        numerator, denominator, scale = EXPECTED[indicator.id]
        assert (
            indicator.numerator.dataset,
            [str(c) for c in indicator.numerator.where],
        ) == numerator
        if denominator is None:
            assert indicator.denominator is None and indicator.is_count
        else:
            assert indicator.denominator is not None
            den = indicator.denominator
            assert (den.dataset, [str(c) for c in den.where]) == denominator
        assert indicator.scale == scale
        if indicator.id.startswith("defm_"):  # points: every level of the territory
            assert indicator.levels == (
                "iris",
                "commune",
                "qpv",
                "commune_hors_qpv",
                "epci",
                "quartier",
            )
        elif indicator.id.startswith("apa_"):  # grid cells: the levels made of IRIS
            assert indicator.levels == ("iris", "commune", "epci", "quartier")
        else:
            assert indicator.levels == (Level.IRIS, Level.COMMUNE)
        assert indicator.share_of_one_dataset == (indicator.id in SHARES)


def test_aggregate_denominators_sum_their_measure() -> None:
    catalog = demo_catalog()
    assert catalog.get("rsa_pour_100_menages").denominator.sum == "menages"  # type: ignore[union-attr]
    apa = catalog.get("apa_domicile_pour_100_75plus")
    assert apa is not None and apa.denominator is not None
    assert apa.denominator.sum == "population"
    assert apa.datasets == ("departement.apa", "insee.population")


def test_the_demo_conventions_provide_every_indicator() -> None:
    catalog = demo_catalog()
    assert validate_bindings(catalog, demo_conventions(), load_catalog()) is catalog


@pytest.mark.parametrize(
    ("where", "record", "expected"),
    [
        ({"categorie": "A"}, {"categorie": "A"}, True),
        ({"categorie": "A"}, {"categorie": "B"}, False),
        ({"age": {"lt": 26}}, {"age": 25}, True),
        ({"age": {"lt": 26}}, {"age": 26}, False),
        ({"age": {"ge": 18, "lt": 26}}, {"age": 17}, False),
        ({"age": {"le": 25}}, {"age": 25}, True),
        ({"age": {"gt": 25}}, {"age": 25.5}, True),
        ({"age": {"ne": 30}}, {"age": None}, False),  # null never matches
        ({"age": {"lt": 26}}, {}, False),
        ({"type_aide": {"in": ["energie", "logement"]}}, {"type_aide": "energie"}, True),
        ({"type_aide": {"in": ["energie"]}}, {"type_aide": "autre"}, False),
        ({"rsa": 1}, {"rsa": "1"}, False),  # no coercion between kinds
        ({"rsa": 1}, {"rsa": True}, False),
        ({"categorie": {"ne": "A"}}, {"categorie": "B"}, True),
        ({}, {"anything": 1}, True),
    ],
)
def test_filters_match_records(
    where: dict[str, Any], record: dict[str, Any], expected: bool
) -> None:
    assert all(c.matches(record) for c in parse_where(where)) is expected


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ({"age": {"less": 3}}, "unknown operator 'less'"),
        ({"age": {"lt": "26"}}, "lt needs a number"),
        ({"age": {"in": []}}, "in needs a non-empty list"),
        ({"age": {}}, "no operator"),
        ({"age": [1, 2]}, "not a string, number or boolean"),
        ("age < 26", "where must map fields"),
    ],
)
def test_filter_syntax_errors(where: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_where(where)


@pytest.mark.parametrize(
    ("op", "value", "bands", "kept"),
    [
        (Op.LT, 26, [0, 18, 26, 65], True),
        (Op.GE, 12, [0, 6, 12, 24], True),
        (Op.LT, 26, [0, 18, 25, 65], False),
        (Op.LE, 25, [0, 18, 26, 65], True),  # integers: age <= 25 is age < 26
        (Op.GT, 25, [0, 18, 26, 65], True),
        (Op.EQ, 1, [0, 1, 2, 3], True),
        (Op.EQ, 3, [0, 1, 2, 3], False),  # 3 stands for "3 or more"
        (Op.LT, 99, [0, 18, 26, 65], False),  # above the last bound: unbounded band
        (Op.LT, 0, [0, 18], True),  # below every band: always false, before and after
    ],
)
def test_threshold_preservation(op: Op, value: int, bands: list[int], kept: bool) -> None:
    condition = Condition(field="age", op=op, value=value)
    assert preserved_by_bands(condition, bands, integral=True) is kept


def test_real_thresholds_on_a_generalised_real_field() -> None:
    assert not preserved_by_bands(Condition(field="x", op=Op.LE, value=2), [0, 2, 4], False)
    assert preserved_by_bands(Condition(field="x", op=Op.LT, value=2), [0, 2, 4], False)


def catalog_of(*indicators: dict[str, Any]) -> IndicatorCatalog:
    return parse_indicator_catalog(yaml.safe_dump({"indicators": list(indicators)}), "ind.yaml")


def binding_codes(catalog: IndicatorCatalog, conventions: Any = None) -> list[tuple[str, str]]:
    conventions = demo_conventions() if conventions is None else conventions
    return [(p.code, p.field) for p in binding_problems(catalog, conventions, load_catalog())]


def one(numerator: dict[str, Any], denominator: dict[str, Any] | None = None) -> dict[str, Any]:
    indicator: dict[str, Any] = {
        "id": "test_ind",
        "title": "t",
        "unit": "u",
        "numerator": numerator,
        "levels": ["iris"],
    }
    if denominator is not None:
        indicator["denominator"] = denominator
    return indicator


@pytest.mark.parametrize(
    ("numerator", "code", "field"),
    [
        ({"dataset": "caf.inconnu"}, "no_convention", "numerator.dataset"),
        (
            {"dataset": "caf.allocataires", "where": {"situation": 1}},
            "unknown_field",
            "numerator.where.situation",
        ),
        (
            {"dataset": "caf.allocataires", "where": {"matricule": "x"}},
            "field_pseudonymised",
            "numerator.where.matricule",
        ),
        (
            {"dataset": "caf.allocataires", "where": {"quotient_familial": {"lt": 700}}},
            "field_dropped",
            "numerator.where.quotient_familial",
        ),
        (
            {"dataset": "caf.allocataires", "where": {"nb_enfants": {"ge": 5}}},
            "threshold_lost",
            "numerator.where.nb_enfants",
        ),
        (
            {"dataset": "caf.allocataires", "where": {"type_foyer": "celibataire"}},
            "bad_value",
            "numerator.where.type_foyer",
        ),
        (
            {"dataset": "caf.allocataires", "where": {"type_foyer": {"lt": 2}}},
            "bad_value",
            "numerator.where.type_foyer",
        ),
        ({"dataset": "insee.menages"}, "bad_sum", "numerator"),
        ({"dataset": "ccas.aides", "sum": "type_aide"}, "bad_sum", "numerator.sum"),
    ],
)
def test_binding_errors_name_indicator_and_field(
    numerator: dict[str, Any], code: str, field: str
) -> None:
    problems = binding_problems(catalog_of(one(numerator)), demo_conventions(), load_catalog())
    # (the conventions' consents to the demo indicators are reported too: not ours here)
    problems = [p for p in problems if p.file == "ind.yaml"]
    assert [(p.code, p.field) for p in problems] == [(code, f"indicators.test_ind.{field}")]
    assert problems[0].message.startswith("indicator test_ind: ")
    assert problems[0].file == "ind.yaml" and problems[0].line is not None


def test_an_indicator_needing_a_field_one_convention_drops() -> None:
    data = with_changes(
        demo_data("francetravail33"),
        ("datasets", "france_travail.demandeurs", "fields", "age"),
        "drop",
    )
    conventions = [c for c in demo_conventions() if c.producer != "francetravail33"]
    conventions.append(build(data, "ft.yaml"))
    with pytest.raises(IndicatorBindingError) as caught:
        validate_bindings(demo_catalog(), conventions, load_catalog())
    [problem] = caught.value.problems
    assert problem.field == "indicators.defm_jeunes_part.numerator.where.age"
    assert "francetravail33-obshub v1 drops" in problem.message
    assert problem.file == str(INDICATORS_FILE)


def test_consents_to_unknown_or_unrelated_indicators_are_reported() -> None:
    data = with_changes(
        demo_data(),
        ("consumers", "agora-le-bouscat", "indicators"),
        ["caf_allocataires", "defm_cat_a", "no_such_indicator"],
    )
    conventions = [c for c in demo_conventions() if c.producer != "caf33"]
    conventions.append(build(data, "caf33.yaml"))
    assert binding_codes(demo_catalog(), conventions) == [
        ("unrelated_indicator", "consumers.agora-le-bouscat.indicators"),
        ("unknown_indicator", "consumers.agora-le-bouscat.indicators"),
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"levels": ["iris", "iris"]}, "listed twice"),
        ({"levels": ["Canton 2"]}, "should match pattern"),
        ({"scale": 0}, "greater than 0"),
        ({"id": "Bad-Id"}, "should match pattern"),
        ({"numerator": {"dataset": "caf.allocataires", "where": {"age": {"lt": "x"}}}}, "lt needs"),
    ],
)
def test_indicator_format_errors(change: dict[str, Any], message: str) -> None:
    with pytest.raises(IndicatorFormatError, match=message):
        catalog_of({**one({"dataset": "caf.allocataires"}), **change})


def test_duplicate_indicator_ids_are_refused() -> None:
    with pytest.raises(IndicatorFormatError, match="defined twice: test_ind"):
        catalog_of(one({"dataset": "caf.allocataires"}), one({"dataset": "ccas.aides"}))


def test_a_ratio_whose_numerator_is_not_a_subset_is_not_a_share() -> None:
    catalog = catalog_of(
        one(
            {"dataset": "caf.allocataires", "where": {"rsa": 1}},
            {"dataset": "caf.allocataires", "where": {"aah": 1}},
        )
    )
    assert not catalog.indicators[0].share_of_one_dataset
