from pathlib import Path

import pytest

from hub.errors import MissingToolError
from hub.stack.jars import fetch_jars


def test_a_completed_cache_is_reused_without_maven(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    jar_dir = tmp_path / "kafka-3.9.2"
    jar_dir.mkdir()
    (jar_dir / ".complete").write_text("3.9.2\n")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no mvn reachable
    assert fetch_jars(tmp_path / "pom.xml", "3.9.2", jar_dir, tmp_path / "m.log") == jar_dir


def test_an_incomplete_cache_needs_maven(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    jar_dir = tmp_path / "kafka-3.9.2"
    jar_dir.mkdir()  # a download that was cut off: no .complete marker
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(MissingToolError, match="`mvn` is not on PATH"):
        fetch_jars(tmp_path / "pom.xml", "3.9.2", jar_dir, tmp_path / "m.log")
