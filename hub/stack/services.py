"""The hub's own processes in the embedded stack: the worker and the access API.

Each runs `python -m hub.cli <verb>` in the background with the stack's
settings in its environment, logs to `<state>/logs/<name>.log`, and counts
as ready when its HTTP endpoint answers (the worker's metrics, the API's
health check).
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from hub.errors import ServiceStartError
from hub.settings import HubSettings
from hub.stack import processes


@dataclass(frozen=True)
class Service:
    name: str  # worker | api
    verb: str  # the `obshub` verb that runs it in the foreground
    ready_url: str
    pid_file: Path
    log_file: Path
    state_dir: Path

    @property
    def marker(self) -> str:
        return f"hub.cli\x00{self.verb}"

    def running_pid(self) -> int | None:
        pid = processes.read_pid(self.pid_file, self.marker)
        if pid is None:
            return None
        # the same verb of another stack (another state dir) is not ours
        environ = processes.read_environ(pid)
        if environ.get("OBSHUB_STATE_DIR") != str(self.state_dir):
            return None
        return pid


def services(settings: HubSettings) -> dict[str, Service]:
    state = settings.state_dir.resolve()
    metrics = f"http://127.0.0.1:{settings.metrics_port}/metrics"
    return {
        "worker": Service(
            "worker",
            "worker",
            metrics,
            settings.run_dir / "worker.pid",
            settings.logs_dir / "worker.log",
            state,
        ),
        "api": Service(
            "api",
            "api",
            f"{settings.api_url}/healthz",
            settings.run_dir / "api.pid",
            settings.logs_dir / "api.log",
            state,
        ),
    }


def child_environment(settings: HubSettings) -> dict[str, str]:
    """The parent's environment with every setting spelled out, paths absolute."""
    env = dict(os.environ)
    for name, value in settings.model_dump().items():
        if isinstance(value, tuple):
            env[f"OBSHUB_{name.upper()}"] = json.dumps(list(value))  # pydantic-settings reads JSON
            continue
        if value is None:
            continue
        if isinstance(value, Path):
            value = value.resolve()
        env[f"OBSHUB_{name.upper()}"] = str(value)
    env["OBSHUB_STATE_DIR"] = str(settings.state_dir.resolve())
    return env


def answers(url: str, timeout_s: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return bool(200 <= response.status < 300)
    except (urllib.error.URLError, OSError):
        return False


def start(service: Service, settings: HubSettings, timeout_s: float) -> tuple[int, float]:
    """Start `service` in the background and wait until it is ready."""
    argv = [sys.executable, "-m", "hub.cli", service.verb]
    proc = processes.spawn(argv, service.pid_file, service.log_file, child_environment(settings))
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if not processes.is_alive(proc.pid):
            raise ServiceStartError(
                service.name, "it exited during start-up", str(service.log_file)
            )
        if answers(service.ready_url):
            return proc.pid, time.monotonic() - started
        time.sleep(0.25)
    processes.terminate(proc.pid, 5)
    raise ServiceStartError(
        service.name,
        f"{service.ready_url} did not answer within {timeout_s:.0f}s",
        str(service.log_file),
    )
