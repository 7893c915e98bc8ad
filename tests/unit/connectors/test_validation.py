import datetime as dt

import pytest

from connectors.mapping import ColumnMapping, MappingError
from connectors.pseudonymise import Pseudonymiser
from connectors.sources import RowBatch
from connectors.validation import RowValidator, Tally
from contracts.convention import DatasetTerms
from schemas.catalog import load_catalog

SECRET = bytes(range(32))
CAF = load_catalog().dataset("caf.allocataires", 1)
HEADER = [
    "matricule",
    "iris",
    "age_responsable",
    "type_foyer",
    "nb_enfants",
    "bas_revenus",
    "rsa",
    "aah",
    "aide_logement",
    "commentaire",
]
TERMS = DatasetTerms.model_validate(
    {
        "schema_versions": [1],
        "cadence": "monthly",
        "territory": ["33063", "33069"],
        "fields": {
            "matricule": "pseudonymise",
            "iris": "keep",
            "age_responsable": {"policy": "generalise", "bands": [0, 25, 40, 60]},
            "type_foyer": "keep",
            "nb_enfants": "keep",
            "bas_revenus": "keep",
            "rsa": "keep",
            "aah": "drop",
            "aide_logement": "keep",
        },
    }
)


def validator(mapping: ColumnMapping | None = None, header: list[str] = HEADER) -> RowValidator:
    return RowValidator.compile(
        CAF, TERMS, mapping or ColumnMapping(), header, Pseudonymiser(SECRET)
    )


def run(rows: list[list[str | None] | None], v: RowValidator | None = None):  # type: ignore[no-untyped-def]
    tally = Tally()
    records = (v or validator()).validate(RowBatch(list(range(2, 2 + len(rows))), rows), tally)
    return records, tally


GOOD = ["0123456", "330630101", "37", "isole", "0", "1", "0", "1", "0", "texte libre"]


def test_a_valid_row_becomes_a_minimised_wire_record() -> None:
    [record], tally = run([GOOD])
    assert tally.rows_accepted == 1 and tally.rejections == {}
    assert record == {
        "matricule": Pseudonymiser(SECRET).pseudonym("0123456"),
        "iris": "330630101",
        "age_responsable": 25,
        "type_foyer": "isole",
        "nb_enfants": 0,
        "bas_revenus": 1,
        "rsa": 0,
        "aah": None,
        "aide_logement": 0,
    }
    assert "commentaire" not in record  # a column the schema lacks never travels


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("iris", "", "missing:iris"),
        ("iris", "3306301", "out_of_domain:iris"),
        ("iris", "330500101", "outside_territory"),
        ("age_responsable", "abc", "invalid:age_responsable"),
        ("age_responsable", "130", "out_of_domain:age_responsable"),
        ("type_foyer", "Isolé", "out_of_domain:type_foyer"),
        ("rsa", "2", "out_of_domain:rsa"),
        ("nb_enfants", "1.5", "invalid:nb_enfants"),
    ],
)
def test_rejections_by_reason(column: str, value: str, reason: str) -> None:
    row = list(GOOD)
    row[HEADER.index(column)] = value
    records, tally = run([row, GOOD])
    assert len(records) == 1
    assert tally.rejections == {reason: 1} and tally.examples == {reason: [2]}


def test_dropped_field_is_never_read() -> None:
    row = list(GOOD)
    row[HEADER.index("aah")] = "not even a number"
    [record], _ = run([row])
    assert record["aah"] is None


def test_empty_optional_fields_are_null_and_french_decimals_read() -> None:
    row = list(GOOD)
    row[HEADER.index("age_responsable")] = ""
    row[HEADER.index("nb_enfants")] = "2,0"
    [record], _ = run([row])
    assert record["age_responsable"] is None and record["nb_enfants"] == 2


def test_unreadable_and_ragged_rows() -> None:
    _, tally = run([None, GOOD[:5], GOOD])
    assert tally.rejections == {"unreadable_row": 1, "wrong_column_count": 1}
    assert tally.rows_read == 3 and tally.rows_rejected == 2


def test_mapping_renames_columns_and_values() -> None:
    header = ["NUM", *HEADER[1:3], "TYPE", *HEADER[4:]]
    mapping = ColumnMapping(
        columns={"matricule": "NUM", "type_foyer": "TYPE"},
        values={"type_foyer": {"Isolé": "isole"}, "rsa": {"O": "1", "N": "0"}},
    )
    row = list(GOOD)
    row[3], row[6] = "Isolé", "O"
    [record], _ = run([row], validator(mapping, header))
    assert (record["type_foyer"], record["rsa"]) == ("isole", 1)


def test_a_column_the_convention_keeps_must_be_in_the_extract() -> None:
    header = [h for h in HEADER if h != "rsa"]
    with pytest.raises(MappingError, match="no column for rsa"):
        validator(header=header)


def test_examples_stop_at_five_rows() -> None:
    bad = list(GOOD)
    bad[1] = "999999999"
    _, tally = run([bad] * 8)
    assert tally.rejections == {"outside_territory": 8}
    assert tally.examples["outside_territory"] == [2, 3, 4, 5, 6]


def test_dates_iso_and_french() -> None:
    ccas = load_catalog().dataset("ccas.aides", 1)
    terms = DatasetTerms.model_validate(
        {
            "schema_versions": [1],
            "cadence": "monthly",
            "territory": ["33063"],
            "fields": {
                "id_demandeur": "pseudonymise",
                "iris": "keep",
                "type_aide": "keep",
                "montant_eur": "keep",
                "date_decision": "keep",
            },
        }
    )
    header = ["id_demandeur", "iris", "type_aide", "montant_eur", "date_decision"]
    v = RowValidator.compile(ccas, terms, ColumnMapping(), header, Pseudonymiser(SECRET))
    rows: list[list[str | None] | None] = [
        ["1", "330630101", "energie", "120,50", "03/10/2026"],
        ["2", "330630101", "energie", "80", "2026-10-04"],
        ["3", "330630101", "energie", "80", "31/02/2026"],
    ]
    records, tally = run(rows, v)
    assert [r["date_decision"] for r in records] == [dt.date(2026, 10, 3), dt.date(2026, 10, 4)]
    assert records[0]["montant_eur"] == 120.5
    assert tally.rejections == {"invalid:date_decision": 1}


# -- IRIS codes checked as the hub checks them ----------------------------------

# The territory's reference list: two IRIS of each convention commune, and one
# of Mérignac (33281), a commune the hub knows but the convention does not cover.
REFERENCE = frozenset({"330630101", "330630102", "330690101", "330690102", "332810101"})


def iris_rows(*codes: str) -> list[list[str | None] | None]:
    rows: list[list[str | None] | None] = []
    for code in codes:
        row: list[str | None] = list(GOOD)
        row[HEADER.index("iris")] = code
        rows.append(row)
    return rows


def with_reference(reference: frozenset[str] | None = REFERENCE) -> RowValidator:
    return RowValidator.compile(
        CAF, TERMS, ColumnMapping(), HEADER, Pseudonymiser(SECRET), reference
    )


def test_unknown_iris_and_iris_of_another_commune_are_rejected_with_their_rows() -> None:
    rows = iris_rows(
        "330630101",  # row 2: known, in the territory
        "330630199",  # row 3: Bordeaux, but no such IRIS
        "332810101",  # row 4: a known IRIS of a commune outside the convention
        "330690102",  # row 5
        "330500101",  # row 6: neither known nor in the territory
        "330690177",  # row 7: Le Bouscat, no such IRIS
        "330630199",  # row 8
    )
    records, tally = run(rows, with_reference())
    assert [r["iris"] for r in records] == ["330630101", "330690102"]
    assert tally.rejections == {"unknown_iris": 3, "outside_territory": 2}
    assert tally.examples == {"unknown_iris": [3, 7, 8], "outside_territory": [4, 6]}
    assert tally.rows_read == 7 and tally.rows_rejected == 5


def test_without_a_reference_list_only_the_commune_is_checked() -> None:
    records, tally = run(iris_rows("330630199", "332810101", "330690177"), with_reference(None))
    assert [r["iris"] for r in records] == ["330630199", "330690177"]
    assert tally.rejections == {"outside_territory": 1}
    assert tally.examples == {"outside_territory": [3]}


def test_a_refused_field_wins_over_the_iris_check() -> None:
    rows = iris_rows("330630199", "330630199")
    rows[0][HEADER.index("nb_enfants")] = "x"  # type: ignore[index]
    _, tally = run(rows, with_reference())
    assert tally.examples == {"invalid:nb_enfants": [2], "unknown_iris": [3]}


def test_codes_are_checked_as_sent_stripped_and_mapped() -> None:
    mapping = ColumnMapping(values={"iris": {"BX-1": "330630101", "BX-99": "330630199"}})
    v = RowValidator.compile(CAF, TERMS, mapping, HEADER, Pseudonymiser(SECRET), REFERENCE)
    records, tally = run(iris_rows(" 330630102 ", "BX-1", "BX-99"), v)
    assert [r["iris"] for r in records] == ["330630102", "330630101"]
    assert tally.examples == {"unknown_iris": [4]}


def test_the_reference_list_is_only_for_datasets_located_by_iris() -> None:
    apa = load_catalog().dataset("departement.apa", 1)
    terms = DatasetTerms.model_validate(
        {
            "schema_versions": [1],
            "cadence": "quarterly",
            "territory": ["33063"],
            "fields": {"id_beneficiaire": "pseudonymise", "carreau": "keep", "gir": "keep"},
        }
    )
    header = ["id_beneficiaire", "carreau", "gir"]
    v = RowValidator.compile(apa, terms, ColumnMapping(), header, Pseudonymiser(SECRET), REFERENCE)
    rows: list[list[str | None] | None] = [["1", "CRS3035RES200mN2000000E3000000", "3"]]
    records, tally = run(rows, v)  # a grid cell far away: the hub's to place, not ours
    assert len(records) == 1 and tally.rejections == {}


# -- points given in Lambert-93 -------------------------------------------------


def points_validator(crs: str) -> RowValidator:
    demandeurs = load_catalog().dataset("france_travail.demandeurs", 1)
    terms = DatasetTerms.model_validate(
        {
            "schema_versions": [1],
            "cadence": "monthly",
            "territory": ["33063", "33069"],
            "crs": crs,
            "fields": {
                "identifiant": "pseudonymise",
                "lon": "keep",
                "lat": "keep",
                "age": "keep",
                "sexe": "keep",
                "categorie": "keep",
                "anciennete_mois": "keep",
            },
        }
    )
    mapping = ColumnMapping(columns={"lon": "X", "lat": "Y"})
    header = ["identifiant", "X", "Y", "age", "sexe", "categorie", "anciennete_mois"]
    return RowValidator.compile(demandeurs, terms, mapping, header, Pseudonymiser(SECRET))


def test_a_lambert93_extract_is_sent_as_wgs84_points() -> None:
    from pyproj import Transformer

    rows: list[list[str | None] | None] = [
        ["1", "417250,5", "6423100", "30", "F", "A", "3"],
        ["2", "-0.57", "44.84", "30", "F", "A", "3"],  # degrees given as metres: far away
        ["3", "four hundred", "6423100", "30", "F", "A", "3"],
    ]
    records, tally = run(rows, points_validator("EPSG:2154"))
    lon, lat = Transformer.from_crs("EPSG:2154", "EPSG:4326", always_xy=True).transform(
        417250.5, 6423100.0
    )
    assert (records[0]["lon"], records[0]["lat"]) == (lon, lat)
    assert -0.6 < lon < -0.5 and 44.8 < lat < 44.9  # Bordeaux
    # degrees read as metres are a point off Africa: the hub places it nowhere
    assert records[1]["lat"] < 0 and len(records) == 2
    assert tally.rejections == {"invalid:lon": 1}


def test_the_same_extract_under_wgs84_is_refused_as_out_of_range() -> None:
    rows: list[list[str | None] | None] = [["1", "417250", "6423100", "30", "F", "A", "3"]]
    records, tally = run(rows, points_validator("EPSG:4326"))
    assert records == []
    assert tally.rejections == {"out_of_domain:lon": 1}
