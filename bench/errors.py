"""The bench's errors: one root, each says what went wrong in one line."""

from __future__ import annotations


class BenchError(Exception):
    """Root of the bench's errors."""


class CountsMismatchError(BenchError):
    """DuckDB's IRIS counts differ from what obshub published."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        shown = "; ".join(problems[:10])
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        super().__init__(f"DuckDB and obshub disagree on {len(problems)} cell(s): {shown}{more}")


class RunFailedError(BenchError):
    """A run could not finish (a process failed, or a wait timed out)."""

    def __init__(self, run: str, reason: str) -> None:
        self.run, self.reason = run, reason
        super().__init__(f"{run}: {reason}")
