"""Consent against the files as they are now: re-read on change, fail closed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from contracts.consent import ConsentReason
from hub.api.errors import GovernanceError
from hub.api.governance import Governance
from tests.unit.hub.api_support import CATALOG, CONVENTIONS, EXPIRED, IN_FORCE, KEYS


@pytest.fixture
def conventions(tmp_path: Path) -> Path:
    target = tmp_path / "conventions"
    shutil.copytree(CONVENTIONS, target)
    return target


def test_decisions_follow_the_demo_conventions(conventions: Path) -> None:
    governance = Governance(conventions, CATALOG, KEYS)
    assert governance.decide("observatoire-bordeaux", "defm_cat_a", IN_FORCE).granted
    assert governance.decide("agora-le-bouscat", "caf_allocataires", IN_FORCE).granted
    denied = governance.decide("agora-le-bouscat", "defm_cat_a", IN_FORCE)
    assert denied.reason is ConsentReason.CONSUMER_NOT_NAMED
    expired = governance.decide("observatoire-bordeaux", "defm_cat_a", EXPIRED)
    assert expired.reason is ConsentReason.CONVENTION_EXPIRED


def test_decide_all_lists_the_whole_catalog(conventions: Path) -> None:
    decisions = Governance(conventions, CATALOG, KEYS).decide_all("agora-le-bouscat", IN_FORCE)
    assert len(decisions) == 9
    assert sum(d.granted for _, d in decisions) == 3


def test_a_removed_convention_is_noticed(conventions: Path) -> None:
    governance = Governance(conventions, CATALOG, KEYS)
    assert governance.decide("observatoire-bordeaux", "defm_cat_a", IN_FORCE).granted
    (conventions / "francetravail33.yaml").unlink()
    decision = governance.decide("observatoire-bordeaux", "defm_cat_a", IN_FORCE)
    assert decision.reason is ConsentReason.NO_CONVENTION


def test_files_are_read_once_while_unchanged(
    conventions: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    governance = Governance(conventions, CATALOG, KEYS)
    first = governance.current()
    assert governance.current().conventions is first.conventions
    path = conventions / "caf33.yaml"
    path.write_text(path.read_text() + "\n# touched\n")
    assert governance.current().conventions is not first.conventions


def test_an_unreadable_file_fails_closed_until_fixed(conventions: Path) -> None:
    governance = Governance(conventions, CATALOG, KEYS)
    broken = conventions / "broken.yaml"
    broken.write_text("id: [\n")
    with pytest.raises(GovernanceError, match="conventions"):
        governance.decide("observatoire-bordeaux", "defm_cat_a", IN_FORCE)
    with pytest.raises(GovernanceError):  # still, not the last good copy
        governance.current()
    broken.unlink()
    assert governance.decide("observatoire-bordeaux", "defm_cat_a", IN_FORCE).granted


def test_a_missing_key_directory_fails_closed(conventions: Path, tmp_path: Path) -> None:
    governance = Governance(conventions, CATALOG, tmp_path / "no-keys")
    with pytest.raises(GovernanceError, match="keys"):
        governance.current()
