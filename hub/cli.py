"""The `obshub` command: stack verbs here, other verb groups by entry point.

Each command is a thin wrapper over the library; library errors become one
line and exit code 1 at the edge (`schemas.cli_edge`), and nowhere else.
"""

from __future__ import annotations

import json
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import typer

from hub.settings import HubSettings
from schemas.cli_edge import configure_logging, fail, run_or_exit

app = typer.Typer(
    name="obshub",
    help="obshub: the governed data-exchange hub for observation partagée.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _say(message: str) -> None:
    typer.echo(f"· {message}", err=True)


def format_status(status: dict[str, Any]) -> str:
    """The human form of `obshub status`."""
    rows = [
        ("kafka", status["kafka"]["pid"], status["kafka"]["bootstrap"]),
        ("worker", status["worker"]["pid"], status["worker"]["metrics"]),
        ("api", status["api"]["pid"], status["api"]["url"]),
    ]
    lines = []
    for name, pid, endpoint in rows:
        state = f"running (pid {pid})" if pid is not None else "stopped"
        lines.append(f"{name:<7} {state:<22} {endpoint}")
    lag = status.get("hub_lag")
    if lag is not None:
        total = sum(lag.values())
        detail = ", ".join(f"{topic} {n}" for topic, n in lag.items() if n)
        lines.append(f"hub lag {total} message(s) on drops.*" + (f" ({detail})" if detail else ""))
    return "\n".join(lines)


HUB_LIBRARIES = ("faust", "fastapi", "scipy", "uvicorn")
TERRITORY_LIBRARIES = ("geopandas", "pyogrio", "pyproj")


def needs_the_hub(libraries: tuple[str, ...] = HUB_LIBRARIES) -> None:
    """One line, not a traceback, when a hub verb runs in a connector-only install."""
    import importlib.util
    import sys

    def absent(name: str) -> bool:
        if name in sys.modules:  # imported already (its spec may be gone)
            return sys.modules[name] is None
        return importlib.util.find_spec(name) is None

    missing = [name for name in libraries if absent(name)]
    if missing:
        fail(
            f"this verb needs the hub's libraries ({', '.join(missing)} missing): "
            "pip install 'obshub[hub]'"
        )


@app.command()
def up() -> None:
    """Start Kafka (KRaft, SCRAM, ACLs) and the hub's processes; idempotent."""
    needs_the_hub()
    from hub.stack import Stack

    stack = Stack(HubSettings())
    report = run_or_exit(lambda: stack.up(_say))
    if report.kafka_started and report.kafka_ready_s is not None:
        _say(f"Kafka answered after {report.kafka_ready_s:.1f}s")
    else:
        _say(f"Kafka already running (pid {report.kafka_pid})")
    typer.echo(format_status(report.status.to_json()))
    typer.echo(f"credentials: {stack.settings.credentials_dir}/<principal>.properties")


@app.command()
def down() -> None:
    """Stop everything `up` started; data is kept, so `up` resumes."""
    from hub.stack import Stack

    stopped = run_or_exit(lambda: Stack(HubSettings()).down(_say))
    typer.echo("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))


@app.command()
def status(as_json: bool = typer.Option(False, "--json", help="machine-readable")) -> None:
    """Report what runs, its endpoints and the hub's consumer lag."""
    from contracts.principals import HUB_APP_ID
    from hub.stack import Stack
    from hub.stack.lag import group_lag

    stack = Stack(HubSettings())
    current = run_or_exit(stack.status).to_json()
    current["hub_lag"] = None
    if current["kafka"]["pid"] is not None:
        current["hub_lag"] = run_or_exit(
            lambda: group_lag(stack.admin_credentials(), HUB_APP_ID, "drops.")
        )
    typer.echo(json.dumps(current) if as_json else format_status(current))


@app.command()
def provision() -> None:
    """Apply the conventions as they stand now to a running broker.

    Users, topics and ACLs of the conventions in force are created; ACLs the
    conventions no longer grant (a revoked or expired convention, a removed
    consumer) are deleted; drafts get nothing. The running worker and API
    follow the conventions directory by themselves within seconds. For
    deployments where the broker is not the embedded one (docker-compose's
    init service) the admin's client settings are written from the password
    in the environment, then every principal's credentials file.
    """
    from contracts.principals import ADMIN_PRINCIPAL, KafkaCredentials
    from hub.stack import Stack
    from hub.stack.credentials import write_credentials

    settings = HubSettings()
    stack = Stack(settings)
    if settings.admin_password is not None:
        password = settings.admin_password.get_secret_value()
        admin = KafkaCredentials(settings.bootstrap_servers, ADMIN_PRINCIPAL, password)
        write_credentials(stack.credentials, admin)
    run_or_exit(stack.provision)
    typer.echo(f"provisioned users, topics and ACLs; credentials in {settings.credentials_dir}")


@app.command()
def report() -> None:
    """Print the convention compliance report (what the Grafana dashboard shows)."""
    import datetime as dt

    from hub.report import fetch_samples, format_report

    samples = run_or_exit(lambda: fetch_samples(HubSettings().metrics_url))
    typer.echo(format_report(samples, dt.datetime.now(dt.UTC)))


@app.command()
def worker() -> None:
    """Run the hub worker (stream processors) in the foreground."""
    needs_the_hub()
    from hub.worker import run_worker

    run_or_exit(lambda: run_worker(HubSettings()))


@app.command()
def api() -> None:
    """Run the access API in the foreground (OBSHUB_API_HOST, OBSHUB_API_PORT)."""
    needs_the_hub()
    from hub.api.server import serve

    run_or_exit(lambda: serve(HubSettings()))


audit_app = typer.Typer(help="The audit trail on hub.audit.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify(
    topic: str = typer.Option("hub.audit", help="the audit topic to read"),
) -> None:
    """Read the audit topic and say, in one line, whether every writer's chain is
    whole and signed by the hub operator's key, or where it breaks (exit 1)."""
    from contracts.keys import load_trust_store
    from contracts.principals import load_credentials
    from hub.audit import verify_chain
    from hub.audit_log import read_trail
    from hub.errors import AuditTrailError
    from schemas.catalog import load_catalog

    settings = HubSettings()

    def verify() -> Any:
        trust = load_trust_store(settings.keys_dir)
        if settings.operator not in trust:
            where = f"{settings.keys_dir}/{settings.operator}.pub"
            raise AuditTrailError(f"no public key of the hub operator: {where} is missing")
        messages = read_trail(load_credentials(settings.hub_credentials_path), topic)
        return verify_chain(messages, load_catalog(), trust[settings.operator])

    verdict = run_or_exit(verify)
    typer.echo(verdict.line())
    if not verdict.whole:
        raise typer.Exit(1)


territory_app = typer.Typer(
    help="The territory: IRIS, QPV, EPCI and zones from the official IGN, INSEE and ANCT files.",
    no_args_is_help=True,
)
app.add_typer(territory_app, name="territory")
MANIFEST_ARGUMENT = typer.Argument(
    ..., help="the territory manifest (YAML) naming the downloaded files and the communes"
)


@territory_app.command("build")
def territory_build(
    manifest: Path = MANIFEST_ARGUMENT,
    out: Path | None = typer.Option(
        None, "--out", help="the territory directory to write (default: $OBSHUB_TERRITORY_DIR)"
    ),
) -> None:
    """Read and check the official files a manifest names, then write the hub's
    territory directory (IRIS, levels, atoms of the overlay)."""
    needs_the_hub(TERRITORY_LIBRARIES)
    from hub.territory_build import build_territory, load_manifest, write_territory

    target = out or HubSettings().territory_dir
    built = run_or_exit(lambda: build_territory(load_manifest(manifest)))
    written = run_or_exit(lambda: write_territory(built, target))
    typer.echo(built.summary())
    _say(f"wrote {len(written)} files to {target}")


@territory_app.command("check")
def territory_check(manifest: Path = MANIFEST_ARGUMENT) -> None:
    """Read and check the files a manifest names, write nothing; say what they make."""
    needs_the_hub(TERRITORY_LIBRARIES)
    from hub.territory_build import build_territory, load_manifest

    built = run_or_exit(lambda: build_territory(load_manifest(manifest)))
    typer.echo(built.summary())


access_app = typer.Typer(help="Bearer tokens of the access API's consumers.", no_args_is_help=True)
app.add_typer(access_app, name="access")


def format_token_note(consumer: str) -> str:
    """What `obshub access token` says beside the token (on stderr)."""
    return (
        f"token for {consumer}, shown once: only its hash is kept. Send it as "
        "`Authorization: Bearer <token>`; a new token for the same consumer replaces it."
    )


@access_app.command("token")
def access_token(
    consumer: str = typer.Argument(..., help="consumer id, e.g. agora-le-bouscat"),
) -> None:
    """Issue a bearer token for CONSUMER (replacing its previous one) and print it once."""
    from hub.api.tokens import TokenStore

    store = TokenStore(HubSettings().access_dir)
    issued = run_or_exit(lambda: store.issue(consumer))
    typer.echo(issued.token)
    _say(format_token_note(consumer))


@access_app.command("revoke")
def access_revoke(consumer: str = typer.Argument(..., help="consumer id")) -> None:
    """Revoke CONSUMER's bearer token; the API refuses it at the next request."""
    from hub.api.tokens import TokenStore

    store = TokenStore(HubSettings().access_dir)
    revoked = run_or_exit(lambda: store.revoke(consumer))
    typer.echo(f"revoked the token of {consumer}" if revoked else f"{consumer} had no token")


@app.command()
def demo(
    once: bool = typer.Option(False, "--once", help="stop the stack afterwards"),
) -> None:
    """Start the stack, publish the demo partners' extracts, print the indicators."""
    needs_the_hub()
    from hub.demo import run_demo
    from hub.stack import Stack

    stack = Stack(HubSettings())
    try:
        summary = run_or_exit(lambda: run_demo(stack, _say))
        typer.echo(summary)
    finally:
        if once:
            stack.down(_say)


def _register_plugins() -> None:
    for entry in entry_points(group="obshub.commands"):
        group = entry.load()
        app.add_typer(group, name=entry.name)


def main() -> None:
    configure_logging()
    _register_plugins()
    app()


if __name__ == "__main__":
    main()
