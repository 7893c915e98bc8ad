"""The bench's errors: one root, each says what went wrong in one line and has
a short `reason` code (`ObshubError`, in `schemas.errors`, is their root)."""

from __future__ import annotations

from schemas.errors import ObshubError


class BenchError(ObshubError):
    """Root of the bench's errors."""

    reason = "bench_error"


class CountsMismatchError(BenchError):
    """DuckDB's IRIS counts differ from what obshub published."""

    reason = "counts_mismatch"

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        shown = "; ".join(problems[:10])
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        super().__init__(f"DuckDB and obshub disagree on {len(problems)} cell(s): {shown}{more}")


class RunFailedError(BenchError):
    """A run could not finish (a process failed, or a wait timed out)."""

    reason = "run_failed"

    def __init__(self, run: str, detail: str) -> None:
        self.run, self.detail = run, detail
        super().__init__(f"{run}: {detail}")
