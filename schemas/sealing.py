"""Sealing a drop's chunks for the hub, and opening them there.

Per drop, the connector draws an ephemeral X25519 key pair and derives one
AES-256-GCM key (docs/wire.md, "Sealing"):

    shared = X25519(ephemeral_private, hub_public)
    key    = HKDF-SHA256(shared, length=32, salt=drop_id (UTF-8),
                         info=b"obshub/drop-chunk/v1" + ephemeral_public + hub_public)

Each chunk gets a random 12-byte nonce; its associated data binds the drop
and the chunk's place in it, so a chunk cannot be reordered, moved to
another drop or have its sequence number changed without failing to open:

    aad = b"obshub/chunk/v1" + len(drop_id) (4 bytes, big-endian) + drop_id
          + sequence (8 bytes, big-endian)

Only the holder of the hub's private key can open a chunk; Kafka and its
operators see ciphertext. Authenticity of the drop as a whole comes from the
partner's signature on the trailer (`schemas.signing`), not from here.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from schemas.errors import KeyFormatError, SealError

KEY_INFO = b"obshub/drop-chunk/v1"
AAD_TAG = b"obshub/chunk/v1"
KEY_LENGTH = 32
NONCE_LENGTH = 12
MAX_SEQUENCE = 2**31 - 1  # drop_chunk.sequence is an Avro int

_RAW = serialization.Encoding.Raw


def generate_hub_keypair() -> tuple[bytes, bytes]:
    """A new hub X25519 key pair as raw bytes: (private, public), 32 bytes each."""
    private = X25519PrivateKey.generate()
    private_bytes = private.private_bytes(
        _RAW, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return private_bytes, private.public_key().public_bytes(_RAW, serialization.PublicFormat.Raw)


def load_x25519_private(raw: bytes) -> X25519PrivateKey:
    """The hub's private key from its 32 raw bytes."""
    if len(raw) != KEY_LENGTH:
        raise KeyFormatError("X25519 private key", f"{len(raw)} bytes, expected {KEY_LENGTH}")
    return X25519PrivateKey.from_private_bytes(raw)


def load_x25519_public(raw: bytes, what: str = "X25519 public key") -> X25519PublicKey:
    if len(raw) != KEY_LENGTH:
        raise KeyFormatError(what, f"{len(raw)} bytes, expected {KEY_LENGTH}")
    return X25519PublicKey.from_public_bytes(raw)


def chunk_associated_data(drop_id: str, sequence: int) -> bytes:
    """The bytes each chunk's AES-GCM tag binds besides its plaintext."""
    drop = drop_id.encode("utf-8")
    return AAD_TAG + len(drop).to_bytes(4, "big") + drop + sequence.to_bytes(8, "big")


def _derive_key(shared: bytes, drop_id: str, ephemeral_public: bytes, hub_public: bytes) -> bytes:
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=KEY_LENGTH,
        salt=drop_id.encode("utf-8"),
        info=KEY_INFO + ephemeral_public + hub_public,
    )
    return hkdf.derive(shared)


def _public_bytes(key: X25519PublicKey) -> bytes:
    return key.public_bytes(_RAW, serialization.PublicFormat.Raw)


def _exchange(private: X25519PrivateKey, public: X25519PublicKey, drop_id: str) -> bytes:
    try:
        return private.exchange(public)
    except ValueError as exc:  # a low-order point gives an all-zero secret
        raise SealError(drop_id, None, "key agreement failed: unusable public key") from exc


def _check_sequence(drop_id: str, sequence: int) -> None:
    if not 0 <= sequence <= MAX_SEQUENCE:
        raise SealError(drop_id, sequence, "sequence is out of range")


class DropSealer:
    """The connector's side: seals one drop's chunks for one hub key."""

    def __init__(self, hub_public_key_bytes: bytes, drop_id: str) -> None:
        hub_public = load_x25519_public(hub_public_key_bytes, "hub X25519 public key")
        ephemeral = X25519PrivateKey.generate()
        self.drop_id = drop_id
        self.ephemeral_public_key = _public_bytes(ephemeral.public_key())
        shared = _exchange(ephemeral, hub_public, drop_id)
        key = _derive_key(shared, drop_id, self.ephemeral_public_key, bytes(hub_public_key_bytes))
        self._aead = AESGCM(key)

    def seal(self, sequence: int, plaintext: bytes) -> tuple[bytes, bytes]:
        """(nonce, ciphertext with its 16-byte tag) for chunk `sequence`."""
        _check_sequence(self.drop_id, sequence)
        nonce = os.urandom(NONCE_LENGTH)
        aad = chunk_associated_data(self.drop_id, sequence)
        return nonce, self._aead.encrypt(nonce, plaintext, aad)


class DropOpener:
    """The hub's side: opens one drop's chunks with the hub's private key."""

    def __init__(
        self, hub_private_key: X25519PrivateKey, ephemeral_public_key: bytes, drop_id: str
    ) -> None:
        self.drop_id = drop_id
        try:
            ephemeral = load_x25519_public(ephemeral_public_key, "ephemeral public key")
        except KeyFormatError as exc:
            raise SealError(drop_id, None, str(exc)) from exc
        shared = _exchange(hub_private_key, ephemeral, drop_id)
        hub_public = _public_bytes(hub_private_key.public_key())
        key = _derive_key(shared, drop_id, bytes(ephemeral_public_key), hub_public)
        self._aead = AESGCM(key)

    def open(self, sequence: int, nonce: bytes, ciphertext: bytes) -> bytes:
        """The plaintext of chunk `sequence`; `SealError` if anything does not match."""
        _check_sequence(self.drop_id, sequence)
        if len(nonce) != NONCE_LENGTH:
            raise SealError(self.drop_id, sequence, f"nonce is {len(nonce)} bytes, expected 12")
        aad = chunk_associated_data(self.drop_id, sequence)
        try:
            return self._aead.decrypt(nonce, ciphertext, aad)
        except InvalidTag as exc:
            raise SealError(
                self.drop_id,
                sequence,
                "does not open: tampered, out of place, or sealed for another key",
            ) from exc
