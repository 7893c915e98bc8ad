"""What the bench ran on, and how to read a process's peak memory.

Peak RSS is the kernel's `VmHWM` (no extra package): read from a running
process (the worker), or written by a child itself as it exits
(bench/peak.py explains why not `ru_maxrss`).
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.errors import RunFailedError
from bench.peak import peak_rss_mb

PACKAGES = ("faust-streaming", "aiokafka", "kafka-python", "fastavro", "duckdb")


def _cpu_model(cpuinfo: str) -> str:
    for line in cpuinfo.splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _memory_gib(meminfo: str) -> float | None:
    for line in meminfo.splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 1024 / 1024, 1)
    return None


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def machine_info(kafka_version: str) -> dict[str, Any]:
    """CPU, cores, memory, Python, Kafka and client versions, load at the start."""
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "cpu_model": _cpu_model(_read("/proc/cpuinfo")),
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(_read("/proc/meminfo")),
        "python": platform.python_version(),
        "kafka_version": kafka_version,
        "os": platform.platform(),
        "packages": versions,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def vm_hwm_mb(pid: int) -> float | None:
    """Peak resident set (`VmHWM`) of a running process, in MiB, or None."""
    return peak_rss_mb(_read(f"/proc/{pid}/status"))


@dataclass(frozen=True)
class Finished:
    returncode: int
    wall_s: float
    cpu_s: float  # user + system CPU time of the child: less noisy than wall time
    peak_rss_mb: float | None
    stdout: str


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time a running process has used so far (`/proc/<pid>/stat`)."""
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_measured(
    module: str,
    args: Sequence[str],
    peak_file: Path,
    env: Mapping[str, str] | None = None,
    timeout_s: float = 900,
) -> Finished:
    """Run `python -m module args…` to the end: wall time, CPU time, output, peak RSS.

    The child runs under bench/peak.py, which writes its `VmHWM` to
    `peak_file` as it exits; its CPU time comes from `wait4`. A child still
    running after `timeout_s` is killed (it is ours: we started it).
    """
    argv = [sys.executable, "-m", "bench.peak", str(peak_file), module, *args]
    started = time.monotonic()
    proc = subprocess.Popen(
        argv,
        env=dict(env) if env is not None else None,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    watchdog = threading.Timer(timeout_s, proc.kill)
    watchdog.start()
    try:
        assert proc.stdout is not None
        output = proc.stdout.read().decode("utf-8", "replace")  # until the child closes it
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        watchdog.cancel()
        if proc.stdout is not None:
            proc.stdout.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - started
    if wall >= timeout_s:
        raise RunFailedError(module, f"still running after {timeout_s:.0f}s: killed")
    text = peak_file.read_text(encoding="ascii").strip() if peak_file.exists() else ""
    return Finished(
        proc.returncode,
        wall,
        usage.ru_utime + usage.ru_stime,
        float(text) if text else None,
        output,
    )
