"""Receipts: the hub's signed answer to each drop, on `receipts.<partner>`.

For every drop it reads, the hub writes one `receipt` (Avro single-object
encoding, `schemas/avro/protocol/receipt.v1.avsc`): accepted or rejected,
the reason code, the records it counted and set aside. The hub operator's
Ed25519 key signs it, so a partner can prove what the hub answered:

    b"obshub/receipt/v1\\x00"
    + single-object encoding of the receipt with `signature` = b""
      and `records_rejected` sorted by reason

The partner verifies with the hub operator's public key, the one that
already verifies its convention's operator signature.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from schemas.codec import encode_message
from schemas.errors import ReceiptSignatureError
from schemas.model import ProtocolSchema

RECEIPT_TAG = b"obshub/receipt/v1\x00"


def receipt_signing_payload(receipt: Mapping[str, Any], schema: ProtocolSchema) -> bytes:
    unsigned = dict(
        receipt,
        signature=b"",
        records_rejected=dict(sorted(receipt["records_rejected"].items())),
    )
    return RECEIPT_TAG + encode_message(schema, unsigned)


def sign_receipt(
    receipt: Mapping[str, Any], key: Ed25519PrivateKey, schema: ProtocolSchema
) -> dict[str, Any]:
    """The receipt with its `signature` field filled in."""
    return dict(receipt, signature=key.sign(receipt_signing_payload(receipt, schema)))


def verify_receipt(
    receipt: Mapping[str, Any], key: Ed25519PublicKey, schema: ProtocolSchema
) -> None:
    """Return if the hub operator's key signed this receipt; else `ReceiptSignatureError`."""
    signature = receipt.get("signature")
    drop_id = str(receipt.get("drop_id", "?"))
    if not isinstance(signature, bytes):
        raise ReceiptSignatureError(drop_id, "the receipt carries no signature")
    try:
        key.verify(signature, receipt_signing_payload(receipt, schema))
    except InvalidSignature as exc:
        raise ReceiptSignatureError(
            drop_id, "receipt not signed by the hub operator's key"
        ) from exc
