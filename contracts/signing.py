"""Ed25519 signatures of conventions, in memory and in their files.

A signature is Ed25519 over `contracts.canonical.signing_message` (a context
prefix and the canonical form), written in the convention as standard
base64 (88 characters) under the signing party's id. Both parties sign the
same bytes: the producing partner and the hub operator. Which public key
may verify a party's signature is the trust store's business
(`contracts.keys`), never the convention's.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from contracts.canonical import canonical_bytes, signing_message
from contracts.convention import Convention
from contracts.documents import replace_signatures
from contracts.errors import DocumentError, SigningError
from contracts.loading import parse_convention, read_text

SIGNATURE_BYTES = 64


def encode_signature(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def decode_signature(text: str) -> bytes | None:
    """The raw 64 bytes of a base64 signature, or None if it is malformed."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == SIGNATURE_BYTES else None


def sign_convention(convention: Convention, key: Ed25519PrivateKey) -> str:
    """The base64 signature of `convention` by `key` (signatures excluded)."""
    return encode_signature(key.sign(signing_message(convention)))


def signature_verifies(convention: Convention, signature: str, key: Ed25519PublicKey) -> bool:
    """Whether `signature` is `key`'s signature over `convention` as it is now."""
    raw = decode_signature(signature)
    if raw is None:
        return False
    try:
        key.verify(raw, signing_message(convention))
    except InvalidSignature:
        return False
    return True


def sign_as(convention: Convention, party: str, key: Ed25519PrivateKey) -> Convention:
    """A copy of `convention` with `party`'s signature by `key` added or replaced."""
    return convention.with_signature(party, sign_convention(convention, key))


def sign_file(path: Path, key: Ed25519PrivateKey, party: str) -> Convention:
    """Add or replace `party`'s signature in the convention file at `path`.

    Only the top-level `signatures:` block is rewritten; comments and layout
    elsewhere stay as they were. The new file is parsed again and must have
    the same canonical form before it replaces the old one.
    """
    text = read_text(path)
    convention = parse_convention(text, str(path))
    if party not in convention.signers:
        raise SigningError(
            str(path),
            party,
            f"{party} is not a party (producer {convention.parties.producer}, "
            f"hub operator {convention.parties.hub_operator})",
        )
    signature = sign_convention(convention, key)
    updated = replace_signatures(text, {**convention.signatures, party: signature})
    try:
        signed = parse_convention(updated, str(path))
    except DocumentError as exc:
        raise SigningError(str(path), party, f"the rewritten file does not parse: {exc}") from exc
    if (
        canonical_bytes(signed) != canonical_bytes(convention)
        or signed.signatures.get(party) != signature
    ):
        raise SigningError(str(path), party, "the signatures block could not be rewritten safely")
    temporary = path.with_name(f".{path.name}.signing")
    temporary.write_text(updated, encoding="utf-8")
    temporary.chmod(path.stat().st_mode & 0o777)
    temporary.replace(path)
    return signed
