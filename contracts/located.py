"""Models that remember where they were read, to point problems at lines."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Self

from pydantic import BaseModel, PrivateAttr

from contracts.problems import FieldPath, Problem, format_path


class Located(BaseModel):
    """A model loaded from a file: its source and the line of each field."""

    _file: str = PrivateAttr(default="<memory>")
    _lines: Mapping[FieldPath, int] = PrivateAttr(default_factory=dict)

    @property
    def source_file(self) -> str:
        """The file it was loaded from (for messages)."""
        return self._file

    def line_of(self, path: FieldPath) -> int | None:
        """The line of `path` (or of its nearest ancestor) in the source file."""
        for end in range(len(path), 0, -1):
            line = self._lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return None

    def located(self, file: str, lines: Mapping[FieldPath, int] | None = None) -> Self:
        """A copy that remembers its source file and field lines."""
        copy = self.model_copy()
        copy._file = file
        copy._lines = dict(lines or {})
        return copy

    def problem(
        self,
        path: FieldPath,
        code: str,
        message: str,
        *,
        line_path: FieldPath | None = None,
        convention_id: str | None = None,
    ) -> Problem:
        """A problem at `path` in this document (`line_path` if the line is found
        under another path, e.g. a list index where `path` names an id)."""
        return Problem(
            file=self._file,
            field=format_path(path),
            code=code,
            message=message,
            line=self.line_of(line_path if line_path is not None else path),
            convention_id=convention_id,
        )
