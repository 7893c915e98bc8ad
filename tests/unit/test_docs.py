"""The project documents itself: what README.md and docs/ say is checked here.

Every repository path they cite exists; every `obshub` verb has help text
and appears in them; the datasets page lists each schema's columns with
their values and ranges, and every indicator of the demo catalog.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer
from typer.main import get_command

from schemas.catalog import load_catalog

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TOP = ("hub/", "docs/", "deploy/", "schemas/", "tests/", "connectors/", "contracts/", "bench/")
TOP_FILES = ("README.md", "Makefile", "Dockerfile", "docker-compose.yml", "pyproject.toml")


def text_of(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def cited_paths(text: str) -> set[str]:
    """Repository paths in backticks or markdown links, without placeholders."""
    candidates = set(re.findall(r"`([^`\s]+)`", text)) | set(re.findall(r"\]\(([^)\s#]+)", text))
    paths = set()
    for candidate in candidates:
        candidate = candidate.rstrip(".,:;")
        if candidate.startswith(("http", "/", "$", "~", ".obshub", ".venv")):
            continue
        if any(mark in candidate for mark in ("<", ">", "{", "…", "...", "=")):
            continue
        if candidate.startswith(TOP) or candidate in TOP_FILES:
            paths.add(candidate.split("::")[0])
    return paths


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_path_the_docs_cite_exists(doc: Path) -> None:
    missing = sorted(
        p for p in cited_paths(text_of(doc)) if not any(ROOT.glob(p)) and not (ROOT / p).exists()
    )
    assert missing == [], f"{doc.name} cites paths that are not in the repository"


def test_every_markdown_file_the_docs_cite_is_in_the_repository() -> None:
    """A page cited by name alone (`wire.md`) is one of the project's own."""
    own = {p.name for p in ROOT.rglob("*.md") if ".venv" not in p.parts}
    for doc in DOCS:
        text = text_of(doc)
        cited = set(re.findall(r"([\w./-]+\.md)\b", text))
        outside = sorted(c for c in cited if Path(c).name not in own)
        assert outside == [], f"{doc.name} cites pages the project does not have"


def verbs(command: object, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], object]]:
    found = []
    for name, sub in getattr(command, "commands", {}).items():
        path = (*prefix, name)
        if getattr(sub, "commands", None):
            found += verbs(sub, path)
        else:
            found.append((path, sub))
    return found


def obshub_verbs() -> list[tuple[tuple[str, ...], object]]:
    from hub import cli

    cli._register_plugins()
    app: typer.Typer = cli.app
    return verbs(get_command(app))


def test_every_verb_has_help_and_appears_in_the_docs() -> None:
    every = obshub_verbs()
    assert len(every) >= 20
    docs = "\n".join(text_of(d) for d in DOCS)
    for path, command in every:
        spelled = " ".join(("obshub", *path))
        assert getattr(command, "help", None), f"{spelled} has no help text"
        assert spelled in docs, f"{spelled} appears nowhere in README.md or docs/"


def test_the_datasets_page_lists_every_column_with_its_values() -> None:
    page = text_of(ROOT / "docs" / "datasets.md")
    catalog = load_catalog()
    for dataset in catalog.datasets():
        schema = catalog.dataset(dataset)
        section = page.split(f"### `{dataset}` (v{schema.version})", 1)
        assert len(section) == 2, f"no section for {dataset} v{schema.version}"
        body = section[1].split("\n### ", 1)[0]
        for spec in schema.fields.values():
            row = next(
                (line for line in body.splitlines() if line.startswith(f"| `{spec.name}` |")), None
            )
            assert row is not None, f"{dataset}: column {spec.name} missing"
            for value in spec.values or ():
                assert f"`{value}`" in row, f"{dataset}.{spec.name}: value {value} missing"
            for bound in (spec.minimum, spec.maximum):
                if bound is not None:
                    assert f"{bound:g}" in row, f"{dataset}.{spec.name}: bound {bound} missing"


def test_the_datasets_page_lists_every_demo_indicator() -> None:
    from contracts.loading import load_indicator_catalog

    page = text_of(ROOT / "docs" / "datasets.md")
    catalog = load_indicator_catalog(ROOT / "deploy" / "demo" / "indicators.yaml")
    for indicator in catalog.each():
        assert f"| `{indicator.id}` |" in page, indicator.id


def test_the_readme_gives_the_csv_header_the_api_writes() -> None:
    from hub.api.render import CSV_COLUMNS

    assert f"`{','.join(CSV_COLUMNS)}`" in text_of(ROOT / "README.md")


@pytest.mark.parametrize(
    "module",
    [
        "hub.settings:HubSettings",
        "connectors.settings:ConnectorSettings",
        "contracts.settings:GovernanceSettings",
    ],
)
def test_the_readme_names_every_setting(module: str) -> None:
    import importlib

    path, name = module.split(":")
    settings = getattr(importlib.import_module(path), name)
    prefix = settings.model_config["env_prefix"]
    readme = text_of(ROOT / "README.md")
    rows = [line for line in readme.splitlines() if line.startswith("| `OBSHUB_")]
    missing = [
        field
        for field in settings.model_fields
        if not any(f"`{prefix}{field.upper()}`" in row for row in rows)
    ]
    assert missing == [], f"settings of {name} missing from the README's settings tables"


# Reading the environment: `os.environ.get(…)`, `os.environ[…]`, `os.getenv(…)`.
ENV_READ = re.compile(r"os\.environ\.get\(|os\.environ\[|os\.getenv\(")


def test_only_the_settings_classes_read_the_environment() -> None:
    readers = [
        f"{path.relative_to(ROOT)}:{number}"
        for package in ("schemas", "contracts", "connectors", "hub")
        for path in sorted((ROOT / package).rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if ENV_READ.search(line)
    ]
    assert readers == [], "read OBSHUB_* through a settings class instead"


def test_every_obshub_variable_the_code_names_is_a_setting() -> None:
    from connectors.settings import ConnectorSettings
    from hub.settings import HubSettings

    fields = {
        f"OBSHUB_{name.upper()}"
        for settings in (HubSettings, ConnectorSettings)
        for name in settings.model_fields
    }
    named = {
        variable
        for package in ("schemas", "contracts", "connectors", "hub")
        for path in (ROOT / package).rglob("*.py")
        for variable in re.findall(r"\bOBSHUB_[A-Z0-9_]+\b", path.read_text())
    }
    assert sorted(named - fields) == []
