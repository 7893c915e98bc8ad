"""TCP ports on this host: is one free, does one answer, find a free one.

The access API checks its port before listening; the stack runner checks
the ports of everything it starts. Standard library only, so that the API
and the worker do not import the stack runner (`hub.stack`).
"""

from __future__ import annotations

import random
import socket
import time
from pathlib import Path


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def port_answers(host: str, port: int, timeout_s: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def wait_port_free(host: str, port: int, timeout_s: float) -> bool:
    """Whether `port` is free now or within `timeout_s` (a process that just
    exited may hold it a moment)."""
    deadline = time.monotonic() + timeout_s
    while not port_is_free(host, port):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def ephemeral_range() -> tuple[int, int]:
    """The kernel's range of ports for the local end of client connections."""
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
    low, high = ephemeral_range()
    candidates = [p for p in range(10_000, 30_000) if not low <= p <= high]
    rng = random.Random()
    for port in rng.sample(candidates, len(candidates)):
        if port_is_free(host, port):
            return port
    raise OSError("no free port outside the ephemeral range")
