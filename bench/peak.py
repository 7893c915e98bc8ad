"""`python -m bench.peak FILE MODULE ARGS…`: run MODULE as `__main__`, then write
this process's peak RSS (`VmHWM`, MiB) to FILE as it exits.

Why not `ru_maxrss` from `wait4`: Linux counts in a child's `ru_maxrss` the
memory of the process it was forked from, up to its `exec`, so every child
of a bench that holds a large extract would report the bench's own size.
`VmHWM` belongs to the address space the child `exec`-ed into.
"""

from __future__ import annotations

import atexit
import runpy
import sys
from pathlib import Path


def peak_rss_mb(status: str) -> float | None:
    """`VmHWM` of a `/proc/<pid>/status` text, in MiB."""
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def own_peak_rss_mb() -> float | None:
    return peak_rss_mb(Path("/proc/self/status").read_text(encoding="ascii", errors="replace"))


def _write_peak(path: Path) -> None:
    peak = own_peak_rss_mb()
    path.write_text("" if peak is None else f"{peak:.1f}\n", encoding="ascii")


def main() -> None:
    path, module = Path(sys.argv[1]), sys.argv[2]
    sys.argv = [module, *sys.argv[3:]]
    atexit.register(_write_peak, path)
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
