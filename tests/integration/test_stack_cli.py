"""`obshub up / status / down` as a user runs them, on a private state dir."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import free_port

pytestmark = pytest.mark.integration
OBSHUB = [sys.executable, "-m", "hub.cli"]


def run(env: dict[str, str], *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*OBSHUB, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    ports: set[int] = set()
    while len(ports) < 4:  # four distinct ports
        ports.add(free_port())
    kafka, controller, metrics, api = sorted(ports)
    env.update(
        OBSHUB_STATE_DIR=str(tmp_path / "state"),
        OBSHUB_KAFKA_PORT=str(kafka),
        OBSHUB_CONTROLLER_PORT=str(controller),
        OBSHUB_METRICS_PORT=str(metrics),
        OBSHUB_API_PORT=str(api),
        OBSHUB_KAFKA_HEAP="256m",
    )
    return env


def test_up_status_down_up_resumes(cli_env: dict[str, str]) -> None:
    try:
        first = run(cli_env, "up")
        assert first.returncode == 0, first.stderr
        status = json.loads(run(cli_env, "status", "--json").stdout)
        pid = status["kafka"]["pid"]
        assert isinstance(pid, int)
        assert status["kafka"]["bootstrap"] == f"127.0.0.1:{cli_env['OBSHUB_KAFKA_PORT']}"
        assert isinstance(status["worker"]["pid"], int) and isinstance(status["api"]["pid"], int)
        assert status["api"]["url"] == f"http://127.0.0.1:{cli_env['OBSHUB_API_PORT']}"

        again = run(cli_env, "up")  # idempotent: nothing new starts
        assert again.returncode == 0
        assert json.loads(run(cli_env, "status", "--json").stdout)["kafka"]["pid"] == pid

        down = run(cli_env, "down")
        assert down.returncode == 0 and "stopped: api, worker, kafka" in down.stdout
        stopped = json.loads(run(cli_env, "status", "--json").stdout)
        assert [stopped[name]["pid"] for name in ("kafka", "worker", "api")] == [None] * 3

        resumed = run(cli_env, "up")  # keeps data: no second format
        assert resumed.returncode == 0, resumed.stderr
        assert "formatting" not in resumed.stderr
        creds = Path(cli_env["OBSHUB_STATE_DIR"]) / "credentials"
        assert {p.name for p in creds.glob("*.properties")} >= {
            "admin.properties",
            "hub.properties",
            "caf33.properties",
            "observatoire-bordeaux.properties",
        }
        assert (creds / "admin.properties").stat().st_mode & 0o077 == 0
        logs = Path(cli_env["OBSHUB_STATE_DIR"]) / "logs" / "kafka.log"
        assert "Kafka Server started" in logs.read_text(encoding="utf-8")
    finally:
        run(cli_env, "down")


@pytest.mark.skipif(shutil.which("kcat") is None, reason="kcat is installed by `make test`")
def test_kcat_lists_metadata_with_the_admin_file_and_is_refused_otherwise(
    cli_env: dict[str, str],
) -> None:
    try:
        assert run(cli_env, "up").returncode == 0
        creds = Path(cli_env["OBSHUB_STATE_DIR"]) / "credentials"
        ok = subprocess.run(
            ["kcat", "-F", str(creds / "admin.librdkafka.properties"), "-L", "-m", "10"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert ok.returncode == 0, ok.stderr
        assert 'topic "drops.caf33"' in ok.stdout
        wrong = (
            (creds / "admin.librdkafka.properties")
            .read_text()
            .replace("sasl.password=", "sasl.password=wrong")
        )
        (creds.parent / "wrong.properties").write_text(wrong)
        refused = subprocess.run(
            ["kcat", "-F", str(creds.parent / "wrong.properties"), "-L", "-m", "3"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert "Authentication failed" in refused.stderr
        assert "Metadata for all topics" not in refused.stdout
    finally:
        run(cli_env, "down")


def test_demo_publishes_every_indicator_and_its_curl_line_answers(
    cli_env: dict[str, str],
) -> None:
    import httpx

    try:
        demo = run(cli_env, "demo", timeout=400)
        assert demo.returncode == 0, demo.stderr[-3000:]
        lines = demo.stdout.splitlines()
        table = [line for line in lines if "_" in line.split(" ")[0] and "/" in line[-8:]]
        assert len(table) == 9  # one line per catalog indicator
        defm = next(line for line in table if line.startswith("defm_cat_a "))
        for level in ("iris", "qpv", "commune_hors_qpv", "epci", "quartier"):
            assert re.search(rf" {level} \d+/\d+", defm), defm  # areas published/secret
        curl = next(line for line in lines if line.startswith("try:"))
        token = curl.split("Bearer ")[1].split("'")[0]
        url = curl.rsplit("'", 2)[1]
        answer = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert answer.status_code == 200
        rows = answer.json()["rows"]
        assert {row["code"] for row in rows} == {"33063", "33069"}
        again = run(cli_env, "demo", timeout=400)  # idempotent: the same drops, no doubling
        assert again.returncode == 0
        first_table = [line.split()[:4] for line in table]
        second = [
            line.split()[:4]
            for line in again.stdout.splitlines()
            if "_" in line.split(" ")[0] and "/" in line[-8:]
        ]
        assert second == first_table
    finally:
        run(cli_env, "down")


def test_port_in_use_is_one_clear_line(cli_env: dict[str, str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", int(cli_env["OBSHUB_KAFKA_PORT"])))
        sock.listen()
        result = run(cli_env, "up")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1] == (
        f"obshub: error: port {cli_env['OBSHUB_KAFKA_PORT']} on 127.0.0.1 is already in use "
        "by another program; stop it or choose another port with OBSHUB_KAFKA_PORT"
    )
    assert "Traceback" not in result.stderr


def test_missing_java_is_one_clear_line(cli_env: dict[str, str], tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "mvn").symlink_to(shutil.which("mvn") or "/usr/bin/mvn")
    cli_env["PATH"] = str(bin_dir)
    result = run(cli_env, "up")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "obshub: error: `java` is not on PATH; it is needed to run the Kafka broker"
    )
