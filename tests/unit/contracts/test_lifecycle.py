"""Where conventions stand: in force, superseded, ended, drafts, overlaps."""

from __future__ import annotations

from datetime import UTC, datetime

from contracts.keys import TrustStore
from contracts.lifecycle import Standing, survey
from contracts.revocation import Revocation, parse_revocation
from contracts.signing import sign_as
from tests.unit.contracts.support import (
    AFTER,
    IN_FORCE,
    build,
    demo_conventions,
    demo_data,
    demo_key,
    signed,
    trust,
    with_changes,
)


def standing_of(conventions: list, convention_id: str, version: int = 1, **kw: object) -> str:
    result = survey(
        conventions,
        kw.get("keys", trust()),  # type: ignore[arg-type]
        kw.get("revocations", ()),  # type: ignore[arg-type]
        kw.get("at", IN_FORCE),  # type: ignore[arg-type]
    )
    status = result.of(convention_id, version)
    assert status is not None
    return f"{status.standing.value}:{status.reason}"


def renewal(version: int = 2, valid_from: str = "2026-01-01") -> object:
    data = with_changes(demo_data(), ("validity", "valid_from"), valid_from)
    return signed({**data, "version": version})


def test_the_demo_conventions_are_all_in_force() -> None:
    result = survey(demo_conventions(), trust(), (), IN_FORCE)
    assert {s.standing for s in result.statuses} == {Standing.IN_FORCE}
    assert len(result.in_force()) == 6


def test_a_renewal_supersedes_the_version_it_renews() -> None:
    conventions = [*demo_conventions(), renewal()]
    assert standing_of(conventions, "caf33-obshub", 1) == "superseded:convention_superseded"
    assert standing_of(conventions, "caf33-obshub", 2) == "in_force:"
    result = survey(conventions, trust(), (), IN_FORCE)
    current = result.current("caf33-obshub")
    assert current is not None and current.convention.version == 2


def test_a_renewal_not_yet_valid_is_a_draft_and_v1_stays_in_force() -> None:
    conventions = [*demo_conventions(), renewal(valid_from="2027-06-01")]
    assert standing_of(conventions, "caf33-obshub", 1) == "in_force:"
    assert standing_of(conventions, "caf33-obshub", 2) == "draft:convention_not_applicable"


def test_an_outdated_copy_is_judged_superseded_not_unknown() -> None:
    v2_only = [c for c in demo_conventions() if c.id != "caf33-obshub"] + [renewal()]
    judged = survey(v2_only, trust(), (), IN_FORCE).judge("caf33-obshub", 1)
    assert judged is not None and judged.reason == "convention_superseded"
    assert "v2" in judged.message
    assert survey(v2_only, trust(), (), IN_FORCE).judge("nobody-obshub", 1) is None


def test_expiry_and_partner_only_drafts() -> None:
    assert standing_of(demo_conventions(), "caf33-obshub", at=AFTER) == "expired:convention_expired"
    partner_only = sign_as(build({**demo_data(), "signatures": {}}), "caf33", demo_key("caf33"))
    others = [c for c in demo_conventions() if c.id != "caf33-obshub"]
    assert standing_of([*others, partner_only], "caf33-obshub") == "draft:convention_not_applicable"


def test_a_withdrawn_key_revokes_but_an_operator_revocation_must_verify() -> None:
    keys = trust()
    without = TrustStore({p: k for p, k in keys.items() if p != "caf33"}, "test")
    assert standing_of(demo_conventions(), "caf33-obshub", keys=without).startswith(
        "revoked:convention_revoked"
    )
    good = Revocation("caf33-obshub", 1, IN_FORCE, "fin", "hub-operator").signed(
        demo_key("hub-operator")
    )
    forged = Revocation("caf33-obshub", 1, IN_FORCE, "fin", "hub-operator").signed(
        demo_key("caf33")
    )
    assert standing_of(demo_conventions(), "caf33-obshub", revocations=(good,)).startswith(
        "revoked"
    )
    assert standing_of(demo_conventions(), "caf33-obshub", revocations=(forged,)) == "in_force:"
    # a revocation ends the versions it names: a later agreement is not revoked
    assert standing_of(
        [*demo_conventions(), renewal()], "caf33-obshub", 2, revocations=(good,)
    ) == ("in_force:")


def test_a_key_withdrawal_names_the_party_not_the_key_store() -> None:
    keys = trust()
    without = TrustStore(
        {p: k for p, k in keys.items() if p != "caf33"}, "/srv/obshub/governance/keys"
    )
    status = survey(demo_conventions(), without, (), IN_FORCE).of("caf33-obshub", 1)
    assert status is not None and status.cause == "key_withdrawn"
    assert status.message == (
        "caf33-obshub v1 revoked by key withdrawal: no trusted public key for caf33"
    )


def test_a_revocation_round_trips_through_its_file() -> None:
    made = Revocation(
        "caf33-obshub", 1, datetime(2026, 12, 7, 20, tzinfo=UTC), "fin à la demande", "hub-operator"
    ).signed(demo_key("hub-operator"))
    read = parse_revocation(made.to_yaml(), "r.yaml")
    assert read.verifies(trust()["hub-operator"])
    tampered = parse_revocation(made.to_yaml().replace("fin à", "fin de"), "r.yaml")
    assert not tampered.verifies(trust()["hub-operator"])


def test_overlapping_territories_make_the_later_convention_a_draft() -> None:
    data = {**demo_data("ccas-le-bouscat"), "id": "ccas-autre-obshub"}
    data = with_changes(data, ("validity", "valid_from"), "2025-06-01")
    data = with_changes(data, ("datasets", "ccas.aides", "territory"), ["33063"])
    data = with_changes(data, ("parties", "producer"), "ccas-le-bouscat")
    clash = signed(data)
    conventions = [*demo_conventions(), clash]
    result = survey(conventions, trust(), (), IN_FORCE)
    status = result.of("ccas-autre-obshub", 1)
    assert status is not None and status.reason == "territory_overlap"
    assert "ccas-bordeaux-obshub v1" in status.message and "ccas.aides" in status.message
    assert standing_of(conventions, "ccas-bordeaux-obshub") == "in_force:"
    assert [s.ref for s in result.providers("ccas.aides")] == [
        "ccas-bordeaux-obshub v1",
        "ccas-le-bouscat-obshub v1",
    ]
