"""A data drop as messages: header, sealed chunks, signed trailer.

Pure: it turns validated records into the bytes of each Kafka message and
never talks to Kafka itself. The drop id derives from the content (the
extract's bytes, the mapping, the convention, dataset, period and a tag of
the pseudonym secret), so publishing the same extract twice gives the same
drop and the hub ignores the repeat.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from connectors.validation import Tally
from contracts.convention import Convention
from schemas.catalog import SchemaCatalog
from schemas.codec import encode_block, encode_message
from schemas.model import DatasetSchema
from schemas.sealing import DropSealer
from schemas.signing import chunk_digest, sign_trailer

DROP_ID_TAG = b"obshub/drop-id/v1\x00"


def file_digest(path: Path) -> bytes:
    """SHA-256 of a file's bytes, read in 1 MiB pieces."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while piece := stream.read(1 << 20):
            digest.update(piece)
    return digest.digest()


def derive_drop_id(
    convention: Convention,
    dataset: DatasetSchema,
    period: str,
    source_digest: bytes,
    mapping_digest: bytes,
    pseudonym_secret: bytes,
) -> str:
    """32 hex characters naming this extract's drop.

    The secret enters only through an HMAC tag, so the id reveals nothing
    of it, yet a new secret (new pseudonyms) makes a new drop.
    """
    secret_tag = hmac.digest(pseudonym_secret, b"obshub/drop-id-secret-tag", "sha256")
    parts = [
        convention.id.encode(),
        str(convention.version).encode(),
        convention.producer.encode(),
        dataset.dataset_id.encode(),
        dataset.fingerprint,
        period.encode(),
        source_digest,
        mapping_digest,
        secret_tag,
    ]
    digest = hashlib.sha256(DROP_ID_TAG)
    for part in parts:
        digest.update(len(part).to_bytes(4, "big"))
        digest.update(part)
    return digest.hexdigest()[:32]


@dataclass(frozen=True)
class DropIdentity:
    drop_id: str
    convention: Convention
    dataset: DatasetSchema
    period: str
    connector_version: str


class DropWriter:
    """Builds one drop's messages in order: `header()`, `chunk()`…, `trailer()`."""

    def __init__(
        self,
        identity: DropIdentity,
        catalog: SchemaCatalog,
        hub_public_key: bytes,
        signing_key: Ed25519PrivateKey,
        created_at: dt.datetime,
    ) -> None:
        self.identity = identity
        self._header_schema = catalog.protocol("drop_header")
        self._chunk_schema = catalog.protocol("drop_chunk")
        self._trailer_schema = catalog.protocol("drop_trailer")
        self._sealer = DropSealer(hub_public_key, identity.drop_id)
        self._signing_key = signing_key
        self._created_at = created_at
        self._plaintext = hashlib.sha256()
        self._header: bytes | None = None
        self.chunks = 0
        self.records = 0
        self.bytes_sealed = 0

    def header(self) -> bytes:
        ident = self.identity
        self._header = encode_message(
            self._header_schema,
            {
                "drop_id": ident.drop_id,
                "convention_id": ident.convention.id,
                "convention_version": ident.convention.version,
                "partner": ident.convention.producer,
                "dataset": ident.dataset.dataset_id,
                "schema_version": ident.dataset.version,
                "record_schema_fingerprint": ident.dataset.fingerprint,
                "period": ident.period,
                "ephemeral_public_key": self._sealer.ephemeral_public_key,
                "created_at": self._created_at,
                "connector_version": ident.connector_version,
            },
        )
        return self._header

    def count(self, records: Sequence[Mapping[str, Any]]) -> None:
        """Account `records` as a dry run would: encoded, not sealed nor sent."""
        encode_block(self.identity.dataset, records)
        self.chunks += 1
        self.records += len(records)

    def chunks_for(self, records: Sequence[Mapping[str, Any]], max_bytes: int) -> list[bytes]:
        """Sealed chunk messages for `records`, split until each block fits `max_bytes`."""
        plaintext = encode_block(self.identity.dataset, records)
        if len(plaintext) > max_bytes and len(records) > 1:
            half = len(records) // 2
            return self.chunks_for(records[:half], max_bytes) + self.chunks_for(
                records[half:], max_bytes
            )
        return [self._seal(plaintext, len(records))]

    def chunk(self, records: Sequence[Mapping[str, Any]]) -> bytes:
        """One sealed chunk message holding `records` (a non-empty batch)."""
        return self._seal(encode_block(self.identity.dataset, records), len(records))

    def _seal(self, plaintext: bytes, count: int) -> bytes:
        self._plaintext.update(chunk_digest(plaintext))
        nonce, ciphertext = self._sealer.seal(self.chunks, plaintext)
        message = encode_message(
            self._chunk_schema,
            {
                "drop_id": self.identity.drop_id,
                "sequence": self.chunks,
                "record_count": count,
                "nonce": nonce,
                "ciphertext": ciphertext,
            },
        )
        self.chunks += 1
        self.records += count
        self.bytes_sealed += len(ciphertext)
        return message

    def trailer(self, tally: Tally) -> bytes:
        """The closing message: counts, digest, report, the partner's signature."""
        if self._header is None:
            raise RuntimeError("trailer() before header()")  # a bug in the caller
        trailer: dict[str, Any] = {
            "drop_id": self.identity.drop_id,
            "chunk_count": self.chunks,
            "record_count": self.records,
            "plaintext_sha256": self._plaintext.digest(),
            "report": {
                "rows_read": tally.rows_read,
                "rows_accepted": tally.rows_accepted,
                "rows_rejected": tally.rows_rejected,
                "rejections": dict(sorted(tally.rejections.items())),
            },
            "signature": b"",
        }
        trailer["signature"] = sign_trailer(
            self._signing_key, self._header, trailer, self._trailer_schema
        )
        return encode_message(self._trailer_schema, trailer)
