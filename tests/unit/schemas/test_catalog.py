from __future__ import annotations

import json
from pathlib import Path

import pytest

from schemas.catalog import SchemaCatalog, load_catalog, schema_root
from schemas.errors import CatalogError, UnknownFingerprintError, UnknownSchemaError
from schemas.model import DatasetSchema, ProtocolSchema, schema_fingerprint

from .samples import copy_schema_tree

# Vectors from the Avro specification's test data (share/test/data/schema-tests.txt),
# given there as signed 64-bit integers; on the wire they are little-endian.
AVRO_VECTORS = [
    ("null", 7195948357588979594),
    ("int", 8247732601305521295),
    ({"type": "record", "name": "foo", "fields": []}, -4824392279771201922),
]

# Released versions never change: a structural edit shows here first.
PINNED = {
    ("caf.allocataires", 1): "50ccf4a9b37a9892",
    ("caf.allocataires", 2): "11de23f38c201686",
    ("ccas.aides", 1): "68f181c267d90f69",
    ("departement.apa", 1): "9c87ecc37981b9c3",
    ("france_travail.demandeurs", 1): "dbb47abb470ae264",
    ("insee.menages", 1): "16bf530e02b5275d",
    ("insee.population", 1): "e4aa18b0bcdf8b16",
    ("audit_event", 1): "c1da1b2d4dfd80a9",
    ("audit_event", 2): "903b7cebedddff41",
    ("drop_aggregate", 1): "5847662ba9f28a19",
    ("drop_chunk", 1): "97d03dee77a78ea8",
    ("drop_header", 1): "813b1c85adc966cc",
    ("drop_trailer", 1): "c42aa673d6eef6d9",
    ("indicator_release", 1): "fcf55b549134ca9d",
    ("quarantine_event", 1): "001f74589585763d",
    ("receipt", 1): "6c5dbf697af353c5",
}

DATASETS = [
    "caf.allocataires",
    "ccas.aides",
    "departement.apa",
    "france_travail.demandeurs",
    "insee.menages",
    "insee.population",
]
PROTOCOLS = [
    "audit_event",
    "drop_aggregate",
    "drop_chunk",
    "drop_header",
    "drop_trailer",
    "indicator_release",
    "quarantine_event",
    "receipt",
]


@pytest.mark.parametrize(("schema", "expected"), AVRO_VECTORS)
def test_fingerprint_matches_avro_spec_vectors(schema: object, expected: int) -> None:
    assert schema_fingerprint(schema) == expected.to_bytes(8, "little", signed=True)


def test_fingerprint_ignores_docs_defaults_and_obshub_attributes() -> None:
    plain = {"type": "record", "name": "r", "fields": [{"name": "a", "type": ["null", "int"]}]}
    annotated = {
        "type": "record",
        "name": "r",
        "doc": "d",
        "obshub.grain": "person",
        "fields": [
            {"name": "a", "type": ["null", "int"], "default": None, "obshub.min": 0, "doc": "x"}
        ],
    }
    assert schema_fingerprint(plain) == schema_fingerprint(annotated)
    renamed = dict(plain, name="s")
    assert schema_fingerprint(renamed) != schema_fingerprint(plain)


def test_shipped_fingerprints_are_pinned() -> None:
    catalog = load_catalog()
    found = {
        (s.dataset_id if isinstance(s, DatasetSchema) else s.name, s.version): s.fingerprint.hex()
        for s in catalog
    }
    assert found == PINNED


def test_every_fingerprint_resolves_back_to_its_schema() -> None:
    catalog = load_catalog()
    assert len(catalog) == len(PINNED)
    for schema in catalog:
        assert len(schema.fingerprint) == 8
        assert catalog.by_fingerprint(schema.fingerprint) is schema
        assert schema.fingerprint == schema_fingerprint(dict(schema.raw))


def test_unknown_fingerprint() -> None:
    with pytest.raises(UnknownFingerprintError, match="0000000000000000") as info:
        load_catalog().by_fingerprint(bytes(8))
    assert info.value.reason == "unknown_fingerprint"


def test_catalog_is_loaded_once() -> None:
    assert load_catalog() is load_catalog()


def test_names_and_versions() -> None:
    catalog = load_catalog()
    assert catalog.datasets() == DATASETS
    assert catalog.protocols() == PROTOCOLS
    assert catalog.versions("caf.allocataires") == [1, 2]
    assert catalog.dataset("caf.allocataires").version == 2
    assert catalog.dataset("caf.allocataires", 1).version == 1
    assert isinstance(catalog.protocol("drop_header"), ProtocolSchema)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: c.dataset("caf.inconnu"), "unknown dataset 'caf.inconnu'"),
        (lambda c: c.dataset("caf.allocataires", 9), "dataset 'caf.allocataires' version 9"),
        (lambda c: c.versions("nope"), "unknown dataset 'nope'"),
        (lambda c: c.protocol("drop_footer"), "unknown protocol message 'drop_footer'"),
        (lambda c: c.protocol("drop_header", 3), "'drop_header' version 3"),
    ],
)
def test_unknown_names_are_named_in_the_error(call: object, message: str) -> None:
    with pytest.raises(UnknownSchemaError, match=message):
        call(load_catalog())  # type: ignore[operator]


def test_dataset_descriptions() -> None:
    catalog = load_catalog()
    caf = catalog.dataset("caf.allocataires", 1)
    assert (caf.grain, caf.identifier, caf.location, caf.measure) == (
        "household",
        "matricule",
        "iris",
        None,
    )
    assert caf.fields["type_foyer"].values == (
        "isole",
        "monoparent",
        "couple_sans_enfant",
        "couple_avec_enfants",
    )
    assert caf.fields["rsa"].avro_type == "int"
    assert (caf.fields["rsa"].minimum, caf.fields["rsa"].maximum) == (0, 1)
    assert caf.fields["matricule"].nullable and not caf.fields["iris"].nullable
    assert catalog.dataset("caf.allocataires", 2).fields["quotient_familial"].avro_type == "long"

    apa = catalog.dataset("departement.apa")
    assert (apa.fields["gir"].minimum, apa.fields["gir"].maximum) == (1, 6)
    assert apa.location_fields == ("carreau",)
    assert apa.fields["carreau"].pattern is not None

    demandeurs = catalog.dataset("france_travail.demandeurs")
    assert demandeurs.location_fields == ("lon", "lat")
    assert demandeurs.fields["categorie"].values == ("A", "B", "C", "D", "E")
    assert demandeurs.fields["lat"].maximum == 90.0

    aides = catalog.dataset("ccas.aides")
    assert aides.fields["date_decision"].avro_type == "int"
    assert aides.fields["date_decision"].logical_type == "date"
    assert aides.fields["montant_eur"].avro_type == "double"

    population = catalog.dataset("insee.population")
    assert (population.grain, population.identifier, population.measure) == (
        "iris-aggregate",
        None,
        "population",
    )
    assert population.fields["tranche_age"].values == (
        "0-14",
        "15-24",
        "25-39",
        "40-54",
        "55-64",
        "65-74",
        "75+",
    )
    assert not population.fields["population"].nullable
    assert catalog.dataset("insee.menages").measure == "menages"


def _edit(path: Path, change: dict[str, object]) -> None:
    raw = json.loads(path.read_text())
    raw.update(change)
    path.write_text(json.dumps(raw))


def test_a_version_that_changes_only_attributes_is_refused(tmp_path: Path) -> None:
    root = copy_schema_tree(tmp_path)
    v1 = root / "datasets" / "insee.menages" / "v1.avsc"
    same = v1.read_text().replace('"obshub.version": 1', '"obshub.version": 2')
    (v1.parent / "v2.avsc").write_text(same)
    with pytest.raises(CatalogError, match=r"same fingerprint \w+ as insee.menages v1"):
        SchemaCatalog.from_directory(root)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"obshub.dataset": "caf.autre"}, "obshub.dataset is 'caf.autre'"),
        ({"obshub.version": 3}, "obshub.version is 3"),
        ({"obshub.grain": "street"}, "obshub.grain is 'street'"),
        ({"obshub.location": "address"}, "obshub.location is 'address'"),
        ({"obshub.identifier": "nir"}, "obshub.identifier names 'nir'"),
        ({"obshub.measure": "rsa"}, "only an aggregate dataset has obshub.measure"),
        ({"namespace": "other"}, "record full name is 'other.allocataires'"),
        ({"fields": [{"name": "iris", "type": "string"}, {"name": "x", "type": "int"}]},
         "obshub.identifier names 'matricule'"),
    ],
)  # fmt: skip
def test_dataset_files_breaking_the_rules_are_refused(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    root = copy_schema_tree(tmp_path)
    _edit(root / "datasets" / "caf.allocataires" / "v1.avsc", change)
    with pytest.raises(CatalogError, match=message) as info:
        SchemaCatalog.from_directory(root)
    assert "caf.allocataires/v1.avsc" in str(info.value)


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ({"name": "x", "type": "int"}, "field x must be nullable"),
        ({"name": "x", "type": ["null", "int"]}, "needs default null"),
        ({"name": "x", "type": ["null", "bytes"], "default": None}, "type bytes is not allowed"),
        ({"name": "x", "type": ["null", "int"], "default": None, "obshub.values": ["a"]},
         "obshub.values"),
        ({"name": "x", "type": ["null", "int"], "default": None, "obshub.min": 5, "obshub.max": 1},
         "obshub.min is above obshub.max"),
        ({"name": "x", "type": ["null", "string"], "default": None, "obshub.pattern": "("},
         "obshub.pattern"),
    ],
)  # fmt: skip
def test_field_rules(tmp_path: Path, field: dict[str, object], message: str) -> None:
    root = copy_schema_tree(tmp_path)
    path = root / "datasets" / "caf.allocataires" / "v1.avsc"
    raw = json.loads(path.read_text())
    raw["fields"].append(field)
    path.write_text(json.dumps(raw))
    with pytest.raises(CatalogError, match=message):
        SchemaCatalog.from_directory(root)


def test_misnamed_files_and_bad_json_are_refused(tmp_path: Path) -> None:
    root = copy_schema_tree(tmp_path)
    stray = root / "protocol" / "DropHeader.avsc"
    stray.write_text("{}")
    with pytest.raises(CatalogError, match=r"protocol/DropHeader.avsc: expected a file named"):
        SchemaCatalog.from_directory(root)
    stray.unlink()
    (root / "protocol" / "drop_chunk.v1.avsc").write_text("{not json")
    with pytest.raises(CatalogError, match="not JSON"):
        SchemaCatalog.from_directory(root)
    with pytest.raises(CatalogError, match="expected datasets/ and protocol/"):
        SchemaCatalog.from_directory(tmp_path)


def test_invalid_avro_is_refused(tmp_path: Path) -> None:
    root = copy_schema_tree(tmp_path)
    _edit(
        root / "protocol" / "drop_chunk.v1.avsc",
        {"fields": [{"name": "drop_id", "type": "strang"}]},
    )
    with pytest.raises(CatalogError, match="not a valid Avro schema"):
        SchemaCatalog.from_directory(root)


def test_schemas_are_hashable_and_equal_by_identity_fields() -> None:
    catalog = load_catalog()
    by_schema = {schema: schema.label for schema in catalog}
    assert by_schema[catalog.dataset("caf.allocataires", 2)] == "caf.allocataires v2"
    rebuilt = SchemaCatalog.from_directory(schema_root())
    assert rebuilt.dataset("ccas.aides") == catalog.dataset("ccas.aides")
    assert rebuilt.protocol("drop_chunk") == catalog.protocol("drop_chunk")
