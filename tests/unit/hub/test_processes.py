import subprocess
import sys
import time
from pathlib import Path

from hub.stack import processes


def test_terminate_kills_a_process_that_ignores_sigterm(tmp_path: Path) -> None:
    script = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
    proc = processes.spawn(
        [sys.executable, "-c", script, "stubborn-marker"], tmp_path / "p.pid", tmp_path / "p.out"
    )
    time.sleep(0.3)
    assert processes.read_pid(tmp_path / "p.pid", "stubborn-marker") == proc.pid
    assert processes.terminate(proc.pid, timeout_s=0.5) is False
    assert processes.read_pid(tmp_path / "p.pid", "stubborn-marker") is None


def test_terminate_reports_a_clean_stop(tmp_path: Path) -> None:
    proc = processes.spawn(
        [sys.executable, "-c", "import time; time.sleep(60)"],
        tmp_path / "p.pid",
        tmp_path / "p.out",
    )
    assert processes.terminate(proc.pid, timeout_s=5) is True


def test_read_pid_ignores_a_pid_without_the_marker(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (tmp_path / "p.pid").write_text(str(proc.pid))
        assert processes.read_pid(tmp_path / "p.pid", "kafka.Kafka") is None
    finally:
        proc.kill()
        proc.wait()
