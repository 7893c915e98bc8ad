"""Background processes of the stack: start, find again by pid file, stop."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path


def read_pid(pid_file: Path, marker: str) -> int | None:
    """The live pid recorded in `pid_file`, if its command line has `marker`.

    The marker check keeps a recycled pid from being taken for ours.
    """
    try:
        pid = int(pid_file.read_text(encoding="ascii").strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    if marker.encode() not in cmdline:
        return None
    if _is_zombie(pid):
        return None
    return pid


def read_environ(pid: int) -> dict[str, str]:
    """The environment a process of ours was started with (empty if unreadable)."""
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {k.decode(errors="replace"): v.decode(errors="replace") for k, v in pairs}


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def spawn(
    argv: Sequence[str], pid_file: Path, out_path: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start `argv` in its own session, output appended to `out_path`."""
    out_path.parent.mkdir(parents=True, exist_ok=True)
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    with out_path.open("ab") as out:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
        )
    pid_file.write_text(f"{proc.pid}\n", encoding="ascii")
    return proc


def terminate(pid: int, timeout_s: float) -> bool:
    """SIGTERM, wait up to `timeout_s`, then SIGKILL. True if it ended by itself."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not is_alive(pid):
            return True
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return True
    while is_alive(pid):
        time.sleep(0.05)
    return False


def is_alive(pid: int) -> bool:
    """True while `pid` runs (reaps it if it is our child and has ended)."""
    # Reap our own children so they do not linger as zombies.
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not _is_zombie(pid)


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default


def listening_port(host: str = "127.0.0.1") -> int:
    """A free port for a server to listen on later, outside the kernel's
    ephemeral range: a port the kernel hands out (bind to port 0) may be taken
    meanwhile by any client connection's local end, and the server then finds
    it in use."""
    low, high = _ephemeral_range()
    candidates = [p for p in range(10_000, 30_000) if not low <= p <= high]
    rng = random.Random()
    for port in rng.sample(candidates, len(candidates)):
        if port_is_free(host, port):
            return port
    raise OSError("no free port outside the ephemeral range")


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def wait_port_free(host: str, port: int, timeout_s: float) -> bool:
    """Whether `port` is free now or within `timeout_s` (a process that just
    exited may hold it a moment)."""
    deadline = time.monotonic() + timeout_s
    while not port_is_free(host, port):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def port_answers(host: str, port: int, timeout_s: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False
