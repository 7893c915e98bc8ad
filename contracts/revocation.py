"""Revocations: the hub operator's signed decision to end a convention now.

`obshub convention revoke ID --reason TEXT` writes one YAML file per
revoked convention into the `revoked/` folder of the conventions
directory, signed with the hub operator's Ed25519 key:

```yaml
convention: ccas-bordeaux-obshub
up_to_version: 2          # every version up to this one is revoked
revoked_at: 2026-12-07T20:10:00+00:00
reason: fin de la convention à la demande du CCAS
hub_operator: hub-operator
signature: <base64 Ed25519 over the canonical form>
```

A later version (signed again by both parties) is not revoked: revoking
ends the agreement as it stands, it does not forbid a new one. A
revocation counts only when its signature verifies under the trust store's
key for `hub_operator` and that party is the convention's hub operator:
a file anyone could drop in the folder must not take indicators down.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from contracts.convention import Convention
from contracts.errors import ContractError
from contracts.signing import decode_signature, encode_signature
from schemas.errors import PlacedError

REVOKED_DIR = "revoked"
SIGNING_CONTEXT = b"obshub/revocation/v1\x00"
REASON_MAX = 500


class RevocationError(PlacedError, ContractError):
    """A revocation file cannot be read, or a revocation cannot be made."""

    reason = "bad_revocation"


@dataclass(frozen=True)
class Revocation:
    convention: str
    up_to_version: int
    revoked_at: datetime
    reason: str
    hub_operator: str
    signature: str = ""
    source: str = "<memory>"

    def content(self) -> dict[str, Any]:
        """What is signed: every field but the signature, JSON-ready."""
        return {
            "convention": self.convention,
            "up_to_version": self.up_to_version,
            "revoked_at": self.revoked_at.isoformat(),
            "reason": unicodedata.normalize("NFC", self.reason),
            "hub_operator": self.hub_operator,
        }

    def message(self) -> bytes:
        text = json.dumps(self.content(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return SIGNING_CONTEXT + text.encode("utf-8")

    def signed(self, key: Ed25519PrivateKey) -> Revocation:
        return Revocation(
            **{**self.__dict__, "signature": encode_signature(key.sign(self.message()))}
        )

    def verifies(self, key: Ed25519PublicKey) -> bool:
        raw = decode_signature(self.signature)
        if raw is None:
            return False
        try:
            key.verify(raw, self.message())
        except InvalidSignature:
            return False
        return True

    def covers(self, convention_id: str, version: int) -> bool:
        return convention_id == self.convention and version <= self.up_to_version

    def to_yaml(self) -> str:
        data = {**self.content(), "signature": self.signature}
        head = (
            "# Revocation of a convention, signed by the hub operator (obshub convention revoke).\n"
        )
        return head + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def revocation_path(conventions_dir: Path, convention_id: str) -> Path:
    return conventions_dir / REVOKED_DIR / f"{convention_id}.yaml"


def revocation_files(conventions_dir: Path) -> list[Path]:
    folder = conventions_dir / REVOKED_DIR
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml"))


def parse_revocation(text: str, source: str) -> Revocation:
    """A revocation from its YAML text; `RevocationError` naming what is wrong."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RevocationError(source, f"not YAML ({str(exc).splitlines()[0]})") from exc
    if not isinstance(data, dict):
        raise RevocationError(source, "not a mapping")
    wanted = ("convention", "up_to_version", "revoked_at", "reason", "hub_operator", "signature")
    missing = [name for name in wanted if name not in data]
    if missing:
        raise RevocationError(source, f"missing {', '.join(missing)}")
    revoked_at = data["revoked_at"]
    if isinstance(revoked_at, str):
        try:
            revoked_at = datetime.fromisoformat(revoked_at)
        except ValueError as exc:
            raise RevocationError(source, "revoked_at is not an ISO 8601 instant") from exc
    if not isinstance(revoked_at, datetime) or revoked_at.tzinfo is None:
        raise RevocationError(source, "revoked_at needs a date, a time and an offset")
    version = data["up_to_version"]
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise RevocationError(source, "up_to_version is not a version number")
    return Revocation(
        convention=str(data["convention"]),
        up_to_version=version,
        revoked_at=revoked_at,
        reason=str(data["reason"])[:REASON_MAX],
        hub_operator=str(data["hub_operator"]),
        signature=str(data["signature"]),
        source=source,
    )


def load_revocations(conventions_dir: Path) -> tuple[list[Revocation], dict[Path, str]]:
    """The revocations of a conventions directory, and the files that could not be read."""
    revocations: list[Revocation] = []
    problems: dict[Path, str] = {}
    for path in revocation_files(conventions_dir):
        try:
            revocations.append(parse_revocation(path.read_text(encoding="utf-8"), str(path)))
        except (OSError, UnicodeDecodeError) as exc:
            problems[path] = f"unreadable ({exc})"
        except RevocationError as exc:
            problems[path] = exc.detail
    return revocations, problems


def write_revocation(conventions_dir: Path, revocation: Revocation) -> Path:
    path = revocation_path(conventions_dir, revocation.convention)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(revocation.to_yaml(), encoding="utf-8")
    temporary.replace(path)
    return path


def revoke(
    conventions: Sequence[Convention],
    convention_id: str,
    reason: str,
    key: Ed25519PrivateKey,
    party: str,
    now: datetime,
) -> Revocation:
    """The signed revocation of every version of `convention_id` held now.

    Only the convention's hub operator may revoke it; the reason is required
    (it is what consumers and stewards will read).
    """
    own = [c for c in conventions if c.id == convention_id]
    if not own:
        raise RevocationError(convention_id, "no such convention in the conventions directory")
    if not reason.strip():
        raise RevocationError(convention_id, "a revocation needs a reason (--reason)")
    operators = {c.parties.hub_operator for c in own}
    if party not in operators:
        raise RevocationError(
            convention_id, f"{party} is not its hub operator ({', '.join(sorted(operators))})"
        )
    revocation = Revocation(
        convention=convention_id,
        up_to_version=max(c.version for c in own),
        revoked_at=now.replace(microsecond=0),
        reason=" ".join(reason.split())[:REASON_MAX],
        hub_operator=party,
    )
    return revocation.signed(key)
