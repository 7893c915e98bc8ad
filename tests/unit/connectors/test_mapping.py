from pathlib import Path

import pytest

from connectors.mapping import ColumnMapping, MappingError, load_mapping


def test_mapping_renames_and_maps_values(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        "columns:\n  matricule: NUM_ALLOC\n  iris: CODE_IRIS\n"
        "values:\n  type_foyer:\n    Isolé: isole\n  rsa: {O: 1, N: 0}\n",
        encoding="utf-8",
    )
    mapping = load_mapping(path)
    assert mapping.values == {"type_foyer": {"Isolé": "isole"}, "rsa": {"O": "1", "N": "0"}}
    located = mapping.locate(
        ["CODE_IRIS", "X", "NUM_ALLOC", "rsa"],
        ["matricule", "iris", "rsa", "aah"],
        required=["matricule", "iris"],
    )
    assert located == {"matricule": 2, "iris": 0, "rsa": 3}


def test_missing_required_column_names_field_and_header() -> None:
    with pytest.raises(MappingError, match=r"no column for iris; its columns are: a, b"):
        ColumnMapping().locate(["a", "b"], ["iris"], required=["iris"])


def test_missing_mapped_column_names_the_partner_column(tmp_path: Path) -> None:
    mapping = ColumnMapping(columns={"iris": "CODE_IRIS"}, source=tmp_path / "m.yaml")
    with pytest.raises(
        MappingError,
        match=r"m\.yaml: the extract has no column for iris "
        r"\(column 'CODE_IRIS'\)",
    ):
        mapping.locate(["iris"], ["iris"], required=["iris"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("columns: [a, b]\n", "columns: expected"),
        ("other: 1\n", "top-level keys"),
        ("values:\n  rsa: 3\n", r"values\.rsa: expected a map"),
        ("a: [\n", "line 2: not valid YAML"),
    ],
)
def test_bad_mapping_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(text)
    with pytest.raises(MappingError, match=message):
        load_mapping(path)
