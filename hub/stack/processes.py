"""Background processes of the stack: start, find again by pid file, stop.

The port checks live in `hub.ports` (the access API uses them without the
stack); they are re-exported here for the stack's modules and tests.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from hub.ports import listening_port as listening_port
from hub.ports import port_answers as port_answers
from hub.ports import port_is_free as port_is_free
from hub.ports import wait_port_free as wait_port_free


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
