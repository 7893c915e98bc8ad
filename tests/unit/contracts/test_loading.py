from pathlib import Path

import pytest

from contracts.errors import (
    ConventionFormatError,
    ConventionSetError,
    DocumentFileError,
    IndicatorFormatError,
)
from contracts.loading import (
    convention_files,
    load_convention,
    load_conventions,
    load_indicator_catalog,
)
from tests.unit.contracts.support import CONVENTIONS_DIR, PARTNERS


def write(tmp_path: Path, text: str, name: str = "conv.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("id: x\nversion: 1\n  title: indented\n", 3, "mapping values are not allowed here"),
        ("id: x\nid: y\n", 2, "duplicate key 'id'"),
        ("id: x\ntitle: 'unclosed\n", 3, "found unexpected end of stream"),
        ("a: &anchor 1\nb: *anchor\n", 2, "anchors and aliases are not allowed"),
        ("- a\n- b\n", 1, "expected a mapping"),
        ("id: x\n---\nid: y\n", 2, "expected a single document"),
        ("\t- bad\n", 1, "found character '\\t'"),
    ],
)
def test_yaml_errors_are_one_line_with_file_and_line(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(DocumentFileError) as caught:
        load_convention(path)
    error = caught.value
    assert (error.file, error.line) == (str(path), line)
    assert "\n" not in str(error)
    assert str(error).startswith(f"{path}:{line}: ")
    assert message in str(error)


def test_an_empty_or_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(DocumentFileError, match="the file is empty"):
        load_convention(write(tmp_path, ""))
    with pytest.raises(DocumentFileError, match="cannot read"):
        load_convention(tmp_path / "missing.yaml")


def test_format_errors_point_at_the_line_of_the_field(tmp_path: Path) -> None:
    text = (
        (CONVENTIONS_DIR / "caf33.yaml").read_text().replace("cadence: monthly", "cadence: weekly")
    )
    path = write(tmp_path, text)
    with pytest.raises(ConventionFormatError) as caught:
        load_convention(path)
    [problem] = caught.value.problems
    assert problem.field == "datasets[caf.allocataires].cadence"
    assert problem.line == text.splitlines().index("    cadence: weekly") + 1
    assert problem.convention_id == "caf33-obshub"


def test_a_directory_loads_every_yaml_file_in_order() -> None:
    files = convention_files([CONVENTIONS_DIR])
    assert [f.stem for f in files] == sorted(PARTNERS)
    conventions = load_conventions([CONVENTIONS_DIR])
    assert [c.source_file for c in conventions] == [str(f) for f in files]


def test_the_same_convention_twice_is_refused(tmp_path: Path) -> None:
    text = (CONVENTIONS_DIR / "caf33.yaml").read_text()
    first, second = write(tmp_path, text, "a.yaml"), write(tmp_path, text, "b.yaml")
    with pytest.raises(ConventionSetError, match=f"caf33-obshub v1 is also defined in {first}"):
        load_conventions([first, second])


def test_indicator_catalog_errors_name_file_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "indicators:\n  - id: x\n    title: t\n    unit: u\n    levels: [iris]\n"
        "    numerator: {dataset: caf.allocataires, where: {age: {lt: young}}}\n",
        "ind.yaml",
    )
    with pytest.raises(IndicatorFormatError) as caught:
        load_indicator_catalog(path)
    assert str(caught.value) == (
        f"{path}:6: indicators[0].numerator.where: age: lt needs a number, not 'young'"
    )
