"""The connector's one settings class, read from `OBSHUB_*` environment variables.

A partner's secrets (the Ed25519 signing key and the pseudonymisation
secret) come from files or environment variables named here, never from
the convention. Unset paths default to the partner's files in the key
directory and its client settings under the state dir; the territory's
IRIS reference list defaults to `territory/iris.csv` beside the key
directory, when there is one (the demo's deploy/demo/territory/iris.csv).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from connectors.errors import ConnectorError
from connectors.territory import load_iris_reference
from contracts.keys import load_pseudonym_secret, load_sealing_public_key, load_signing_key
from contracts.principals import KafkaCredentials, load_credentials

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class KeyMaterialError(ConnectorError):
    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")


def default_territory_file(data: dict[str, Any]) -> Path | None:
    """`<keys_dir>/../territory/iris.csv` if that file exists, else None."""
    candidate = Path(data["keys_dir"]) / ".." / "territory" / "iris.csv"
    return candidate.resolve() if candidate.is_file() else None


class ConnectorSettings(BaseSettings):
    """Where a partner's connector finds its broker, keys and secrets."""

    model_config = SettingsConfigDict(env_prefix="OBSHUB_", frozen=True, extra="ignore")

    state_dir: Path = Path(".obshub")
    keys_dir: Path = Field(PROJECT_ROOT / "deploy" / "demo" / "keys")
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

    def kafka_credentials(self, partner: str) -> KafkaCredentials:
        path = self.kafka_config or self.state_dir / "credentials" / f"{partner}.properties"
        return load_credentials(path)

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
        return load_signing_key(self.signing_key_file or self.keys_dir / f"{partner}.key")

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
        path = self.pseudonym_secret_file or self.keys_dir / f"{partner}.pseudonym.key"
        return load_pseudonym_secret(path)

    def load_hub_public_key(self) -> bytes:
        path = self.hub_public_key_file or self.keys_dir / "hub.x25519.pub"
        return load_sealing_public_key(path).public_bytes_raw()

    def load_iris_reference(self) -> frozenset[str] | None:
        """The IRIS codes of the territory's reference list; None without one."""
        if self.territory_file is None:
            return None
        return load_iris_reference(self.territory_file)
