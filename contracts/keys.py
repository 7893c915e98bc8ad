"""Key files: Ed25519 signing keys, the trust store, pseudonymisation secrets
and the hub's X25519 sealing key.

Formats (all text, so they can be read and diffed; lines starting with `#`
are comments, e.g. the DEMO-ONLY header of the demo keys):

| file | content | mode |
| --- | --- | --- |
| `<party>.key` | Ed25519 private key, PKCS#8 PEM, unencrypted | 0600 |
| `<party>.pub` | Ed25519 public key, SubjectPublicKeyInfo PEM | 0644 |
| `<partner>.pseudonym.key` | pseudonymisation secret: 32 bytes as 64 hex digits | 0600 |
| `hub.x25519` | the hub's X25519 sealing private key, PKCS#8 PEM | 0600 |
| `hub.x25519.pub` | its public key, SubjectPublicKeyInfo PEM (connectors seal to it) | 0644 |

Trust: the keys that verify a convention's signatures come from a key
directory chosen by whoever runs the check (`load_trust_store`), never from
the convention itself. In it, `<party>.pub` is party `<party>`'s key; files
whose stem is not a party name (such as `hub.x25519.pub`) are not signing
keys and are ignored.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from contracts.errors import KeyFileError
from contracts.principals import PrincipalNameError, check_principal_name

PRIVATE_SUFFIX = ".key"
PUBLIC_SUFFIX = ".pub"
PSEUDONYM_SUFFIX = ".pseudonym.key"
SEALING_KEY_NAME = "hub.x25519"
PSEUDONYM_SECRET_BYTES = 32

_HEX_SECRET = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class TrustStore(Mapping[str, Ed25519PublicKey]):
    """The public keys trusted to sign for each party, by party id."""

    public_keys: Mapping[str, Ed25519PublicKey] = field(default_factory=dict)
    source: str = "<memory>"

    def __getitem__(self, party: str) -> Ed25519PublicKey:
        return self.public_keys[party]

    def __iter__(self) -> Iterator[str]:
        return iter(self.public_keys)

    def __len__(self) -> int:
        return len(self.public_keys)


def _header_lines(header: str | None) -> str:
    if not header:
        return ""
    return "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines())


def _write(path: Path, text: str, secret: bool, overwrite: bool) -> None:
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
    try:
        fd = os.open(path, flags, 0o600 if secret else 0o644)
    except FileExistsError as exc:
        raise KeyFileError(path, "exists already; remove it first to replace it") from exc
    except OSError as exc:
        raise KeyFileError(path, f"cannot write: {exc.strerror}") from exc
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        if secret:  # the mode of an existing file is not changed by os.open
            os.fchmod(handle.fileno(), 0o600)
        handle.write(text)


def _read(path: Path) -> bytes:
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not an ASCII key file"
        raise KeyFileError(path, f"cannot read: {reason}") from exc
    kept = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    return ("\n".join(kept) + "\n").encode("ascii")


def _private_pem(key: Ed25519PrivateKey | X25519PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def _public_pem(key: Ed25519PublicKey | X25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def signing_key_paths(directory: Path, party: str) -> tuple[Path, Path]:
    """`(<dir>/<party>.key, <dir>/<party>.pub)`."""
    check_principal_name(party)
    return directory / f"{party}{PRIVATE_SUFFIX}", directory / f"{party}{PUBLIC_SUFFIX}"


def write_signing_key(
    directory: Path,
    party: str,
    key: Ed25519PrivateKey,
    *,
    header: str | None = None,
    overwrite: bool = False,
) -> tuple[Path, Path]:
    """Write `party`'s key pair into `directory`; return both paths."""
    private_path, public_path = signing_key_paths(directory, party)
    directory.mkdir(parents=True, exist_ok=True)
    if not overwrite and public_path.exists():
        raise KeyFileError(public_path, "exists already; remove it first to replace it")
    _write(private_path, _header_lines(header) + _private_pem(key), True, overwrite)
    _write(public_path, _header_lines(header) + _public_pem(key.public_key()), False, overwrite)
    return private_path, public_path


def keygen(directory: Path, party: str, *, overwrite: bool = False) -> tuple[Path, Path]:
    """Generate a fresh Ed25519 key pair for `party` under `directory`."""
    return write_signing_key(directory, party, Ed25519PrivateKey.generate(), overwrite=overwrite)


def party_of_key_file(path: Path) -> str:
    """The party a key file is named after: `caf33.key` → `caf33`."""
    name = path.name
    for suffix in (PRIVATE_SUFFIX, PUBLIC_SUFFIX):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    try:
        return check_principal_name(name)
    except PrincipalNameError as exc:
        raise KeyFileError(path, f"cannot tell the party from the file name: {exc}") from exc


def _load_pem(path: Path, kind: Any, algorithm: str) -> Any:
    """The key of `kind` in a PEM file: PKCS#8 (unencrypted) for a private key,
    SubjectPublicKeyInfo for a public one; `KeyFileError` if it is anything else."""
    private = kind in (Ed25519PrivateKey, X25519PrivateKey)
    try:
        if private:
            key: object = serialization.load_pem_private_key(_read(path), password=None)
        else:
            key = serialization.load_pem_public_key(_read(path))
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        form = (
            "an unencrypted PKCS#8 PEM private" if private else "a SubjectPublicKeyInfo PEM public"
        )
        raise KeyFileError(path, f"not {form} key") from exc
    if not isinstance(key, kind):
        raise KeyFileError(path, f"not an {algorithm} key but {type(key).__name__}")
    return key


def load_signing_key(path: Path) -> Ed25519PrivateKey:
    """An Ed25519 private key from a PKCS#8 PEM file."""
    key: Ed25519PrivateKey = _load_pem(path, Ed25519PrivateKey, "Ed25519")
    return key


def load_verify_key(path: Path) -> Ed25519PublicKey:
    """An Ed25519 public key from a SubjectPublicKeyInfo PEM file."""
    key: Ed25519PublicKey = _load_pem(path, Ed25519PublicKey, "Ed25519")
    return key


def load_trust_store(directory: Path) -> TrustStore:
    """Every `<party>.pub` of `directory`, by party."""
    if not directory.is_dir():
        raise KeyFileError(directory, "no such key directory")
    keys: dict[str, Ed25519PublicKey] = {}
    for path in sorted(directory.glob(f"*{PUBLIC_SUFFIX}")):
        party = path.name[: -len(PUBLIC_SUFFIX)]
        try:
            check_principal_name(party)
        except PrincipalNameError:
            continue  # e.g. hub.x25519.pub: not a party's signing key
        keys[party] = load_verify_key(path)
    return TrustStore(keys, str(directory))


def write_pseudonym_secret(
    path: Path, secret: bytes, *, header: str | None = None, overwrite: bool = False
) -> None:
    """Write a partner's pseudonymisation secret (32 bytes) as hex, mode 0600."""
    if len(secret) != PSEUDONYM_SECRET_BYTES:
        raise KeyFileError(path, f"a pseudonymisation secret is {PSEUDONYM_SECRET_BYTES} bytes")
    path.parent.mkdir(parents=True, exist_ok=True)
    _write(path, _header_lines(header) + secret.hex() + "\n", True, overwrite)


def load_pseudonym_secret(path: Path) -> bytes:
    """A partner's pseudonymisation secret: the HMAC key of its pseudonyms."""
    text = _read(path).decode("ascii").strip().lower()
    if not _HEX_SECRET.match(text):
        raise KeyFileError(path, "expected 64 hexadecimal digits (a 32-byte secret)")
    return bytes.fromhex(text)


def write_sealing_key(
    directory: Path,
    key: X25519PrivateKey,
    *,
    header: str | None = None,
    overwrite: bool = False,
) -> tuple[Path, Path]:
    """Write the hub's X25519 sealing key pair: `hub.x25519` and `hub.x25519.pub`."""
    directory.mkdir(parents=True, exist_ok=True)
    private_path = directory / SEALING_KEY_NAME
    public_path = directory / f"{SEALING_KEY_NAME}{PUBLIC_SUFFIX}"
    _write(private_path, _header_lines(header) + _private_pem(key), True, overwrite)
    _write(public_path, _header_lines(header) + _public_pem(key.public_key()), False, overwrite)
    return private_path, public_path


def load_sealing_private_key(path: Path) -> X25519PrivateKey:
    """The hub's X25519 private key (PKCS#8 PEM), to open sealed chunks."""
    key: X25519PrivateKey = _load_pem(path, X25519PrivateKey, "X25519")
    return key


def load_sealing_public_key(path: Path) -> X25519PublicKey:
    """The hub's X25519 public key (SubjectPublicKeyInfo PEM), to seal chunks to."""
    key: X25519PublicKey = _load_pem(path, X25519PublicKey, "X25519")
    return key
