"""Reading conventions and the indicator catalog from files.

Every failure is a `DocumentError` whose problems name the file, the line
and the field: a YAML syntax error, a duplicate key, a field the model does
not know or a value it refuses. Loading checks form only; signatures and
validity are `contracts.status`, fit with the schemas `contracts.policies`,
fit with the conventions `contracts.bindings`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from contracts.convention import Convention
from contracts.documents import Document, parse_document
from contracts.errors import (
    ConventionFormatError,
    ConventionSetError,
    DocumentFileError,
    IndicatorFormatError,
)
from contracts.indicators import IndicatorCatalog
from contracts.problems import Problem, format_path

CONVENTION_SUFFIXES = (".yaml", ".yml")

_FRIENDLY = {
    "missing": "required field is missing",
    "extra_forbidden": "unknown field",
}


def _message(error: Any) -> str:
    kind, message, given = error["type"], str(error["msg"]), error.get("input")
    if kind in _FRIENDLY:
        return _FRIENDLY[kind]
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if kind == "string_type" and isinstance(given, int | float) and not isinstance(given, bool):
        message += f" (quote it: '{given}')"
    return message


def validation_problems(
    exc: ValidationError, document: Document, code: str, convention_id: str | None = None
) -> list[Problem]:
    """One problem per pydantic error, at the offending field's line."""
    problems: list[Problem] = []
    errors = exc.errors(include_url=False)
    for error in errors:
        loc = error["loc"]
        if error["type"] == "too_short" and any(
            len(e["loc"]) > len(loc) and e["loc"][: len(loc)] == loc for e in errors
        ):
            continue  # "too short" only because an item failed: that error says it
        # drop pydantic's union and validator tags from the location
        path = tuple(p for p in error["loc"] if isinstance(p, int) or not ("[" in p or "(" in p))
        problem = Problem(
            file=document.file,
            field=format_path(path),
            code=code,
            message=_message(error),
            line=document.line_of(path),
            convention_id=convention_id,
        )
        if problem not in problems:
            problems.append(problem)
    return problems


def read_text(path: Path) -> str:
    """A document's text; unreadable → `DocumentFileError`."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        problem = Problem(str(path), "(document)", "unreadable", f"cannot read: {reason}")
        raise DocumentFileError([problem]) from exc


def read_document(path: Path) -> Document:
    """Read and parse a YAML file; unreadable or not YAML → `DocumentFileError`."""
    return parse_document(read_text(path), str(path))


def convention_from_document(document: Document) -> Convention:
    """Validate a parsed document as a convention."""
    raw_id = document.data.get("id")
    convention_id = raw_id if isinstance(raw_id, str) else None
    try:
        convention = Convention.model_validate(document.data)
    except ValidationError as exc:
        problems = validation_problems(exc, document, "format", convention_id)
        raise ConventionFormatError(problems) from exc
    return convention.located(document.file, document.lines)


def parse_convention(text: str, file: str = "<text>") -> Convention:
    """A convention from YAML text (`file` names it in messages)."""
    return convention_from_document(parse_document(text, file))


def load_convention(path: Path) -> Convention:
    """A convention from its YAML file."""
    return convention_from_document(read_document(path))


def convention_files(paths: Iterable[Path]) -> list[Path]:
    """The files named, with each directory replaced by its `*.yaml`/`*.yml` files."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix in CONVENTION_SUFFIXES)
        else:
            files.append(path)
    return files


def duplicate_problems(conventions: Sequence[Convention]) -> list[Problem]:
    """A problem for each convention whose id and version an earlier one has."""
    seen: dict[tuple[str, int], Convention] = {}
    problems: list[Problem] = []
    for convention in conventions:
        key = (convention.id, convention.version)
        if key in seen:
            problems.append(
                convention.problem_at(
                    ("id",),
                    "duplicate",
                    f"{convention.ref} is also defined in {seen[key].source_file}",
                )
            )
        else:
            seen[key] = convention
    return problems


def load_conventions(paths: Iterable[Path]) -> list[Convention]:
    """Every convention of the files and directories named; the first invalid
    file raises its `DocumentError`, two with one id and version `ConventionSetError`."""
    conventions = [load_convention(path) for path in convention_files(paths)]
    problems = duplicate_problems(conventions)
    if problems:
        raise ConventionSetError(problems)
    return conventions


def indicator_catalog_from_document(document: Document) -> IndicatorCatalog:
    """Validate a parsed document as the indicator catalog."""
    try:
        catalog = IndicatorCatalog.model_validate(document.data)
    except ValidationError as exc:
        raise IndicatorFormatError(validation_problems(exc, document, "format")) from exc
    return catalog.located(document.file, document.lines)


def parse_indicator_catalog(text: str, file: str = "<text>") -> IndicatorCatalog:
    return indicator_catalog_from_document(parse_document(text, file))


def load_indicator_catalog(path: Path) -> IndicatorCatalog:
    """The indicator catalog from its YAML file."""
    return indicator_catalog_from_document(read_document(path))
