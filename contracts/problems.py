"""A problem found in a governance document, located by file, line and field.

Checks that can find several things wrong at once (a convention's field
policies, its signatures and validity, an indicator catalog) return lists of
`Problem`s; the errors of `contracts.errors` carry them when raised. The
printed form is the one line the CLI shows: `FILE[:LINE]: field: message`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

FieldPath = tuple[str | int, ...]
"""A field's path inside a document: mapping keys and list indexes."""


def format_path(path: Iterable[str | int]) -> str:
    """`("datasets", "caf.allocataires", "fields", "age")` →
    `datasets[caf.allocataires].fields.age`; list indexes as `[0]`."""
    text = ""
    for part in path:
        if isinstance(part, int) or "." in part or not part:
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text or "(document)"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one field of one document."""

    file: str
    field: str
    code: str
    message: str
    line: int | None = None
    convention_id: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.field}: {self.message}"


def format_problems(problems: Sequence[Problem]) -> str:
    """One line per problem."""
    return "\n".join(str(p) for p in problems)
