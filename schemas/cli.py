"""`obshub schema …`: look at the schemas on the wire and check their evolution.

Registered by the root CLI under the name `schema` (entry point
`obshub.commands`). Each command is a thin wrapper; output is built by the
pure `format_*` functions, errors end at the CLI edge (`schemas.cli_edge`).
"""

from __future__ import annotations

from pathlib import Path

import typer

from schemas.catalog import SchemaCatalog, load_catalog
from schemas.cli_edge import run_or_exit
from schemas.evolution import Problem, check_backward
from schemas.model import DatasetSchema

app = typer.Typer(
    help="Avro schemas on the wire: list them, check that new versions read old data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def format_check(catalog: SchemaCatalog, problems: list[Problem]) -> str:
    """One line per problem, or a one-line summary when there is none."""
    if problems:
        return "\n".join(str(problem) for problem in problems)
    evolving = sum(len(catalog.versions(d)) > 1 for d in catalog.datasets())
    return (
        f"OK: {len(catalog.datasets())} datasets, {len(catalog.protocols())} protocol messages, "
        f"{len(catalog)} schemas; every new version reads the previous one "
        f"({evolving} dataset(s) with more than one version)"
    )


def format_listing(catalog: SchemaCatalog) -> str:
    """One line per schema version: name, version, fingerprint, shape."""
    lines = []
    for schema in catalog:
        if isinstance(schema, DatasetSchema):
            shape = f"{schema.grain}, by {schema.location}, {len(schema.fields)} fields"
            name = schema.dataset_id
        else:
            shape, name = f"protocol, {len(schema.fields)} fields", schema.name
        lines.append(f"{name:<28} v{schema.version:<3} {schema.fingerprint.hex()}  {shape}")
    return "\n".join(lines)


def _catalog(root: Path | None) -> SchemaCatalog:
    return run_or_exit(
        lambda: load_catalog() if root is None else SchemaCatalog.from_directory(root)
    )


_ROOT = typer.Option(
    None, "--root", help="a directory with datasets/ and protocol/ instead of the shipped schemas"
)


@app.command()
def check(root: Path | None = _ROOT) -> None:
    """Check that each schema version reads data written with the previous one."""
    catalog = _catalog(root)
    problems = check_backward(catalog)
    typer.echo(format_check(catalog, problems))
    if problems:
        raise typer.Exit(1)


@app.command("list")
def list_schemas(root: Path | None = _ROOT) -> None:
    """List every schema version with its fingerprint."""
    typer.echo(format_listing(_catalog(root)))
