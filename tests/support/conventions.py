"""Convention files for tests that change them under a running hub.

Variants of the demo conventions are re-signed with the demo keys
(deploy/demo/keys: demo-only keys), exactly as `obshub convention sign`
would, or edited after signing to play a tampered file.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

from contracts.keys import load_signing_key
from contracts.loading import load_convention
from contracts.signing import sign_file

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "deploy" / "demo"
HUB_OPERATOR = "hub-operator"


def _set(text: str, pattern: str, replacement: str) -> str:
    changed, count = re.subn(pattern, replacement, text, count=1, flags=re.MULTILINE)
    assert count == 1, f"no line matches {pattern!r}"
    return changed


def variant(
    partner: str,
    *,
    version: int | None = None,
    valid_until: dt.date | None = None,
    k: int | None = None,
    convention_id: str | None = None,
) -> str:
    """The text of a demo convention with some terms changed (signatures now stale)."""
    text = (DEMO / "conventions" / f"{partner}.yaml").read_text(encoding="utf-8")
    if convention_id is not None:
        text = _set(text, r"^id: .*$", f"id: {convention_id}")
    if version is not None:
        text = _set(text, r"^version: \d+$", f"version: {version}")
    if valid_until is not None:
        text = _set(text, r"^  valid_until: .*$", f"  valid_until: {valid_until.isoformat()}")
    if k is not None:
        text = _set(text, r"^  k: \d+$", f"  k: {k}")
    return text


def write_signed(path: Path, text: str) -> Path:
    """Write `text` and sign it as both of its parties, with the demo keys."""
    path.write_text(text, encoding="utf-8")
    producer = load_convention(path).producer
    for party in (producer, HUB_OPERATOR):
        sign_file(path, load_signing_key(DEMO / "keys" / f"{party}.key"), party)
    return path


def tamper(path: Path, k: int) -> None:
    """Lower the disclosure threshold in place, leaving the signatures as they were."""
    path.write_text(_set(path.read_text(encoding="utf-8"), r"^  k: \d+$", f"  k: {k}"))


def ended_yesterday(timezone: str = "Europe/Paris") -> dt.date:
    """The `valid_until` of a convention whose validity ended at the last midnight."""
    return dt.datetime.now(ZoneInfo(timezone)).date() - dt.timedelta(days=1)


def write_probe(directory: Path, name: str) -> str:
    """An unsigned convention of a new id, so a reload is seen in the worker's
    `obshub_convention_valid_until_seconds`; unsigned, it is never applied."""
    convention_id = f"reload-probe-{name}"
    text = variant("insee", convention_id=convention_id)
    (directory / f"zz-{convention_id}.yaml").write_text(text, encoding="utf-8")
    return convention_id
