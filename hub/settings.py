"""The hub's one settings class, read from `OBSHUB_*` environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr

from contracts.paths import DEMO_DIR, DEPLOY_DIR, PROJECT_ROOT, require_dir, require_file
from contracts.settings import GovernanceSettings

__all__ = ["GOVERNANCE_PATHS", "PROJECT_ROOT", "HubSettings"]

# The settings that name a file or directory, or a path derived from them:
# what it is, the variable that sets it, and whether it is a directory.
_PATHS: dict[str, tuple[str, str, bool]] = {
    "deploy_dir": ("deploy directory", "OBSHUB_DEPLOY_DIR", True),
    "conventions_dir": ("conventions directory", "OBSHUB_CONVENTIONS_DIR", True),
    "catalog_file": ("indicator catalog", "OBSHUB_CATALOG_FILE", False),
    "keys_dir": ("key directory", "OBSHUB_KEYS_DIR", True),
    "territory_dir": ("territory directory", "OBSHUB_TERRITORY_DIR", True),
    "sealing_key_path": ("hub sealing key", "OBSHUB_SEALING_KEY_FILE", False),
    "operator_key_path": ("hub operator key", "OBSHUB_OPERATOR_KEY_FILE", False),
    "hub_credentials_path": ("hub Kafka client settings", "OBSHUB_HUB_KAFKA_CONFIG", False),
}
GOVERNANCE_PATHS = ("conventions_dir", "catalog_file", "keys_dir", "territory_dir")
"""What the worker and the access API read at start."""


class HubSettings(GovernanceSettings):
    """Settings of every hub process (stack runner, worker, access API).

    Built once in an entry point and passed down; nothing reads the
    environment elsewhere.
    """

    state_dir: Path = Field(Path(".obshub"), description="logs, Kafka data, pids, credentials")
    deploy_dir: Path = Field(DEPLOY_DIR, description="pom, demo territory")

    kafka_host: str = "127.0.0.1"
    kafka_port: int = 9092
    controller_port: int = 9093
    # 3.9 rather than 4.1: librdkafka before 2.6.1 (Debian's kcat, older
    # confluent-kafka clients partners run) cannot authenticate with SCRAM
    # against Kafka 4.x. OBSHUB_KAFKA_VERSION=4.1.1 runs the 4.1 line.
    kafka_version: str = "3.9.2"
    kafka_cache_dir: Path = Field(
        Path.home() / ".cache" / "obshub", description="Maven-fetched jars, outside the work tree"
    )
    kafka_heap: str = "512m"
    kafka_start_timeout_s: float = 90.0
    stop_timeout_s: float = 30.0
    service_start_timeout_s: float = 90.0

    api_host: str = "127.0.0.1"
    api_port: int = 8080
    metrics_port: int = 9108
    metrics_host: str = Field("127.0.0.1", description="0.0.0.0 in a container")

    # Governance material: conventions, indicator catalog, trusted keys, territory.
    # Defaults: the checkout's deploy/demo, else ./deploy/demo (contracts.paths).
    catalog_file: Path = Field(DEMO_DIR / "indicators.yaml")
    sealing_key_file: Path | None = Field(None, description="default: <keys_dir>/hub.x25519")
    territory_dir: Path = Field(DEMO_DIR / "territory")
    hub_kafka_config: Path | None = Field(
        None,
        description="the hub's Kafka client properties file (a partner's is OBSHUB_KAFKA_CONFIG)",
    )

    admin_password: SecretStr | None = Field(
        None, description="the Kafka admin's password, for `provision` on a broker of one's own"
    )

    # The hub operator: its Ed25519 key signs the receipts the worker sends partners.
    operator: str = Field("hub-operator", description="the hub operator's party id")
    operator_key_file: Path | None = Field(None, description="default: <keys_dir>/<operator>.key")

    # The worker
    drop_timeout_s: float = Field(600.0, description="a drop without trailer is rejected after")
    conventions_poll_s: float = Field(
        3.0, gt=0, le=60, description="how often the worker re-reads conventions and keys"
    )
    # The audit trail (worker and API): how often a writer signs its chain's head
    audit_sign_s: float = Field(
        30.0, gt=0, le=3600, description="seconds between signed heads of the audit chain"
    )

    # drops topics made even before a convention names the partner (the demo partners)
    partners: tuple[str, ...] = (
        "caf33",
        "francetravail33",
        "cd33",
        "ccas-bordeaux",
        "ccas-le-bouscat",
        "insee",
    )

    def require(self, *names: str) -> None:
        """Check that the files and directories these settings name exist (default:
        the governance material, `GOVERNANCE_PATHS`); `MissingPathError` names the
        first missing one and the `OBSHUB_*` variable that sets it."""
        for name in names or GOVERNANCE_PATHS:
            what, setting, is_dir = _PATHS[name]
            path: Path = getattr(self, name)
            (require_dir if is_dir else require_file)(path, what, setting)

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.kafka_host}:{self.kafka_port}"

    @property
    def api_url(self) -> str:
        return f"http://{self.api_host}:{self.api_port}"

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    @property
    def credentials_dir(self) -> Path:
        return self.state_dir / "credentials"

    @property
    def access_dir(self) -> Path:
        """The access API's state: `tokens.json`, tokens' hashes only."""
        return self.state_dir / "access"

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def run_dir(self) -> Path:
        return self.state_dir / "run"

    @property
    def kafka_dir(self) -> Path:
        return self.state_dir / "kafka"

    @property
    def sealing_key_path(self) -> Path:
        return self.sealing_key_file or self.keys_dir / "hub.x25519"

    @property
    def operator_key_path(self) -> Path:
        return self.operator_key_file or self.keys_dir / f"{self.operator}.key"

    @property
    def hub_credentials_path(self) -> Path:
        return self.hub_kafka_config or self.credentials_dir / "hub.properties"

    @property
    def jar_dir(self) -> Path:
        return self.kafka_cache_dir / f"kafka-{self.kafka_version}"
