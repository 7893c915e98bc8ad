"""Pseudonyms: HMAC-SHA256 of an identifier under the partner's secret.

Stable across drops (the hub can count distinct persons over time) and
irreversible without the secret, which never leaves the partner.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from connectors.errors import ConnectorError

MIN_SECRET_BYTES = 32


class SecretError(ConnectorError):
    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")


def parse_secret(text: str, where: str) -> bytes:
    """A pseudonymisation secret written as hex (at least 32 bytes)."""
    try:
        secret = bytes.fromhex(text.strip())
    except ValueError as exc:
        raise SecretError(where, "the pseudonymisation secret must be hex") from exc
    if len(secret) < MIN_SECRET_BYTES:
        raise SecretError(
            where,
            f"the pseudonymisation secret must hold at least "
            f"{MIN_SECRET_BYTES} bytes, it has {len(secret)}",
        )
    return secret


def load_secret(path: Path) -> bytes:
    try:
        return parse_secret(path.read_text(encoding="ascii"), str(path))
    except OSError as exc:
        raise SecretError(str(path), f"cannot read: {exc.strerror}") from exc


class Pseudonymiser:
    """Called once per identifier: one-shot HMAC (about 1 µs here)."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def pseudonym(self, identifier: str) -> str:
        return hmac.digest(self._secret, identifier.encode("utf-8"), hashlib.sha256).hex()
