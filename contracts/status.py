"""Is a convention applicable now? Signatures and validity, as problems.

`assess(convention, keys, instant)` is pure: it reads no file and no clock.
A convention is applicable when it has no problem. Codes:

| code | field | meaning |
| --- | --- | --- |
| `unsigned` | `signatures.<party>` | a party (producer or hub operator) has not signed |
| `malformed_signature` | `signatures.<party>` | not base64 of 64 bytes |
| `untrusted_party` | `signatures.<party>` | the trust store has no key for that party |
| `wrong_key` | `signatures.<party>` | signed, but not with that party's trusted key |
| `tampered` | `signatures` | no signature verifies: the content changed after signing |
| `unexpected_signature` | `signatures.<other>` | a signature by someone who is not a party |
| `not_yet_valid` | `validity.valid_from` | the instant is before the first day |
| `expired` | `validity.valid_until` | the instant is after the last day |

Ed25519 cannot tell "changed content" from "another key"; the content is
known intact when another party's signature verifies, so a failure then is
`wrong_key`. A signature that verifies under another party's trusted key is
`wrong_key` too, naming that party; otherwise every failing signature is
reported together as one `tampered` problem.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from contracts.convention import Convention, require_aware
from contracts.keys import TrustStore
from contracts.problems import FieldPath, Problem
from contracts.signing import decode_signature, signature_verifies


class StatusCode(StrEnum):
    UNSIGNED = "unsigned"
    MALFORMED_SIGNATURE = "malformed_signature"
    UNTRUSTED_PARTY = "untrusted_party"
    WRONG_KEY = "wrong_key"
    TAMPERED = "tampered"
    UNEXPECTED_SIGNATURE = "unexpected_signature"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"


def convention_problem(convention: Convention, path: FieldPath, code: str, message: str) -> Problem:
    """A problem located in `convention`'s source file."""
    return convention.problem_at(path, code, message)


def signature_problems(convention: Convention, keys: TrustStore) -> list[Problem]:
    """What keeps the signatures of both parties from verifying under `keys`."""
    problems: list[Problem] = []
    verified: list[str] = []
    failed: list[str] = []
    for party in convention.signers:
        path = ("signatures", party)
        signature = convention.signatures.get(party)
        if signature is None:
            problems.append(
                convention_problem(convention, path, StatusCode.UNSIGNED, f"not signed by {party}")
            )
        elif decode_signature(signature) is None:
            problems.append(
                convention_problem(
                    convention,
                    path,
                    StatusCode.MALFORMED_SIGNATURE,
                    "not an Ed25519 signature (base64 of 64 bytes)",
                )
            )
        elif party not in keys:
            problems.append(
                convention_problem(
                    convention,
                    path,
                    StatusCode.UNTRUSTED_PARTY,
                    f"no trusted public key for {party} in {keys.source}",
                )
            )
        elif signature_verifies(convention, signature, keys[party]):
            verified.append(party)
        else:
            failed.append(party)
    tampered: list[str] = []
    for party in failed:
        signature = convention.signatures[party]
        impostors = [
            other
            for other, key in keys.items()
            if other != party and signature_verifies(convention, signature, key)
        ]
        path = ("signatures", party)
        if impostors:
            message = f"signed with {impostors[0]}'s key, not {party}'s"
        elif verified:
            message = f"does not verify with {party}'s trusted key: signed with another key"
        else:
            tampered.append(party)
            continue
        problems.append(convention_problem(convention, path, StatusCode.WRONG_KEY, message))
    if tampered:
        problems.append(
            convention_problem(
                convention,
                ("signatures",),
                StatusCode.TAMPERED,
                f"signature of {', '.join(tampered)} does not verify: the content changed "
                "after signing (or keys other than the trusted ones signed it)",
            )
        )
    for party in sorted(set(convention.signatures) - set(convention.signers)):
        problems.append(
            convention_problem(
                convention,
                ("signatures", party),
                StatusCode.UNEXPECTED_SIGNATURE,
                f"{party} is not a party to this convention",
            )
        )
    return problems


def validity_problems(convention: Convention, instant: datetime) -> list[Problem]:
    """Whether `instant` (timezone-aware) falls within the validity period."""
    require_aware(instant)
    validity = convention.validity
    zone = validity.timezone
    if instant < validity.starts_at:
        return [
            convention_problem(
                convention,
                ("validity", "valid_from"),
                StatusCode.NOT_YET_VALID,
                f"not yet valid: in force from {validity.valid_from.isoformat()} ({zone})",
            )
        ]
    if instant >= validity.ends_at:
        return [
            convention_problem(
                convention,
                ("validity", "valid_until"),
                StatusCode.EXPIRED,
                f"expired: was in force until {validity.valid_until.isoformat()} ({zone})",
            )
        ]
    return []


def assess(convention: Convention, keys: TrustStore, instant: datetime) -> list[Problem]:
    """Every reason `convention` cannot be applied at `instant`; empty if it can."""
    return signature_problems(convention, keys) + validity_problems(convention, instant)


def is_applicable(convention: Convention, keys: TrustStore, instant: datetime) -> bool:
    return not assess(convention, keys, instant)
