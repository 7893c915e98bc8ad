"""Pseudonyms: HMAC-SHA256 of an identifier under the partner's secret.

Stable across drops (the hub can count distinct persons over time) and
irreversible without the secret, which never leaves the partner. The secret
is read with `contracts.keys.load_pseudonym_secret`.
"""

from __future__ import annotations

import hashlib
import hmac


class Pseudonymiser:
    """Called once per identifier: one-shot HMAC (about 1 µs here)."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def pseudonym(self, identifier: str) -> str:
        return hmac.digest(self._secret, identifier.encode("utf-8"), hashlib.sha256).hex()
