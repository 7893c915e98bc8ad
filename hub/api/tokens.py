"""Bearer tokens of the access API: issued once, stored only as slow hashes.

A token is `<id>.<secret>`: `id` is 8 random bytes in hex that name the
stored record (so a request costs one hash, not one per consumer), `secret`
is 32 random bytes (256 bits) in URL-safe base64. `<state>/access/tokens.json`
(mode 0600) keeps, per consumer, the id, a per-token random salt and
scrypt(secret) — never the token. One token per consumer is active: issuing
a new one replaces the old, `revoke` removes it.

    {"format": 1, "tokens": {"<consumer>": {"id": "…", "salt": "<b64>",
     "hash": "<b64>", "scrypt": {"n": 16384, "r": 8, "p": 1}, "issued_at": "…"}}}

scrypt costs tens of milliseconds by design, too much for every request, so
successful verifications are cached in memory, keyed by an HMAC-SHA256 of
the token under a random per-process key (the token itself is never kept).
The cache is emptied whenever tokens.json changes on disk (inode, size or
mtime), so `obshub access revoke` takes effect at the next request. Hashes
are compared with `hmac.compare_digest`. The id is looked up in a plain
dict: it is not secret, and guessing one does not help to guess the secret.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import secrets
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from contracts.principals import check_principal_name
from hub.api.errors import TokenStoreError

TOKENS_FILE = "tokens.json"
FORMAT = 1
SECRET_BYTES = 32  # 256 bits
ID_BYTES = 8
SALT_BYTES = 16
HASH_BYTES = 32
SCRYPT_N = 2**14  # with r=8: 16 MiB and some 30-60 ms per hash
SCRYPT_R = 8
SCRYPT_P = 1
MAX_TOKEN_LENGTH = 256

Stamp = tuple[int, int, int] | None


@dataclass(frozen=True)
class TokenRecord:
    """What tokens.json keeps of a consumer's active token."""

    consumer: str
    token_id: str
    salt: bytes
    digest: bytes
    n: int
    r: int
    p: int
    issued_at: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.token_id,
            "salt": base64.b64encode(self.salt).decode("ascii"),
            "hash": base64.b64encode(self.digest).decode("ascii"),
            "scrypt": {"n": self.n, "r": self.r, "p": self.p},
            "issued_at": self.issued_at,
        }

    @classmethod
    def from_json(cls, consumer: str, data: Any) -> TokenRecord:
        params = data["scrypt"]
        return cls(
            consumer=check_principal_name(consumer),
            token_id=str(data["id"]),
            salt=base64.b64decode(data["salt"], validate=True),
            digest=base64.b64decode(data["hash"], validate=True),
            n=int(params["n"]),
            r=int(params["r"]),
            p=int(params["p"]),
            issued_at=str(data["issued_at"]),
        )


@dataclass(frozen=True)
class IssuedToken:
    """A freshly issued token: shown once, then only its hash remains."""

    consumer: str
    token: str
    token_id: str
    issued_at: str

    def __repr__(self) -> str:  # never print the token by accident
        return f"IssuedToken({self.consumer}, id={self.token_id})"


def hash_secret(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    """scrypt of a token's secret part."""
    return Scrypt(salt=salt, length=HASH_BYTES, n=n, r=r, p=p).derive(secret.encode("utf-8"))


def split_token(token: str) -> tuple[str, str] | None:
    """(id, secret) of a well-formed token, else None."""
    if len(token) > MAX_TOKEN_LENGTH:
        return None
    token_id, dot, secret = token.partition(".")
    if not dot or len(token_id) != 2 * ID_BYTES or not secret:
        return None
    return token_id, secret


def _utc_now() -> datetime:
    return datetime.now(UTC)


class TokenStore:
    """`<directory>/tokens.json`: issue, revoke and verify consumers' tokens."""

    def __init__(
        self,
        directory: Path,
        *,
        scrypt_n: int = SCRYPT_N,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.directory = directory
        self.path = directory / TOKENS_FILE
        self.scrypt_n = scrypt_n
        self.clock = clock
        self._lock = threading.Lock()
        self._cache_key = secrets.token_bytes(32)
        self._stamp: Stamp = None
        self._loaded = False
        self._by_id: dict[str, TokenRecord] = {}
        self._verified: dict[bytes, str] = {}

    # ---- administration (the CLI)

    def issue(self, consumer: str) -> IssuedToken:
        """A new token for `consumer`, replacing its previous one."""
        check_principal_name(consumer)
        token_id = secrets.token_hex(ID_BYTES)
        secret = secrets.token_urlsafe(SECRET_BYTES)
        salt = secrets.token_bytes(SALT_BYTES)
        issued_at = self.clock().isoformat(timespec="seconds")
        record = TokenRecord(
            consumer,
            token_id,
            salt,
            hash_secret(secret, salt, self.scrypt_n, SCRYPT_R, SCRYPT_P),
            self.scrypt_n,
            SCRYPT_R,
            SCRYPT_P,
            issued_at,
        )
        with self._locked_file():
            records = self._read()
            records[consumer] = record
            self._write(records)
        return IssuedToken(consumer, f"{token_id}.{secret}", token_id, issued_at)

    def revoke(self, consumer: str) -> bool:
        """Remove `consumer`'s token; False if it had none."""
        check_principal_name(consumer)
        with self._locked_file():
            records = self._read()
            if records.pop(consumer, None) is None:
                return False
            self._write(records)
        return True

    def consumers(self) -> list[str]:
        """Consumers with an active token."""
        return sorted(self._read())

    # ---- verification (every request)

    def verify(self, token: str) -> str | None:
        """The consumer whose active token this is, or None."""
        parts = split_token(token)
        if parts is None:
            return None
        token_id, secret = parts
        fast = hmac.new(self._cache_key, token.encode("utf-8"), hashlib.sha256).digest()
        with self._lock:
            stamp = self._refresh()
            consumer = self._verified.get(fast)
            record = self._by_id.get(token_id)
        if consumer is not None:
            return consumer
        if record is None:
            return None
        digest = hash_secret(secret, record.salt, record.n, record.r, record.p)
        if not hmac.compare_digest(digest, record.digest):
            return None
        with self._lock:
            if self._stamp == stamp:  # not revoked or replaced meanwhile
                self._verified[fast] = record.consumer
        return record.consumer

    def _refresh(self) -> Stamp:
        """Re-read the file if it changed; called with the lock held."""
        stamp = self._file_stamp()
        if not self._loaded or stamp != self._stamp:
            records = self._read()
            self._by_id = {r.token_id: r for r in records.values()}
            self._verified.clear()
            self._stamp, self._loaded = stamp, True
        return stamp

    def _file_stamp(self) -> Stamp:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise TokenStoreError(self.path, f"cannot read: {exc.strerror}") from exc
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    # ---- the file

    def _read(self) -> dict[str, TokenRecord]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise TokenStoreError(self.path, f"cannot read: {exc.strerror}") from exc
        try:
            data = json.loads(text)
            if data.get("format") != FORMAT:
                raise ValueError(f"format {data.get('format')!r}, expected {FORMAT}")
            return {
                consumer: TokenRecord.from_json(consumer, entry)
                for consumer, entry in data["tokens"].items()
            }
        except (ValueError, TypeError, KeyError, AttributeError, binascii.Error) as exc:
            raise TokenStoreError(self.path, f"malformed ({exc})") from exc

    def _write(self, records: dict[str, TokenRecord]) -> None:
        document = {
            "format": FORMAT,
            "tokens": {c: records[c].to_json() for c in sorted(records)},
        }
        # mkstemp creates the file 0600; os.replace swaps it in whole.
        fd, temp = tempfile.mkstemp(dir=self.directory, prefix=".tokens.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(document, handle, indent=2)
                handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise TokenStoreError(self.path, f"cannot write: {exc.strerror}") from exc

    @contextlib.contextmanager
    def _locked_file(self) -> Iterator[None]:
        """Serialise read-modify-write between concurrent CLI invocations."""
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            lock = os.open(self.directory / ".tokens.lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise TokenStoreError(self.path, f"cannot write: {exc.strerror}") from exc
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield
        finally:
            os.close(lock)
