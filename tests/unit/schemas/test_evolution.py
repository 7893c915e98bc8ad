from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from schemas.catalog import SchemaCatalog, load_catalog
from schemas.evolution import Problem, check_backward, check_pair, resolution_issues
from schemas.model import build_dataset_schema

from .samples import copy_schema_tree


def _caf_v1() -> dict[str, Any]:
    return dict(load_catalog().dataset("caf.allocataires", 1).raw)


def _v2(change: Any) -> dict[str, Any]:
    """caf.allocataires v1 with `change` applied to a copy of its JSON, as version 2."""
    raw: dict[str, Any] = json.loads(json.dumps(_caf_v1()))
    raw["obshub.version"] = 2
    change(raw)
    return raw


def _field(raw: dict[str, Any], name: str) -> dict[str, Any]:
    fields: list[dict[str, Any]] = raw["fields"]
    return next(f for f in fields if f["name"] == name)


def _problems(v2: dict[str, Any]) -> list[str]:
    writer = load_catalog().dataset("caf.allocataires", 1)
    reader = build_dataset_schema(v2, "v2", "caf.allocataires", 2)
    return [str(problem) for problem in check_pair(writer, reader)]


def test_the_shipped_catalog_is_backward_compatible() -> None:
    assert check_backward(load_catalog()) == []


def test_the_shipped_v2_adds_an_optional_field() -> None:
    catalog = load_catalog()
    v1, v2 = catalog.dataset("caf.allocataires", 1), catalog.dataset("caf.allocataires", 2)
    assert set(v2.fields) - set(v1.fields) == {"quotient_familial"}
    assert check_pair(v1, v2) == []


def _to_string(raw: dict[str, Any]) -> None:
    field = _field(raw, "nb_enfants")
    field["type"] = ["null", "string"]
    del field["obshub.min"], field["obshub.max"]


def _to_boolean(raw: dict[str, Any]) -> None:
    field = _field(raw, "rsa")
    field["type"] = ["null", "boolean"]
    del field["obshub.min"], field["obshub.max"]


def _fewer_values(raw: dict[str, Any]) -> None:
    _field(raw, "type_foyer")["obshub.values"] = ["isole", "couple"]


def _higher_minimum(raw: dict[str, Any]) -> None:
    _field(raw, "age_responsable")["obshub.min"] = 18


def _other_grain(raw: dict[str, Any]) -> None:
    raw["obshub.grain"] = "person"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_to_string, "field nb_enfants: int values cannot be read as any of [null, string]"),
        (_to_boolean, "field rsa: int values cannot be read as any of [null, boolean]"),
        (
            _fewer_values,
            "field type_foyer: obshub.values removed: monoparent, couple_sans_enfant, "
            "couple_avec_enfants",
        ),
        (_higher_minimum, "field age_responsable: obshub.min raised from 0 to 18"),
        (_other_grain, "obshub.grain changed from 'household' to 'person'"),
    ],
)
def test_incompatible_changes_are_named(change: Any, expected: str) -> None:
    assert _problems(_v2(change)) == [f"caf.allocataires v1 -> v2: {expected}"]


def test_promotions_and_wider_domains_are_compatible() -> None:
    def widen(raw: dict[str, Any]) -> None:
        _field(raw, "nb_enfants").update({"type": ["null", "long"], "obshub.max": 30})
        _field(raw, "age_responsable")["type"] = ["null", "double"]
        _field(raw, "type_foyer")["obshub.values"].append("autre")
        raw["fields"].append({"name": "extra", "type": ["null", "string"], "default": None})

    assert _problems(_v2(widen)) == []


def test_resolution_rules_on_plain_avro() -> None:
    date = {"type": "int", "logicalType": "date"}
    assert resolution_issues("int", ["null", "long"]) == []
    assert resolution_issues(["null", "int"], "int") == [("", "no longer nullable")]
    assert resolution_issues(date, "int") == [("", "logical type changed from date to none")]
    assert resolution_issues("bytes", "string") == []
    ints, longs = {"type": "map", "values": "int"}, {"type": "map", "values": "long"}
    assert resolution_issues(ints, longs) == []
    enum_old = {"type": "enum", "name": "e", "symbols": ["a", "b"]}
    enum_new = {"type": "enum", "name": "e", "symbols": ["a"]}
    assert resolution_issues(enum_old, enum_new) == [("", "enum symbols removed: b")]
    assert resolution_issues(enum_old, dict(enum_new, default="a")) == []
    fixed8 = {"type": "fixed", "name": "f", "size": 8}
    fixed4 = dict(fixed8, size=4)
    assert resolution_issues(fixed8, fixed4) == [("", "fixed size changed from 8 to 4")]


def test_a_bad_version_on_disk_fails_the_check(tmp_path: Path) -> None:
    root = copy_schema_tree(tmp_path)
    v1 = json.loads((root / "protocol" / "drop_trailer.v1.avsc").read_text())
    v1["obshub.version"] = 2
    v1["fields"].append({"name": "comment", "type": "string"})
    (root / "protocol" / "drop_trailer.v2.avsc").write_text(json.dumps(v1))
    problems = check_backward(SchemaCatalog.from_directory(root))
    assert problems == [Problem("drop_trailer v1 -> v2", "comment", "added without a default")]
    assert str(problems[0]) == "drop_trailer v1 -> v2: field comment: added without a default"


def test_nested_records_are_checked_field_by_field() -> None:
    trailer = load_catalog().protocol("drop_trailer")
    raw = json.loads(json.dumps(dict(trailer.raw)))
    report = next(f for f in raw["fields"] if f["name"] == "report")["type"]
    report["fields"][0]["type"] = "int"
    assert resolution_issues(dict(trailer.raw), raw) == [
        ("report.rows_read", "type changed from long to int")
    ]
