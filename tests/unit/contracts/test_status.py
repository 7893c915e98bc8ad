from datetime import UTC, datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts.convention import Convention
from contracts.errors import InstantError
from contracts.keys import TrustStore
from contracts.signing import sign_as
from contracts.status import assess, is_applicable
from tests.unit.contracts.support import (
    AFTER,
    BEFORE,
    IN_FORCE,
    build,
    demo_data,
    demo_key,
    signed,
    trust,
    with_changes,
)

PARIS_WINTER = timezone(timedelta(hours=1))


def codes(
    convention: Convention, instant: datetime = IN_FORCE, keys: TrustStore | None = None
) -> list[tuple[str, str]]:
    return [(p.code, p.field) for p in assess(convention, keys or trust(), instant)]


def test_a_signed_convention_in_force_is_applicable() -> None:
    convention = build(demo_data())
    assert assess(convention, trust(), IN_FORCE) == []
    assert is_applicable(convention, trust(), IN_FORCE)


def test_unsigned_names_each_missing_party() -> None:
    convention = build({**demo_data(), "signatures": {}})
    assert codes(convention) == [
        ("unsigned", "signatures.caf33"),
        ("unsigned", "signatures.hub-operator"),
    ]
    half = sign_as(convention, "caf33", demo_key("caf33"))
    assert codes(half) == [("unsigned", "signatures.hub-operator")]


def test_signed_with_another_partys_key() -> None:
    convention = sign_as(build(demo_data()), "caf33", demo_key("cd33"))
    problems = assess(convention, trust(), IN_FORCE)
    assert [(p.code, p.field) for p in problems] == [("wrong_key", "signatures.caf33")]
    assert "cd33's key" in problems[0].message


def test_signed_with_an_unknown_key_while_the_other_signature_holds() -> None:
    convention = sign_as(build(demo_data()), "caf33", Ed25519PrivateKey.generate())
    assert codes(convention) == [("wrong_key", "signatures.caf33")]


def test_tampered_content_is_one_problem_with_file_and_line() -> None:
    data = demo_data()
    tampered = build(with_changes(data, ("disclosure", "k"), 3), "caf33.yaml")
    problems = assess(tampered, trust(), IN_FORCE)
    assert [(p.code, p.field) for p in problems] == [("tampered", "signatures")]
    assert problems[0].file == "caf33.yaml" and problems[0].line is not None
    assert str(problems[0]).startswith(f"caf33.yaml:{problems[0].line}: signatures: ")


def test_a_party_missing_from_the_trust_store() -> None:
    keys = TrustStore({"caf33": trust()["caf33"]}, "somewhere")
    assert codes(build(demo_data()), keys=keys) == [("untrusted_party", "signatures.hub-operator")]


def test_keys_in_the_file_are_never_trusted() -> None:
    # A forger signs with their own key: nothing in the file can make it trusted.
    forger = Ed25519PrivateKey.generate()
    data = with_changes(demo_data(), ("disclosure", "k"), 2)
    convention = build({**data, "signatures": {}})
    for party in convention.signers:
        convention = sign_as(convention, party, forger)
    assert {code for code, _ in codes(convention)} == {"tampered"}


def test_malformed_and_unexpected_signatures() -> None:
    data = demo_data()
    sigs = {**data["signatures"], "caf33": "not-base64", "cd33": data["signatures"]["caf33"]}
    assert codes(build({**data, "signatures": sigs})) == [
        ("malformed_signature", "signatures.caf33"),
        ("unexpected_signature", "signatures.cd33"),
    ]


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        (BEFORE, [("not_yet_valid", "validity.valid_from")]),
        (AFTER, [("expired", "validity.valid_until")]),
        (datetime(2025, 1, 1, 0, 0, tzinfo=PARIS_WINTER), []),  # first day, Paris midnight
        (datetime(2024, 12, 31, 23, 0, tzinfo=UTC), []),  # = 00:00 in Paris
        (datetime(2027, 12, 31, 23, 59, tzinfo=PARIS_WINTER), []),  # last day included
        (datetime(2027, 12, 31, 23, 0, tzinfo=UTC), [("expired", "validity.valid_until")]),
    ],
)
def test_validity_days_are_inclusive_in_the_conventions_timezone(
    instant: datetime, expected: list[tuple[str, str]]
) -> None:
    assert codes(build(demo_data()), instant=instant) == expected


def test_overseas_conventions_use_their_own_timezone() -> None:
    data = with_changes(demo_data(), ("validity", "timezone"), "Indian/Reunion")  # UTC+4
    convention = signed(data)
    assert codes(convention, instant=datetime(2027, 12, 31, 19, 59, tzinfo=UTC)) == []
    assert codes(convention, instant=datetime(2027, 12, 31, 20, 0, tzinfo=UTC)) == [
        ("expired", "validity.valid_until")
    ]


def test_problems_name_the_convention() -> None:
    problem = assess(build(demo_data()), trust(), AFTER)[0]
    assert problem.convention_id == "caf33-obshub"
    assert "expired" in problem.message and "2027-12-31" in problem.message


def test_naive_instants_are_refused() -> None:
    with pytest.raises(InstantError):
        assess(build(demo_data()), trust(), datetime(2026, 1, 1))
