"""The territory's IRIS reference list and the setting that names it."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.settings import ConnectorSettings
from connectors.territory import TerritoryFileError, load_iris_reference

ROOT = Path(__file__).resolve().parents[3]
DEMO_IRIS = ROOT / "deploy" / "demo" / "territory" / "iris.csv"


def write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "iris.csv"
    path.write_bytes(text.encode(encoding))
    return path


def test_the_demo_reference_lists_the_demo_iris() -> None:
    reference = load_iris_reference(DEMO_IRIS)
    assert len(reference) == 66
    assert {"330630101", "330690110"} <= reference
    assert {code[:5] for code in reference} == {"33063", "33069"}


def test_only_code_and_commune_are_read_whatever_the_form(tmp_path: Path) -> None:
    text = (
        "\ufeffDEPCOM,LIBCOM,CODE_IRIS\n33063,Bordeaux Cœur,330630101\n\n2A004,Ajaccio,2A0040101\n"
    )
    assert load_iris_reference(write(tmp_path, text)) == {"330630101", "2A0040101"}
    latin = "CODE_IRIS;LIB_IRIS;DEPCOM\n330630101;Les Prés;33063\n"
    assert load_iris_reference(write(tmp_path, latin, "cp1252")) == {"330630101"}


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("CODE_IRIS;LIBCOM\n330630101;Bordeaux\n", "no column DEPCOM"),
        ("IRIS;COM\n330630101;33063\n", "no column CODE_IRIS or DEPCOM"),
        ("", "the file is empty"),
        ("CODE_IRIS;DEPCOM\n", "lists no IRIS"),
        ("CODE_IRIS;DEPCOM\n330630101;33063\n330630102\n", "row 3: too few fields"),
        (
            "CODE_IRIS;DEPCOM\n330630101;33069\n",
            "row 2: CODE_IRIS is not 9 characters beginning with DEPCOM",
        ),
    ],
)
def test_an_unusable_reference_is_one_line_naming_the_file(
    tmp_path: Path, text: str, reason: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(TerritoryFileError) as error:
        load_iris_reference(path)
    message = str(error.value)
    assert message.startswith(f"territory file {path}: ") and reason in message
    assert "\n" not in message


def test_a_missing_or_unreadable_reference(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "iris.csv"
    with pytest.raises(TerritoryFileError, match=r"nowhere/iris\.csv: cannot be read"):
        load_iris_reference(missing)
    with pytest.raises(TerritoryFileError, match="cannot be read"):
        load_iris_reference(tmp_path)  # a directory


def test_the_setting_defaults_to_the_territory_beside_the_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OBSHUB_TERRITORY_FILE", raising=False)
    demo = ConnectorSettings(keys_dir=ROOT / "deploy" / "demo" / "keys")
    assert demo.territory_file == DEMO_IRIS
    assert demo.load_iris_reference() == load_iris_reference(DEMO_IRIS)
    (tmp_path / "keys").mkdir()
    alone = ConnectorSettings(keys_dir=tmp_path / "keys")
    assert alone.territory_file is None and alone.load_iris_reference() is None
    (tmp_path / "territory").mkdir()
    shipped = write(tmp_path / "territory", "CODE_IRIS;DEPCOM\n330630101;33063\n")
    assert ConnectorSettings(keys_dir=tmp_path / "keys").territory_file == shipped.resolve()


def test_the_setting_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "CODE_IRIS;DEPCOM\n330690101;33069\n")
    monkeypatch.setenv("OBSHUB_TERRITORY_FILE", str(path))
    settings = ConnectorSettings(keys_dir=ROOT / "deploy" / "demo" / "keys")
    assert settings.territory_file == path
    assert settings.load_iris_reference() == {"330690101"}
    assert ConnectorSettings(territory_file=None).load_iris_reference() is None
