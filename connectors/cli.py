"""`obshub connector …`: what a partner's IT team runs, usually from a scheduled job."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from connectors.errors import ConnectorError
from connectors.publish import PublishReport, PublishRequest, publish_extract
from connectors.settings import ConnectorSettings
from contracts.errors import ContractError
from schemas.errors import SchemaError

app = typer.Typer(
    help="Partner connectors: validate an extract against its convention, "
    "pseudonymise, seal and publish it as one data drop.",
    no_args_is_help=True,
)


def format_report(report: PublishReport) -> str:
    """The human report: counts, then each rejection reason with example rows."""
    t = report.tally
    if report.dry_run:
        state = "dry run: nothing sent"
    elif report.published:
        state = f"published to {report.topic}"
    else:
        state = "NOT published: no valid row"
    lines = [
        f"drop {report.drop_id} ({report.dataset}, period {report.period}): {state}",
        f"source: {report.source}",
        f"rows read {t.rows_read}, accepted {t.rows_accepted}, rejected {t.rows_rejected}"
        + (f", in {report.chunks} chunk(s), {report.seconds:.1f}s" if report.chunks else ""),
    ]
    for reason, count in sorted(t.rejections.items(), key=lambda item: (-item[1], item[0])):
        rows = ", ".join(str(n) for n in t.examples.get(reason, []))
        more = ", …" if count > len(t.examples.get(reason, [])) else ""
        lines.append(f"  rejected {count:>7} {reason} (rows {rows}{more})")
    return "\n".join(lines)


@app.command()
def publish(
    convention: Path = typer.Option(..., help="the partner's signed convention (YAML)"),
    source: Path = typer.Option(..., help="the extract: .csv, .xlsx or .jsonl"),
    period: str = typer.Option(..., help="period of the extract: YYYY-MM (or YYYY-Qn, YYYY)"),
    dataset: str | None = typer.Option(None, help="dataset id, when the convention has several"),
    mapping: Path | None = typer.Option(None, help="YAML mapping of partner columns and values"),
    sheet: str | None = typer.Option(None, help="XLSX sheet (default: the first)"),
    dry_run: bool = typer.Option(False, "--dry-run", help="validate and report; send nothing"),
    report: Path | None = typer.Option(None, "--report", help="also write the report as JSON"),
) -> None:
    """Validate, pseudonymise, seal and publish an extract as one drop."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    request = PublishRequest(convention, source, period, dataset, mapping, sheet, dry_run)
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        transient=True,
        console=None,
    ) as bar:
        task = bar.add_task("reading", total=None)

        def progress(read: int, accepted: int) -> None:
            bar.update(task, description=f"{read:,} rows read, {accepted:,} accepted")

        try:
            result = publish_extract(request, ConnectorSettings(), progress=progress)
        except (ConnectorError, ContractError, SchemaError) as exc:
            typer.echo(f"obshub: error: {exc}", err=True)
            raise typer.Exit(1) from exc
    typer.echo(format_report(result))
    if report is not None:
        report.write_text(json.dumps(result.to_json(), indent=2) + "\n", encoding="utf-8")
    if result.tally.rows_accepted == 0:
        raise typer.Exit(1)
