from __future__ import annotations

import hashlib
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from schemas.catalog import load_catalog
from schemas.codec import encode_message
from schemas.errors import KeyFormatError, SignatureMismatchError
from schemas.signing import (
    TRAILER_TAG,
    plaintext_sha256,
    sign_trailer,
    trailer_signing_payload,
    verify_trailer,
)

from .samples import protocol_samples

CATALOG = load_catalog()
SAMPLES = protocol_samples(CATALOG.dataset("caf.allocataires", 1).fingerprint)
HEADER = encode_message(CATALOG.protocol("drop_header"), SAMPLES["drop_header"])
PARTNER = Ed25519PrivateKey.generate()
PARTNER_PUBLIC = PARTNER.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _signed(**changes: Any) -> dict[str, Any]:
    trailer = dict(SAMPLES["drop_trailer"], **changes)
    trailer["signature"] = sign_trailer(PARTNER, HEADER, trailer)
    return trailer


def test_a_signed_trailer_verifies() -> None:
    trailer = _signed()
    assert len(trailer["signature"]) == 64
    verify_trailer(PARTNER_PUBLIC, HEADER, trailer)


def test_payload_layout() -> None:
    trailer = _signed()
    payload = trailer_signing_payload(HEADER, trailer)
    unsigned = encode_message(CATALOG.protocol("drop_trailer"), dict(trailer, signature=b""))
    assert payload == TRAILER_TAG + hashlib.sha256(HEADER).digest() + unsigned


def test_the_rejections_order_does_not_matter() -> None:
    report = dict(SAMPLES["drop_trailer"]["report"], rejections={"a": 1, "b": 2})
    trailer = _signed(report=report)
    reordered = dict(trailer, report=dict(report, rejections={"b": 2, "a": 1}))
    assert verify_trailer(PARTNER_PUBLIC, HEADER, reordered) is None  # raises if it does not verify


@pytest.mark.parametrize(
    "tamper",
    [
        {"record_count": 3},
        {"chunk_count": 2},
        {"drop_id": "drop-2"},
        {"plaintext_sha256": b"\x01" * 32},
        {"report": dict(SAMPLES["drop_trailer"]["report"], rows_rejected=0)},
        {"report": dict(SAMPLES["drop_trailer"]["report"], rejections={})},
    ],
)
def test_a_changed_trailer_does_not_verify(tamper: dict[str, Any]) -> None:
    trailer = dict(_signed(), **tamper)
    with pytest.raises(SignatureMismatchError, match="not signed by this partner's key"):
        verify_trailer(PARTNER_PUBLIC, HEADER, trailer)


def test_another_header_does_not_verify() -> None:
    other = encode_message(
        CATALOG.protocol("drop_header"), dict(SAMPLES["drop_header"], period="2024-05")
    )
    with pytest.raises(SignatureMismatchError) as info:
        verify_trailer(PARTNER_PUBLIC, other, _signed())
    assert info.value.drop_id == "drop-1" and info.value.reason == "bad_signature"


def test_a_flipped_signature_or_another_key_does_not_verify() -> None:
    trailer = _signed()
    flipped = bytes([trailer["signature"][0] ^ 1]) + trailer["signature"][1:]
    with pytest.raises(SignatureMismatchError):
        verify_trailer(PARTNER_PUBLIC, HEADER, dict(trailer, signature=flipped))
    other = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    with pytest.raises(SignatureMismatchError):
        verify_trailer(other, HEADER, trailer)
    with pytest.raises(SignatureMismatchError, match="not 64 bytes"):
        verify_trailer(PARTNER_PUBLIC, HEADER, dict(trailer, signature=b""))
    with pytest.raises(SignatureMismatchError, match="cannot be encoded"):
        verify_trailer(PARTNER_PUBLIC, HEADER, dict(trailer, chunk_count="one"))
    with pytest.raises(KeyFormatError):
        verify_trailer(PARTNER_PUBLIC[:16], HEADER, trailer)


def test_plaintext_digest_is_over_the_concatenation() -> None:
    ab, c = hashlib.sha256(b"ab").digest(), hashlib.sha256(b"c").digest()
    assert plaintext_sha256([b"ab", b"c"]) == hashlib.sha256(ab + c).digest()
    assert plaintext_sha256([b"abc"]) != plaintext_sha256([b"ab", b"c"])  # chunking counts
    assert plaintext_sha256([]) == hashlib.sha256(b"").digest()
