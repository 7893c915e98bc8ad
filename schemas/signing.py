"""The partner's Ed25519 signature over a drop's trailer.

The signed payload binds the trailer to its header, and through the header
to the convention, dataset, schema and ephemeral key of the drop:

    b"obshub/drop-trailer/v1\\x00"
    + SHA-256(header message bytes, exactly as published)
    + single-object encoding of the trailer with `signature` = b""
      and `report.rejections` sorted by reason

Sorting the map makes the payload independent of the order a dict was
built in, so the hub can recompute it from the trailer it decoded.
The trailer's `plaintext_sha256` covers the chunks' plaintexts through a
hash list (`plaintext_sha256`), so the signature vouches for every record.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from schemas.catalog import load_catalog
from schemas.codec import encode_message
from schemas.errors import InvalidRecordError, KeyFormatError, SignatureMismatchError
from schemas.model import ProtocolSchema

TRAILER_TAG = b"obshub/drop-trailer/v1\x00"
SIGNATURE_LENGTH = 64
PUBLIC_KEY_LENGTH = 32


def chunk_digest(plaintext: bytes) -> bytes:
    """SHA-256 of one chunk's plaintext."""
    return hashlib.sha256(plaintext).digest()


def digest_of_chunks(chunk_digests: Iterable[bytes]) -> bytes:
    """The trailer's `plaintext_sha256` from the chunks' digests in sequence order."""
    digest = hashlib.sha256()
    for one in chunk_digests:
        digest.update(one)
    return digest.digest()


def plaintext_sha256(plaintexts: Iterable[bytes]) -> bytes:
    """The trailer's `plaintext_sha256`: SHA-256 over the SHA-256 of each chunk
    plaintext, in sequence order (a hash list: the hub can check it from the
    per-chunk digests it keeps, without the plaintexts)."""
    return digest_of_chunks(chunk_digest(p) for p in plaintexts)


def trailer_signing_payload(
    header_bytes: bytes, trailer: Mapping[str, Any], schema: ProtocolSchema | None = None
) -> bytes:
    """The bytes the partner signs; `schema` defaults to the latest `drop_trailer`."""
    schema = schema or load_catalog().protocol("drop_trailer")
    unsigned = dict(trailer, signature=b"")
    report = trailer.get("report")
    if isinstance(report, Mapping) and isinstance(report.get("rejections"), Mapping):
        unsigned["report"] = dict(report, rejections=dict(sorted(report["rejections"].items())))
    return TRAILER_TAG + hashlib.sha256(header_bytes).digest() + encode_message(schema, unsigned)


def sign_trailer(
    private_key: Ed25519PrivateKey,
    header_bytes: bytes,
    trailer: Mapping[str, Any],
    schema: ProtocolSchema | None = None,
) -> bytes:
    """The 64-byte signature to put in the trailer's `signature` field."""
    return private_key.sign(trailer_signing_payload(header_bytes, trailer, schema))


def verify_trailer(
    public_key_bytes: bytes,
    header_bytes: bytes,
    trailer: Mapping[str, Any],
    schema: ProtocolSchema | None = None,
) -> None:
    """Return if the trailer's signature is the partner's over this header; else raise."""
    drop_id = str(trailer.get("drop_id", "?"))
    if len(public_key_bytes) != PUBLIC_KEY_LENGTH:
        raise KeyFormatError(
            "Ed25519 public key", f"{len(public_key_bytes)} bytes, expected {PUBLIC_KEY_LENGTH}"
        )
    try:
        public_key = Ed25519PublicKey.from_public_bytes(public_key_bytes)
    except ValueError as exc:
        raise KeyFormatError("Ed25519 public key", "not a valid key") from exc
    signature = trailer.get("signature")
    if not isinstance(signature, bytes) or len(signature) != SIGNATURE_LENGTH:
        raise SignatureMismatchError(drop_id, f"signature is not {SIGNATURE_LENGTH} bytes")
    try:
        payload = trailer_signing_payload(header_bytes, trailer, schema)
    except InvalidRecordError as exc:
        raise SignatureMismatchError(drop_id, f"trailer cannot be encoded: {exc.detail}") from exc
    try:
        public_key.verify(signature, payload)
    except InvalidSignature as exc:
        raise SignatureMismatchError(drop_id, "not signed by this partner's key") from exc
