"""Fetch the Kafka broker's jars from Maven Central into a cache directory."""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

from hub.errors import JarFetchError, MissingToolError
from hub.stack.broker import logging_flavour

log = logging.getLogger(__name__)

_COMPLETE = ".complete"


def jars_present(jar_dir: Path) -> bool:
    """A cache directory counts only once a fetch has finished into it."""
    return (jar_dir / _COMPLETE).is_file()


def fetch_jars(pom: Path, version: str, jar_dir: Path, log_path: Path) -> Path:
    """Make sure `jar_dir` holds the broker classpath for Kafka `version`.

    A second call finds the completed cache and runs nothing. The fetch goes
    to a sibling temporary directory renamed into place at the end, so an
    interrupted download never leaves a half-filled cache that looks usable.
    """
    if jars_present(jar_dir):
        return jar_dir
    mvn = shutil.which("mvn")
    if mvn is None:
        raise MissingToolError("mvn", "fetch the Kafka jars from Maven Central")
    jar_dir.parent.mkdir(parents=True, exist_ok=True)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".kafka-{version}-", dir=jar_dir.parent))
    cmd = [
        mvn,
        "-B",
        "-q",
        "-f",
        str(pom),
        "dependency:copy-dependencies",
        f"-Dkafka.version={version}",
        f"-Dkafka.logging={logging_flavour(version)}",
        "-DincludeScope=runtime",
        f"-DoutputDirectory={staging}",
    ]
    log.info("fetching jars version=%s into=%s", version, jar_dir)
    with log_path.open("w", encoding="utf-8") as out:
        result = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, check=False)
    if result.returncode != 0 or not any(staging.glob("kafka_2.13-*.jar")):
        shutil.rmtree(staging, ignore_errors=True)
        raise JarFetchError(version, _first_error(log_path), str(log_path))
    (staging / _COMPLETE).write_text(version + "\n", encoding="utf-8")
    if jar_dir.exists():  # an older incomplete attempt
        shutil.rmtree(jar_dir)
    staging.rename(jar_dir)
    return jar_dir


def _first_error(log_path: Path) -> str:
    for line in log_path.read_text(encoding="utf-8", errors="replace").splitlines():
        if "[ERROR]" in line:
            return line.replace("[ERROR]", "").strip()[:300]
    return "mvn failed without an [ERROR] line"
