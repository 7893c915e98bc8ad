"""Errors of the hub side.

HubError
 ├─ StackError                 the embedded stack could not do what was asked
 │   ├─ MissingToolError       `java` or `mvn` is not on PATH
 │   ├─ JarFetchError          Maven could not fetch the Kafka jars
 │   ├─ PortInUseError         a port the stack needs is taken by another program
 │   ├─ BrokerStartError       the broker exited or did not answer in time
 │   ├─ ServiceStartError      the worker or the API exited or did not answer in time
 │   └─ ProvisionError         users, ACLs or topics could not be created
 ├─ AuditTrailError           `hub.audit` could not be read (or a partition is missing)
 ├─ TerritoryError             a territory file (IRIS list, polygons, grid weights)
 │                             is missing, unreadable or inconsistent
 └─ DisclosureError            a table cannot be released as given (a defect
     │                         upstream: a release is never made from it)
     ├─ TableStructureError    negative count, commune row not the sum of its
     │                         IRIS rows, a ratio without denominator, a cell twice
     └─ InconsistentSystemError the published figures contradict the relations
                               the disclosure check assumes

Each carries the context a one-line CLI message needs and a short `reason`
code (`ObshubError`, in `schemas.errors`, is the root of `HubError`); only
the CLI edge (`schemas.cli_edge`) turns them into exit codes.
"""

from __future__ import annotations

from schemas.errors import ObshubError, PlacedError


class HubError(ObshubError):
    """Root of every error raised by `hub`."""

    reason = "hub_error"


class AuditTrailError(HubError):
    """`hub.audit` could not be read."""

    reason = "audit_unreadable"


class StackError(HubError):
    """The embedded stack could not do what was asked."""

    reason = "stack_error"


class MissingToolError(StackError):
    reason = "missing_tool"

    def __init__(self, tool: str, purpose: str) -> None:
        self.tool = tool
        super().__init__(f"`{tool}` is not on PATH; it is needed to {purpose}")


class JarFetchError(StackError):
    reason = "jar_fetch_failed"

    def __init__(self, version: str, detail: str, log_path: str) -> None:
        self.version = version
        super().__init__(
            f"could not fetch the Kafka {version} jars from Maven Central: {detail} "
            f"(full Maven output in {log_path})"
        )


class PortInUseError(StackError):
    reason = "port_in_use"

    def __init__(self, host: str, port: int, setting: str) -> None:
        self.host, self.port = host, port
        super().__init__(
            f"port {port} on {host} is already in use by another program; "
            f"stop it or choose another port with {setting}"
        )


class BrokerStartError(StackError):
    reason = "broker_not_started"

    def __init__(self, detail: str, log_path: str) -> None:
        self.detail = detail
        super().__init__(f"Kafka did not start: {detail} (see {log_path})")


class ServiceStartError(StackError):
    reason = "service_not_started"

    def __init__(self, service: str, detail: str, log_path: str) -> None:
        self.service, self.detail = service, detail
        super().__init__(f"the {service} did not start: {detail} (see {log_path})")


class ProvisionError(PlacedError, StackError):
    reason = "provision_failed"
    label = "could not provision"


class TerritoryError(HubError):
    """A territory file is missing, garbled, or disagrees with the others."""

    reason = "bad_territory"

    def __init__(self, path: str, detail: str, line: int | None = None) -> None:
        self.path, self.detail, self.line = path, detail, line
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"territory {where}: {detail}")


class DisclosureError(HubError):
    """A table cannot be released as given."""

    reason = "disclosure_error"


class TableStructureError(DisclosureError):
    reason = "bad_table_structure"

    def __init__(self, indicator: str, period: str, code: str, detail: str) -> None:
        self.indicator, self.period, self.code, self.detail = indicator, period, code, detail
        super().__init__(f"indicator {indicator} period {period}, cell {code}: {detail}")


class InconsistentSystemError(DisclosureError):
    reason = "inconsistent_system"

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(f"audit: {detail}")
