"""Whole-file checks behind `obshub convention check` and `verify`.

`check_files` loads each convention file and reports, per file, everything
wrong with it: form, field policies against the schema catalog, signatures
against the trust store, validity at the instant; then duplicates across
files, territories of one dataset that overlap across conventions and,
when an indicator catalog is given, whether the conventions
provide what its indicators need. `verify_file` looks at signatures only.
The `format_*` functions build the lines the CLI prints.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from contracts.bindings import binding_problems
from contracts.convention import Convention
from contracts.errors import DocumentError
from contracts.indicators import IndicatorCatalog
from contracts.keys import TrustStore
from contracts.lifecycle import overlap
from contracts.loading import (
    convention_files,
    duplicate_problems,
    load_convention,
    load_indicator_catalog,
)
from contracts.policies import field_policy_problems
from contracts.problems import Problem
from contracts.status import assess, signature_problems
from schemas.catalog import SchemaCatalog


@dataclass(frozen=True)
class FileReport:
    """What was found in one file; `convention` is None if it did not load."""

    file: str
    problems: tuple[Problem, ...]
    convention: Convention | None = None
    catalog: IndicatorCatalog | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def _load(path: Path) -> tuple[Convention | None, list[Problem]]:
    try:
        return load_convention(path), []
    except DocumentError as exc:
        return None, list(exc.problems)


def check_files(
    paths: Iterable[Path],
    keys: TrustStore,
    instant: datetime,
    schemas: SchemaCatalog,
    indicators: Path | None = None,
) -> list[FileReport]:
    """A report per convention file (and for the indicator catalog, if given)."""
    files = convention_files(paths)
    loaded: dict[str, Convention] = {}
    found: dict[str, list[Problem]] = {}
    for path in files:
        convention, problems = _load(path)
        if convention is not None:
            loaded[str(path)] = convention
            problems += field_policy_problems(convention, schemas)
            problems += assess(convention, keys, instant)
        found[str(path)] = problems
    for problem in duplicate_problems(list(loaded.values())):
        found[problem.file].append(problem)
    for problem in overlap_problems(list(loaded.values())):
        found[problem.file].append(problem)
    catalog: IndicatorCatalog | None = None
    if indicators is not None:
        found.setdefault(str(indicators), [])
        try:
            catalog = load_indicator_catalog(indicators)
        except DocumentError as exc:
            found[str(indicators)] += exc.problems
        else:
            for problem in binding_problems(catalog, list(loaded.values()), schemas):
                found.setdefault(problem.file, []).append(problem)
    return [
        FileReport(
            file,
            tuple(problems),
            loaded.get(file),
            catalog if indicators is not None and file == str(indicators) else None,
        )
        for file, problems in found.items()
    ]


def overlap_problems(conventions: Sequence[Convention]) -> list[Problem]:
    """One problem per pair of conventions (different ids) that provide a dataset
    for a common commune: their counts would add up twice. Reported on the one
    that starts later (then the larger id), naming both."""
    ordered = sorted(conventions, key=lambda c: (c.validity.valid_from, c.id, c.version))
    problems: list[Problem] = []
    for index, later in enumerate(ordered):
        for earlier in ordered[:index]:
            dataset = overlap(later, earlier)
            if dataset is None:
                continue
            common = sorted(
                set(later.datasets[dataset].territory) & set(earlier.datasets[dataset].territory)
            )
            problems.append(
                later.problem_at(
                    ("datasets", dataset, "territory"),
                    "territory_overlap",
                    f"{later.ref} and {earlier.ref} ({earlier.source_file}) both cover "
                    f"{dataset} in {', '.join(common)}",
                )
            )
    return problems


def verify_file(path: Path, keys: TrustStore) -> FileReport:
    """Whether the convention at `path` is well formed and signed by both parties."""
    convention, problems = _load(path)
    if convention is not None:
        problems = signature_problems(convention, keys)
    return FileReport(str(path), tuple(problems), convention)


def format_ok(report: FileReport) -> str:
    """The one line for a file without problems."""
    if report.convention is not None:
        c = report.convention
        return (
            f"{report.file}: OK ({c.ref}, {c.producer} and {c.parties.hub_operator}, "
            f"in force {c.validity.valid_from.isoformat()} to {c.validity.valid_until.isoformat()})"
        )
    if report.catalog is not None:
        return f"{report.file}: OK ({len(report.catalog)} indicators)"
    return f"{report.file}: OK"


def format_reports(reports: Sequence[FileReport]) -> list[str]:
    """One line per problem, or one OK line per file without any."""
    lines: list[str] = []
    for report in reports:
        lines += [str(p) for p in report.problems] if report.problems else [format_ok(report)]
    return lines
