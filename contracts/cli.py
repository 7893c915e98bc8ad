"""`obshub convention …`: keys, signatures and checks of conventions.

Registered by the root CLI through the `obshub.commands` entry point. Each
command is a thin wrapper: the work is in `contracts.keys`,
`contracts.signing` and `contracts.review`. Reports (one line per problem,
or one OK line per file) go to stdout, with exit code 1 if anything is
wrong; an error that stops a command goes to stderr, exit code 1, through
the CLI edge (`schemas.cli_edge`).
"""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, time
from pathlib import Path

import typer

from contracts.errors import InstantError
from contracts.keys import (
    PSEUDONYM_SUFFIX,
    load_signing_key,
    load_trust_store,
    party_of_key_file,
    write_pseudonym_secret,
)
from contracts.keys import keygen as generate_key_pair
from contracts.lifecycle import Standing, Status, survey
from contracts.loading import load_conventions
from contracts.paths import DEMO_DIR
from contracts.principals import check_principal_name
from contracts.review import FileReport, check_files, format_reports, verify_file
from contracts.revocation import load_revocations, write_revocation
from contracts.revocation import revoke as make_revocation
from contracts.settings import GovernanceSettings
from contracts.signing import sign_file
from schemas.cli_edge import fail, run_or_exit

KEYS_ENV = "OBSHUB_KEYS_DIR"
CONVENTIONS_ENV = "OBSHUB_CONVENTIONS_DIR"

app = typer.Typer(
    help="Conventions: Ed25519 keys, signatures, and checks (form, schemas, signatures, validity).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def default_keys_dir() -> Path:
    """`$OBSHUB_KEYS_DIR`, else the demo keys of this checkout."""
    return GovernanceSettings().keys_dir


def _shown(path: Path) -> Path:
    """`path` relative to the working directory when it is under it."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def parse_instant(text: str | None) -> datetime:
    """An ISO instant with a timezone; a bare date means noon UTC of that day
    (the same calendar day everywhere in France, overseas included)."""
    if text is None:
        return datetime.now(UTC)
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(12), UTC)
        instant = datetime.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is not an ISO date or instant") from exc
    if instant.tzinfo is None:
        raise typer.BadParameter(str(InstantError(text)))
    return instant


def default_conventions_dir() -> Path:
    """`$OBSHUB_CONVENTIONS_DIR`, else the demo conventions of this checkout."""
    return GovernanceSettings().conventions_dir


KEYS_OPTION = typer.Option(
    None, "--keys", help=f"trust store: <party>.pub files (default: ${KEYS_ENV} or demo keys)"
)


@app.command()
def keygen(
    name: str = typer.Argument(..., help="party id, e.g. caf33 or hub-operator"),
    directory: Path | None = typer.Option(
        None, "--dir", help=f"where to write (default: ${KEYS_ENV} or demo keys)"
    ),
    force: bool = typer.Option(False, "--force", help="replace an existing key pair"),
) -> None:
    """Generate an Ed25519 key pair: NAME.key (private, 0600) and NAME.pub."""
    target = directory or default_keys_dir()
    private, public = run_or_exit(lambda: generate_key_pair(target, name, overwrite=force))
    typer.echo(f"private key: {private} (keep it secret)")
    typer.echo(f"public key:  {public} (give it to the other party's trust store)")


@app.command()
def sign(
    file: Path = typer.Argument(..., help="convention YAML file, signed in place"),
    key: Path = typer.Option(..., "--key", help="the signer's private key (<party>.key)"),
    party: str | None = typer.Option(
        None, "--party", help="who signs (default: the key file's name)"
    ),
) -> None:
    """Add or replace one party's signature in a convention file."""
    signer = party or run_or_exit(lambda: party_of_key_file(key))
    private_key = run_or_exit(lambda: load_signing_key(key))
    convention = run_or_exit(lambda: sign_file(file, private_key, signer))
    typer.echo(f"{file}: signed by {signer} ({convention.ref})")


def format_standing(status: Status) -> str:
    """Whether a convention with good signatures is in force, and if not, why."""
    convention = status.convention
    validity = convention.validity
    zone = validity.timezone
    if status.standing is Standing.IN_FORCE:
        return f"in force until {validity.valid_until.isoformat()} ({zone})"
    if status.standing is Standing.EXPIRED:
        until = validity.valid_until.isoformat()
        return f"not in force: expired (it was in force until {until}, {zone})"
    if status.cause == "not_yet_valid":
        since = validity.valid_from.isoformat()
        return f"not in force: not yet valid (in force from {since}, {zone})"
    why = status.message.removeprefix(f"{convention.ref} ")
    return f"not in force: {why}"


def format_verified(report: FileReport, status: Status) -> str:
    """The line of `verify` for a file whose signatures are good."""
    convention = status.convention
    signers = " and ".join(convention.signers)
    return (
        f"{report.file}: signatures OK: {convention.ref} signed by {signers}; "
        f"{format_standing(status)}"
    )


@app.command()
def verify(
    file: Path = typer.Argument(..., help="convention YAML file"),
    keys: Path | None = KEYS_OPTION,
    at: str | None = typer.Option(
        None, "--at", help="instant to say the standing at, ISO 8601 with offset (default: now)"
    ),
) -> None:
    """Check that both parties signed the convention as it is, with trusted keys,
    and say whether it is in force (counting the revocations in revoked/ beside it).

    Exit 1 only if a signature is missing or wrong: a well-signed convention
    that is not in force (expired, not yet valid, revoked) exits 0."""
    instant = parse_instant(at)
    trust = run_or_exit(lambda: load_trust_store(keys or default_keys_dir()))
    report = run_or_exit(lambda: verify_file(file, trust))
    if report.ok and report.convention is not None:
        convention = report.convention
        revocations, _ = load_revocations(file.parent)
        [status] = survey([convention], trust, revocations, instant).statuses
        typer.echo(format_verified(report, status))
        return
    for line in format_reports([report]):
        typer.echo(line)
    raise typer.Exit(1)


@app.command()
def check(
    paths: list[Path] | None = typer.Argument(
        None, help="convention files or directories (default: the demo conventions and catalog)"
    ),
    keys: Path | None = KEYS_OPTION,
    at: str | None = typer.Option(
        None, "--at", help="instant to check validity at, ISO 8601 with offset (default: now)"
    ),
    indicators: Path | None = typer.Option(
        None, "--indicators", help="also check this indicator catalog against the conventions"
    ),
) -> None:
    """Validate conventions (form, field policies, signatures, validity);
    one line per problem and exit 1, or one OK line per file."""
    from schemas.catalog import load_catalog

    instant = parse_instant(at)
    trust = run_or_exit(lambda: load_trust_store(keys or default_keys_dir()))
    if not paths:  # the whole demo: its conventions and its indicator catalog
        paths = [_shown(DEMO_DIR / "conventions")]
        indicators = indicators or _shown(DEMO_DIR / "indicators.yaml")
    targets = paths
    reports = run_or_exit(lambda: check_files(targets, trust, instant, load_catalog(), indicators))
    if not reports:
        fail("no convention file found")
    for line in format_reports(reports):
        typer.echo(line)
    if any(not r.ok for r in reports):
        raise typer.Exit(1)


@app.command()
def secret(
    partner: str = typer.Argument(..., help="partner id, e.g. caf33"),
    directory: Path | None = typer.Option(
        None, "--dir", help=f"where to write (default: ${KEYS_ENV} or demo keys)"
    ),
    force: bool = typer.Option(False, "--force", help="replace an existing secret"),
) -> None:
    """Generate a partner's pseudonymisation secret: PARTNER.pseudonym.key (0600).

    It stays on the partner's side, never goes to the hub; a new secret makes
    new pseudonyms, so keep it with the signing key."""
    path = (directory or default_keys_dir()) / f"{partner}{PSEUDONYM_SUFFIX}"
    run_or_exit(lambda: check_principal_name(partner))
    run_or_exit(lambda: write_pseudonym_secret(path, secrets.token_bytes(32), overwrite=force))
    typer.echo(f"pseudonymisation secret: {path} (keep it secret; never send it)")


@app.command()
def revoke(
    convention_id: str = typer.Argument(..., help="the convention's id"),
    reason: str = typer.Option(..., "--reason", help="why, for consumers and stewards"),
    key: Path | None = typer.Option(
        None, "--key", help="the hub operator's private key (default: <keys>/hub-operator.key)"
    ),
    party: str | None = typer.Option(
        None, "--party", help="who revokes (default: the key file's name)"
    ),
    conventions: Path | None = typer.Option(
        None, "--conventions", help=f"conventions directory (default: ${CONVENTIONS_ENV} or demo)"
    ),
) -> None:
    """Revoke a convention now: every version held is ended, everywhere, at once.

    Writes a revocation signed by the hub operator into the conventions
    directory's revoked/ folder; the worker and the API apply it within
    seconds, and `obshub provision` withdraws the partner's rights."""
    directory = conventions or default_conventions_dir()
    key_file = key or default_keys_dir() / "hub-operator.key"
    signer = party or run_or_exit(lambda: party_of_key_file(key_file))
    private_key = run_or_exit(lambda: load_signing_key(key_file))
    held = run_or_exit(lambda: load_conventions([directory]))
    revocation = run_or_exit(
        lambda: make_revocation(held, convention_id, reason, private_key, signer, datetime.now(UTC))
    )
    path = run_or_exit(lambda: write_revocation(directory, revocation))
    typer.echo(f"{path}: {convention_id} revoked up to v{revocation.up_to_version} by {signer}")
