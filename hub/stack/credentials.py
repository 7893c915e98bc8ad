"""Each principal's password and client properties file under the state dir."""

from __future__ import annotations

import secrets
from pathlib import Path

from contracts.principals import KafkaCredentials, check_principal_name, load_credentials


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(text, encoding="utf-8")


def new_password() -> str:
    return secrets.token_urlsafe(24)


class CredentialStore:
    """`<state>/credentials/<principal>.properties`, mode 0600.

    Beside each, `<principal>.librdkafka.properties` holds the same settings
    in the form librdkafka clients (kcat, confluent-kafka) read.

    A principal's password is generated once and kept, so `up` after `down`
    resumes with the same users; the bootstrap address follows the settings.
    """

    def __init__(self, directory: Path, bootstrap_servers: str) -> None:
        self.directory = directory
        self.bootstrap_servers = bootstrap_servers

    def path(self, principal: str) -> Path:
        return self.directory / f"{check_principal_name(principal)}.properties"

    def ensure(self, principal: str) -> KafkaCredentials:
        path = self.path(principal)
        password = load_credentials(path).password if path.exists() else new_password()
        creds = KafkaCredentials(self.bootstrap_servers, principal, password)
        if not path.exists() or load_credentials(path) != creds:
            _write_private(path, creds.to_properties())
            _write_private(self.librdkafka_path(principal), creds.to_librdkafka_properties())
        elif not self.librdkafka_path(principal).exists():
            _write_private(self.librdkafka_path(principal), creds.to_librdkafka_properties())
        return creds

    def librdkafka_path(self, principal: str) -> Path:
        return self.directory / f"{check_principal_name(principal)}.librdkafka.properties"

    def get(self, principal: str) -> KafkaCredentials:
        return load_credentials(self.path(principal))


def ensure_secret(path: Path) -> str:
    """A random secret kept in `path` (created once, mode 0600)."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    value = new_password()
    _write_private(path, value + "\n")
    return value


def write_credentials(store: CredentialStore, creds: KafkaCredentials) -> None:
    """Write a principal's settings files as given (e.g. an admin password set outside)."""
    _write_private(store.path(creds.username), creds.to_properties())
    _write_private(store.librdkafka_path(creds.username), creds.to_librdkafka_properties())
