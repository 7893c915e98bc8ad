"""Who talks to the broker, under which name, on which topics.

Partners and consumers meet the hub only on Kafka topics; their names and
the client settings each principal uses are part of the agreement between
them, so they live here, where both sides can read them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from contracts.errors import ContractError
from schemas.errors import PlacedError

HUB_PRINCIPAL = "hub"
ADMIN_PRINCIPAL = "admin"
BROKER_PRINCIPAL = "broker"
HUB_APP_ID = "obshub-hub"

QUARANTINE_TOPIC = "hub.quarantine"
AGGREGATES_TOPIC = "hub.aggregates"
AUDIT_TOPIC = "hub.audit"
AUDIT_PARTITIONS = 2  # one per writer of the audit chain: the worker's, the API's
INDICATORS_TOPIC = "indicators"
RELEASES_TOPIC = "hub.releases"  # every release ever published: the register

SCRAM_MECHANISM = "SCRAM-SHA-512"

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


class PrincipalNameError(ContractError):
    reason = "bad_principal_name"

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"principal name {name!r} is not valid: use lower-case letters, digits "
            "and '-', at most 63 characters, starting with a letter or digit"
        )


class CredentialsFileError(PlacedError, ContractError):
    reason = "bad_credentials_file"


def check_principal_name(name: str) -> str:
    """Return `name` if it can be a partner or consumer id, else raise."""
    if not _NAME.match(name):
        raise PrincipalNameError(name)
    return name


def drops_topic(partner: str) -> str:
    return f"drops.{check_principal_name(partner)}"


def receipts_topic(partner: str) -> str:
    """Where the hub answers each of `partner`'s drops; only that partner reads it."""
    return f"receipts.{check_principal_name(partner)}"


def consumer_topic(consumer: str) -> str:
    return f"indicators.{check_principal_name(consumer)}"


@dataclass(frozen=True)
class KafkaCredentials:
    """One principal's client settings, as written in its properties file."""

    bootstrap_servers: str
    username: str
    password: str
    security_protocol: str = "SASL_PLAINTEXT"
    mechanism: str = SCRAM_MECHANISM

    def to_properties(self) -> str:
        """Kafka client properties format, readable by any Kafka client."""
        jaas = (
            "org.apache.kafka.common.security.scram.ScramLoginModule required "
            f'username="{self.username}" password="{self.password}";'
        )
        return (
            f"# obshub client settings for principal {self.username}\n"
            f"bootstrap.servers={self.bootstrap_servers}\n"
            f"security.protocol={self.security_protocol}\n"
            f"sasl.mechanism={self.mechanism}\n"
            f"sasl.jaas.config={jaas}\n"
        )

    def to_librdkafka_properties(self) -> str:
        """The same settings for librdkafka clients (kcat, confluent-kafka),
        which refuse Java's `sasl.jaas.config` and take the user apart."""
        return (
            f"# obshub client settings for principal {self.username} (librdkafka form)\n"
            f"bootstrap.servers={self.bootstrap_servers}\n"
            f"security.protocol={self.security_protocol}\n"
            f"sasl.mechanism={self.mechanism}\n"
            f"sasl.username={self.username}\n"
            f"sasl.password={self.password}\n"
        )

    def kafka_python_config(self) -> dict[str, str]:
        """Keyword arguments for kafka-python and aiokafka clients."""
        return {
            "bootstrap_servers": self.bootstrap_servers,
            "security_protocol": self.security_protocol,
            "sasl_mechanism": self.mechanism,
            "sasl_plain_username": self.username,
            "sasl_plain_password": self.password,
        }

    def __repr__(self) -> str:  # never print the password
        return f"KafkaCredentials({self.username}@{self.bootstrap_servers})"


_JAAS_FIELD = re.compile(r'(username|password)="((?:[^"\\]|\\.)*)"')


def parse_properties(text: str) -> dict[str, str]:
    """Parse the `key=value` lines of a Java properties file (no continuations)."""
    props: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#!":
            continue
        key, sep, value = line.partition("=")
        if sep:
            props[key.strip()] = value.strip()
    return props


def credentials_from_properties(props: Mapping[str, str], source: Path) -> KafkaCredentials:
    try:
        bootstrap = props["bootstrap.servers"]
        jaas = props["sasl.jaas.config"]
    except KeyError as exc:
        raise CredentialsFileError(source, f"missing {exc.args[0]}") from exc
    fields = dict(_JAAS_FIELD.findall(jaas))
    if "username" not in fields or "password" not in fields:
        raise CredentialsFileError(source, "sasl.jaas.config has no username or password")
    return KafkaCredentials(
        bootstrap_servers=bootstrap,
        username=fields["username"],
        password=fields["password"],
        security_protocol=props.get("security.protocol", "SASL_PLAINTEXT"),
        mechanism=props.get("sasl.mechanism", SCRAM_MECHANISM),
    )


def load_credentials(path: Path) -> KafkaCredentials:
    """Read a principal's client properties file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CredentialsFileError(path, f"cannot read: {exc.strerror}") from exc
    return credentials_from_properties(parse_properties(text), path)
