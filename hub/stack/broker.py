"""The embedded Kafka broker: KRaft single node, SASL/SCRAM-SHA-512, ACLs on.

Combined broker+controller on 127.0.0.1. The client listener takes
SCRAM-SHA-512; the controller listener (loopback, broker-internal) takes PLAIN
with the broker's own JAAS user, because SCRAM credentials live in the
metadata log the controller serves and cannot authenticate the controller
itself. The StandardAuthorizer denies by default; `admin` and the broker's
principal are super users.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from contracts.principals import ADMIN_PRINCIPAL, BROKER_PRINCIPAL, KafkaCredentials
from hub.errors import BrokerStartError, MissingToolError
from hub.stack import processes

log = logging.getLogger(__name__)

MAIN_CLASS = "kafka.Kafka"
STORAGE_TOOL = "kafka.tools.StorageTool"


def logging_flavour(version: str) -> str:
    """Kafka 3.x logs through reload4j (log4j 1 format), 4.x through log4j2."""
    return "reload4j" if int(version.split(".")[0]) < 4 else "log4j2"


@dataclass(frozen=True)
class BrokerLayout:
    """Where one broker keeps its files, and the ports it listens on."""

    root: Path  # <state>/kafka
    logs_dir: Path
    run_dir: Path
    jar_dir: Path
    version: str
    host: str
    port: int
    controller_port: int
    heap: str

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def server_properties(self) -> Path:
        return self.root / "server.properties"

    @property
    def log4j_properties(self) -> Path:
        return self.root / f"{logging_flavour(self.version)}.properties"

    @property
    def log4j_flag(self) -> str:
        """The JVM option that points the broker's logging at our config."""
        path = self.log4j_properties.resolve()
        if logging_flavour(self.version) == "reload4j":
            return f"-Dlog4j.configuration=file:{path}"
        return f"-Dlog4j2.configurationFile={path}"

    @property
    def pid_file(self) -> Path:
        return self.run_dir / "kafka.pid"

    @property
    def log_file(self) -> Path:
        return self.logs_dir / "kafka.log"

    @property
    def out_file(self) -> Path:
        return self.logs_dir / "kafka.out"

    @property
    def classpath(self) -> str:
        return f"{self.jar_dir}/*"

    @property
    def marker(self) -> str:
        """Text only our broker's command line holds (its properties path)."""
        return str(self.server_properties.resolve())


def render_server_properties(layout: BrokerLayout, broker_password: str) -> str:
    """The broker's `server.properties` (pure: no file is touched)."""
    jaas_scram = (
        "org.apache.kafka.common.security.scram.ScramLoginModule required "
        f'username="{BROKER_PRINCIPAL}" password="{broker_password}";'
    )
    jaas_plain = (
        "org.apache.kafka.common.security.plain.PlainLoginModule required "
        f'username="{BROKER_PRINCIPAL}" password="{broker_password}" '
        f'user_{BROKER_PRINCIPAL}="{broker_password}";'
    )
    lines = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.bootstrap.servers": f"{layout.host}:{layout.controller_port}",
        "listeners": (
            f"CLIENT://{layout.host}:{layout.port},CONTROLLER://{layout.host}:{layout.controller_port}"
        ),
        "advertised.listeners": f"CLIENT://{layout.host}:{layout.port}",
        "listener.security.protocol.map": "CLIENT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT",
        "inter.broker.listener.name": "CLIENT",
        "controller.listener.names": "CONTROLLER",
        "listener.name.client.sasl.enabled.mechanisms": "SCRAM-SHA-512",
        "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
        "sasl.mechanism.inter.broker.protocol": "SCRAM-SHA-512",
        "sasl.mechanism.controller.protocol": "PLAIN",
        "listener.name.client.scram-sha-512.sasl.jaas.config": jaas_scram,
        "listener.name.controller.plain.sasl.jaas.config": jaas_plain,
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "super.users": f"User:{BROKER_PRINCIPAL};User:{ADMIN_PRINCIPAL}",
        "allow.everyone.if.no.acl.found": "false",
        "log.dirs": str(layout.data_dir.resolve()),
        "num.partitions": "1",
        "auto.create.topics.enable": "false",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "5",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": "5",
        "group.initial.rebalance.delay.ms": "0",
        "log.retention.check.interval.ms": "60000",
    }
    if logging_flavour(layout.version) == "log4j2":  # share groups exist from 4.0
        lines["share.coordinator.state.topic.replication.factor"] = "1"
        lines["share.coordinator.state.topic.min.isr"] = "1"
    body = "".join(f"{key}={value}\n" for key, value in lines.items())
    return "# written by `obshub up`; edits are overwritten\n" + body


def render_log4j(layout: BrokerLayout) -> str:
    """Rolling file logs under the state dir, in the flavour of this release."""
    log_file = layout.log_file.resolve()
    if logging_flavour(layout.version) == "reload4j":
        return "\n".join(
            [
                "log4j.rootLogger=INFO, file",
                "log4j.appender.file=org.apache.log4j.RollingFileAppender",
                f"log4j.appender.file.File={log_file}",
                "log4j.appender.file.MaxFileSize=20MB",
                "log4j.appender.file.MaxBackupIndex=3",
                "log4j.appender.file.layout=org.apache.log4j.PatternLayout",
                "log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n",
                # Denied operations are logged at INFO by the authorizer logger.
                "log4j.logger.kafka.authorizer.logger=INFO",
                "",
            ]
        )
    return "\n".join(
        [
            "status = warn",
            "appender.file.type = RollingFile",
            "appender.file.name = FILE",
            f"appender.file.fileName = {log_file}",
            f"appender.file.filePattern = {log_file}.%i",
            "appender.file.layout.type = PatternLayout",
            "appender.file.layout.pattern = [%d] %p %m (%c)%n",
            "appender.file.policies.type = Policies",
            "appender.file.policies.size.type = SizeBasedTriggeringPolicy",
            "appender.file.policies.size.size = 20MB",
            "appender.file.strategy.type = DefaultRolloverStrategy",
            "appender.file.strategy.max = 3",
            "rootLogger.level = INFO",
            "rootLogger.appenderRef.file.ref = FILE",
            # Denied operations are logged at INFO by the authorizer logger.
            "logger.authorizer.name = kafka.authorizer.logger",
            "logger.authorizer.level = INFO",
            "",
        ]
    )


def _java() -> str:
    java = shutil.which("java")
    if java is None:
        raise MissingToolError("java", "run the Kafka broker")
    return java


def write_config(layout: BrokerLayout, broker_password: str) -> None:
    layout.root.mkdir(parents=True, exist_ok=True)
    layout.logs_dir.mkdir(parents=True, exist_ok=True)
    _write_private(layout.server_properties, render_server_properties(layout, broker_password))
    layout.log4j_properties.write_text(render_log4j(layout), encoding="utf-8")


def is_formatted(layout: BrokerLayout) -> bool:
    return (layout.data_dir / "meta.properties").is_file()


def format_storage(layout: BrokerLayout, broker_password: str, admin_password: str) -> None:
    """Format KRaft storage once, with the broker's and admin's SCRAM users."""
    java = _java()
    base = [java, layout.log4j_flag, "-cp", layout.classpath, STORAGE_TOOL]
    cluster_id = (
        subprocess.run([*base, "random-uuid"], capture_output=True, text=True, check=True)
        .stdout.strip()
        .splitlines()[-1]
    )
    cmd = [
        *base,
        "format",
        "--standalone",
        "-t",
        cluster_id,
        "-c",
        str(layout.server_properties),
        "--add-scram",
        f"SCRAM-SHA-512=[name={BROKER_PRINCIPAL},password={broker_password}]",
        "--add-scram",
        f"SCRAM-SHA-512=[name={ADMIN_PRINCIPAL},password={admin_password}]",
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise BrokerStartError(
            "formatting KRaft storage failed: " + (detail[-1] if detail else "no output"),
            str(layout.log_file),
        )
    log.info("formatted storage cluster_id=%s dir=%s", cluster_id, layout.data_dir)


def start(layout: BrokerLayout) -> int:
    """Start the broker in the background; return its pid (not yet ready)."""
    argv = [
        _java(),
        f"-Xms{layout.heap}",
        f"-Xmx{layout.heap}",
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        "-Djava.awt.headless=true",
        layout.log4j_flag,
        "-cp",
        layout.classpath,
        MAIN_CLASS,
        layout.marker,
    ]
    proc = processes.spawn(argv, layout.pid_file, layout.out_file)
    return proc.pid


def running_pid(layout: BrokerLayout) -> int | None:
    return processes.read_pid(layout.pid_file, layout.marker)


def wait_ready(layout: BrokerLayout, pid: int, admin: KafkaCredentials, timeout_s: float) -> float:
    """Wait until the broker answers an authenticated metadata request.

    Returns the seconds waited. Raises if the process dies or time runs out.
    """
    from kafka import KafkaAdminClient  # kafka-python; imported late, it is slow to import

    started = time.monotonic()
    deadline = started + timeout_s
    while time.monotonic() < deadline:
        # By pid, not by command line: /proc/<pid>/cmdline is empty while exec runs.
        if not processes.is_alive(pid):
            raise BrokerStartError(_exit_reason(layout), str(layout.log_file))
        if processes.port_answers(layout.host, layout.port):
            try:
                client = KafkaAdminClient(
                    **admin.kafka_python_config(),
                    request_timeout_ms=5000,
                    bootstrap_timeout_ms=5000,
                )
                try:
                    cluster = client.describe_cluster()
                finally:
                    client.close()
                if cluster.get("brokers"):
                    return time.monotonic() - started
            except Exception as exc:  # not ready yet; the loop decides when to give up
                log.debug("broker not ready: %s", exc)
        time.sleep(0.25)
    raise BrokerStartError(f"no authenticated answer within {timeout_s:.0f}s", str(layout.log_file))


def _exit_reason(layout: BrokerLayout) -> str:
    for path in (layout.log_file, layout.out_file):
        try:
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        for line in reversed(lines):
            if " ERROR " in line or "Exception" in line:
                return "the broker exited: " + line.strip()[:300]
    return "the broker exited during start-up"


def _write_private(path: Path, text: str) -> None:
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(text, encoding="utf-8")
