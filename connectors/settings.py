"""The connector's one settings class, read from `OBSHUB_*` environment variables.

A partner's secrets (the Ed25519 signing key and the pseudonymisation
secret) come from files or environment variables named here, never from
the convention. Unset paths default to the partner's files in the key
directory and its client settings under the state dir; the territory's
IRIS reference list defaults to `territory/iris.csv` beside the key
directory, when there is one (the demo's deploy/demo/territory/iris.csv).

The key directory defaults to the demo keys: the checkout's
deploy/demo/keys, or ./deploy/demo/keys of the current directory once
installed (`contracts.paths`). A missing directory or key file is reported
with the `OBSHUB_*` variable that sets it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import Field, SecretStr, model_validator

from connectors.errors import ConnectorError
from connectors.territory import load_iris_reference
from contracts.keys import load_pseudonym_secret, load_sealing_public_key, load_signing_key
from contracts.paths import DEMO_DIR, require_dir, require_file
from contracts.principals import KafkaCredentials, load_credentials
from schemas.errors import PlacedError
from schemas.settings import ObshubSettings


class KeyMaterialError(PlacedError, ConnectorError):
    """A key, secret or credentials file the connector needs cannot be used."""

    reason = "bad_key_material"


def default_territory_file(data: dict[str, Any]) -> Path | None:
    """`<keys_dir>/../territory/iris.csv` if that file exists, else None."""
    candidate = Path(data["keys_dir"]) / ".." / "territory" / "iris.csv"
    return candidate.resolve() if candidate.is_file() else None


class ConnectorSettings(ObshubSettings):
    """Where a partner's connector finds its broker, keys and secrets."""

    state_dir: Path = Path(".obshub")
    keys_dir: Path = Field(DEMO_DIR / "keys", description="trust store and the partner's keys")
    kafka_config: Path | None = Field(None, description="the partner's client properties file")
    signing_key_file: Path | None = None
    signing_key: SecretStr | None = Field(None, description="PEM text, instead of a file")
    pseudonym_secret_file: Path | None = None
    pseudonym_secret: SecretStr | None = Field(None, description="64 hex digits, instead of a file")
    hub_public_key_file: Path | None = None
    chunk_size: int = Field(4000, ge=1, le=100_000)
    receipt_timeout_s: float = Field(
        120.0, gt=0, description="how long `publish` waits for the hub's receipt"
    )
    territory_file: Path | None = Field(
        default_factory=default_territory_file,
        description="the territory's IRIS reference list (INSEE CSV: CODE_IRIS, DEPCOM)",
    )

    @model_validator(mode="after")
    def _keys_dir_exists(self) -> ConnectorSettings:
        """Every publication reads the trust store: a missing key directory is said
        at once, with its setting (not as a path inside site-packages)."""
        require_dir(self.keys_dir, "key directory", "OBSHUB_KEYS_DIR")
        return self

    def kafka_credentials(self, partner: str) -> KafkaCredentials:
        if self.kafka_config is not None:
            return load_credentials(self.kafka_config)
        path = self.state_dir / "credentials" / f"{partner}.properties"
        return load_credentials(
            require_file(path, "Kafka client settings", "OBSHUB_KAFKA_CONFIG or OBSHUB_STATE_DIR")
        )

    def load_signing_key(self, partner: str) -> Ed25519PrivateKey:
        if self.signing_key is not None:
            try:
                key = serialization.load_pem_private_key(
                    self.signing_key.get_secret_value().encode(), password=None
                )
            except (ValueError, TypeError) as exc:
                raise KeyMaterialError("OBSHUB_SIGNING_KEY", "not a PKCS#8 PEM key") from exc
            if not isinstance(key, Ed25519PrivateKey):
                raise KeyMaterialError("OBSHUB_SIGNING_KEY", "not an Ed25519 key")
            return key
        if self.signing_key_file is not None:
            return load_signing_key(self.signing_key_file)
        path = require_file(
            self.keys_dir / f"{partner}.key",
            "signing key",
            "OBSHUB_SIGNING_KEY_FILE or OBSHUB_SIGNING_KEY",
        )
        return load_signing_key(path)

    def load_pseudonym_secret(self, partner: str) -> bytes:
        if self.pseudonym_secret is not None:
            text = self.pseudonym_secret.get_secret_value().strip()
            try:
                secret = bytes.fromhex(text)
            except ValueError as exc:
                raise KeyMaterialError("OBSHUB_PSEUDONYM_SECRET", "expected hex digits") from exc
            if len(secret) != 32:
                raise KeyMaterialError("OBSHUB_PSEUDONYM_SECRET", "expected 32 bytes (64 hex)")
            return secret
        if self.pseudonym_secret_file is not None:
            return load_pseudonym_secret(self.pseudonym_secret_file)
        path = require_file(
            self.keys_dir / f"{partner}.pseudonym.key",
            "pseudonymisation secret",
            "OBSHUB_PSEUDONYM_SECRET_FILE or OBSHUB_PSEUDONYM_SECRET",
        )
        return load_pseudonym_secret(path)

    def load_hub_public_key(self) -> bytes:
        if self.hub_public_key_file is not None:
            return load_sealing_public_key(self.hub_public_key_file).public_bytes_raw()
        path = require_file(
            self.keys_dir / "hub.x25519.pub", "hub public key", "OBSHUB_HUB_PUBLIC_KEY_FILE"
        )
        return load_sealing_public_key(path).public_bytes_raw()

    def load_iris_reference(self) -> frozenset[str] | None:
        """The IRIS codes of the territory's reference list; None without one."""
        if self.territory_file is None:
            return None
        return load_iris_reference(self.territory_file)
