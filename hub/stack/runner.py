"""`obshub up` / `down` / `status`: the embedded stack as one object."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from contracts.principals import ADMIN_PRINCIPAL, KafkaCredentials
from hub.errors import BrokerStartError, PortInUseError
from hub.settings import HubSettings
from hub.stack import broker, jars, processes
from hub.stack.access_plan import AccessPlan, plan_access
from hub.stack.credentials import CredentialStore, ensure_secret
from hub.stack.services import services
from hub.stack.services import start as start_service

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


@dataclass(frozen=True)
class ServiceStatus:
    pid: int | None
    endpoint: str


@dataclass(frozen=True)
class StackStatus:
    kafka: ServiceStatus
    worker: ServiceStatus
    api: ServiceStatus

    def to_json(self) -> dict[str, Any]:
        """The shape of `obshub status --json` (README)."""
        return {
            "kafka": {"pid": self.kafka.pid, "bootstrap": self.kafka.endpoint},
            "worker": {"pid": self.worker.pid, "metrics": self.worker.endpoint},
            "api": {"pid": self.api.pid, "url": self.api.endpoint},
        }

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class UpReport:
    kafka_pid: int
    kafka_started: bool
    kafka_ready_s: float | None
    status: StackStatus


class Stack:
    """The local stack under one state dir, started and stopped as a whole."""

    def __init__(self, settings: HubSettings) -> None:
        self.settings = settings
        self.layout = broker.BrokerLayout(
            root=settings.kafka_dir,
            logs_dir=settings.logs_dir,
            run_dir=settings.run_dir,
            jar_dir=settings.jar_dir,
            version=settings.kafka_version,
            host=settings.kafka_host,
            port=settings.kafka_port,
            controller_port=settings.controller_port,
            heap=settings.kafka_heap,
        )
        self.credentials = CredentialStore(settings.credentials_dir, settings.bootstrap_servers)

    # -- pieces ------------------------------------------------------------

    def ensure_jars(self, progress: Progress = _quiet) -> None:
        """The broker's jars in their cache; fetched (and said so) only when absent."""
        if not jars.jars_present(self.settings.jar_dir):
            progress(
                f"fetching Kafka {self.settings.kafka_version} jars from Maven Central "
                "(once: they are cached)"
            )
        jars.fetch_jars(
            self.settings.deploy_dir / "kafka" / "pom.xml",
            self.settings.kafka_version,
            self.settings.jar_dir,
            self.settings.logs_dir / "maven.log",
        )

    def admin_credentials(self) -> KafkaCredentials:
        return self.credentials.ensure(ADMIN_PRINCIPAL)

    def access_plan(self) -> AccessPlan:
        """Partners, Kafka-channel consumers and raw retention, from the conventions
        as they stand now: a draft gets nothing, an ended convention's partner keeps
        its topics but loses its rights (`contracts.lifecycle`)."""
        import datetime as dt

        from contracts.convention import Channel
        from contracts.lifecycle import Standing
        from hub.context import ConventionBook

        book = ConventionBook(self.settings.conventions_dir, keys_dir=self.settings.keys_dir)
        book.reload_if_changed()
        survey = book.survey(dt.datetime.now(dt.UTC))
        standing = survey.representatives()
        in_force = [s.convention for s in standing if s.standing is Standing.IN_FORCE]
        known = {s.convention.producer for s in standing}
        ended = known - {c.producer for c in in_force}
        partners = known | set(self.settings.partners)
        writers = {c.producer for c in in_force} | (set(self.settings.partners) - ended)
        consumers = {
            name
            for convention in in_force
            for name, terms in convention.consumers.items()
            if terms.allows(Channel.KAFKA)
        }
        retention: dict[str, int] = {}
        for status in standing:
            convention = status.convention
            days = convention.raw_retention_days
            retention[convention.producer] = max(days, retention.get(convention.producer, 0))
        return plan_access(
            tuple(sorted(partners)), tuple(sorted(consumers)), retention, tuple(sorted(writers))
        )

    def start_kafka(self, progress: Progress = _quiet) -> tuple[int, float | None]:
        """Start the broker if it is not running. Returns (pid, seconds to ready or None)."""
        pid = broker.running_pid(self.layout)
        if pid is not None:
            return pid, None
        for port, setting in (
            (self.settings.kafka_port, "OBSHUB_KAFKA_PORT"),
            (self.settings.controller_port, "OBSHUB_CONTROLLER_PORT"),
        ):
            if not processes.port_is_free(self.settings.kafka_host, port):
                raise PortInUseError(self.settings.kafka_host, port, setting)
        self.ensure_jars(progress)
        broker_password = ensure_secret(self.layout.root / "broker.password")
        formatted = broker.is_formatted(self.layout)
        if formatted and not self.credentials.path(ADMIN_PRINCIPAL).exists():
            raise BrokerStartError(
                f"{self.layout.data_dir} holds Kafka data but the admin credentials are gone; "
                f"remove {self.layout.root} to start afresh",
                str(self.layout.log_file),
            )
        admin = self.admin_credentials()
        broker.write_config(self.layout, broker_password)
        if not formatted:
            progress("formatting KRaft storage")
            broker.format_storage(self.layout, broker_password, admin.password)
        progress(f"starting Kafka on {self.settings.bootstrap_servers}")
        pid = broker.start(self.layout)
        ready_s = broker.wait_ready(self.layout, pid, admin, self.settings.kafka_start_timeout_s)
        log.info("kafka ready pid=%d seconds=%.2f", pid, ready_s)
        return pid, ready_s

    def provision(self) -> None:
        """Users, topics and ACLs; their credentials files under the state dir."""
        from hub.stack.provision import apply_plan

        plan = self.access_plan()
        passwords = {user: self.credentials.ensure(user).password for user in plan.users}
        apply_plan(self.admin_credentials(), plan, passwords.__getitem__)

    # -- the verbs ---------------------------------------------------------

    def start_services(
        self, names: tuple[str, ...] = ("worker", "api"), progress: Progress = _quiet
    ) -> None:
        """Start the hub's processes that are not running yet."""
        known = services(self.settings)
        for name in names:
            service = known[name]
            if service.running_pid() is not None:
                continue
            ports = {"worker": self.settings.metrics_port, "api": self.settings.api_port}
            if not processes.wait_port_free("127.0.0.1", ports[name], timeout_s=10.0):
                setting = {"worker": "OBSHUB_METRICS_PORT", "api": "OBSHUB_API_PORT"}[name]
                raise PortInUseError("127.0.0.1", ports[name], setting)
            progress(f"starting the {name}")
            pid, seconds = start_service(
                service, self.settings, self.settings.service_start_timeout_s
            )
            log.info("%s ready pid=%d seconds=%.2f", name, pid, seconds)

    def stop_services(
        self, names: tuple[str, ...] = ("api", "worker"), progress: Progress = _quiet
    ) -> list[str]:
        """Stop the hub's processes among `names` and wait until they are gone."""
        stopped: list[str] = []
        known = services(self.settings)
        for name in names:
            service = known[name]
            pid = service.running_pid()
            if pid is not None:
                progress(f"stopping the {name} (pid {pid})")
                processes.terminate(pid, self.settings.stop_timeout_s)
                stopped.append(name)
            service.pid_file.unlink(missing_ok=True)
        return stopped

    def up(self, progress: Progress = _quiet, with_services: bool = True) -> UpReport:
        started_at = time.monotonic()
        pid, ready_s = self.start_kafka(progress)
        progress("creating users, topics and ACLs")
        self.provision()
        if with_services:
            self.start_services(progress=progress)
        log.info("stack up seconds=%.2f", time.monotonic() - started_at)
        return UpReport(pid, ready_s is not None, ready_s, self.status())

    def down(self, progress: Progress = _quiet) -> list[str]:
        """Stop what runs (SIGTERM, then SIGKILL after the timeout); keep data."""
        stopped = self.stop_services(progress=progress)
        pid = broker.running_pid(self.layout)
        if pid is not None:
            progress(f"stopping Kafka (pid {pid})")
            clean = processes.terminate(pid, self.settings.stop_timeout_s)
            if not clean:
                log.warning(
                    "kafka did not stop within %.0fs and was killed", self.settings.stop_timeout_s
                )
            stopped.append("kafka")
        self.layout.pid_file.unlink(missing_ok=True)
        return stopped

    def status(self) -> StackStatus:
        known = services(self.settings)
        return StackStatus(
            kafka=ServiceStatus(broker.running_pid(self.layout), self.settings.bootstrap_servers),
            worker=ServiceStatus(known["worker"].running_pid(), self.settings.metrics_url),
            api=ServiceStatus(known["api"].running_pid(), self.settings.api_url),
        )


def private_settings(state_dir: Path, **overrides: Any) -> HubSettings:
    """Settings of a stack of one's own under `state_dir`, every port a free one:
    what the test suite and the bench run, never touching a running demo."""
    return HubSettings(
        state_dir=state_dir,
        kafka_port=processes.listening_port(),
        controller_port=processes.listening_port(),
        api_port=processes.listening_port(),
        metrics_port=processes.listening_port(),
        **overrides,
    )
