"""Regenerate the DEMO-ONLY keys under deploy/demo/keys/ and re-sign the demo
conventions with them.

The keys are derived from public seeds (SHA-256 of a fixed label and the
party's name), so running this again writes the very same files and the same
signatures (Ed25519 is deterministic): anyone can recompute them, which is
the point - they protect nothing and must never leave the demo.

    .venv/bin/python deploy/demo/make_demo_keys.py
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from contracts.keys import (
    PSEUDONYM_SUFFIX,
    load_signing_key,
    write_pseudonym_secret,
    write_sealing_key,
    write_signing_key,
)
from contracts.signing import sign_file

DEMO = Path(__file__).resolve().parent
KEYS = DEMO / "keys"
CONVENTIONS = DEMO / "conventions"
PARTNERS = ("caf33", "francetravail33", "cd33", "ccas-bordeaux", "ccas-le-bouscat", "insee")
HUB_OPERATOR = "hub-operator"
HEADER = (
    "DEMO ONLY - obshub demo {what} for {name}, derived from a public seed\n"
    "(deploy/demo/make_demo_keys.py). Anyone can recompute it: never use it outside the demo."
)


def seed(kind: str, name: str) -> bytes:
    return hashlib.sha256(f"obshub demo key v1/{kind}/{name}".encode()).digest()


def main() -> None:
    for party in (*PARTNERS, HUB_OPERATOR):
        key = Ed25519PrivateKey.from_private_bytes(seed("ed25519", party))
        header = HEADER.format(what="Ed25519 signing key", name=party)
        write_signing_key(KEYS, party, key, header=header, overwrite=True)
    for partner in PARTNERS:
        header = HEADER.format(what="pseudonymisation secret", name=partner)
        path = KEYS / f"{partner}{PSEUDONYM_SUFFIX}"
        write_pseudonym_secret(path, seed("pseudonym", partner), header=header, overwrite=True)
    sealing = X25519PrivateKey.from_private_bytes(seed("x25519", "hub"))
    header = HEADER.format(what="X25519 sealing key", name="the hub")
    write_sealing_key(KEYS, sealing, header=header, overwrite=True)

    for partner in PARTNERS:
        path = CONVENTIONS / f"{partner}.yaml"
        for party in (partner, HUB_OPERATOR):
            sign_file(path, load_signing_key(KEYS / f"{party}.key"), party)
        print(f"signed {path.relative_to(DEMO.parent.parent)} ({partner}, {HUB_OPERATOR})")


if __name__ == "__main__":
    main()
