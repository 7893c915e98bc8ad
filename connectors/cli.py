"""`obshub connector …`: what a partner's IT team runs, usually from a scheduled job.

Reports go to stdout; what went wrong (a project error, no valid row, a drop
the hub rejected) to stderr as `obshub: error: …`, exit code 1, through the
CLI edge (`schemas.cli_edge`). The group sets up logging itself, so the Kafka
client stays quiet however the verbs are reached.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from connectors.publish import Progress, PublishReport, PublishRequest, publish_extract
from connectors.receipts import HubVerdict
from connectors.settings import ConnectorSettings
from connectors.synthetic import FAULT_KINDS
from schemas.cli_edge import configure_logging, fail, run_or_exit

app = typer.Typer(
    help="Partner connectors: validate an extract against its convention, "
    "pseudonymise, seal and publish it as one data drop.",
    no_args_is_help=True,
)


@app.callback()
def _setup() -> None:
    # Runs before every verb, standalone or as `obshub connector …`.
    configure_logging()


@contextmanager
def progress_display(enabled: bool) -> Iterator[Progress | None]:
    """A live `rows read, accepted, rows/s` line on stderr, or nothing."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress as Bar
    from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

    started = time.monotonic()
    with Bar(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        transient=True,
        console=Console(stderr=True),
    ) as bar:
        task = bar.add_task("opening the extract", total=None)

        def update(read: int, accepted: int) -> None:
            rate = read / max(time.monotonic() - started, 1e-6)
            bar.update(
                task, description=f"{read:,} rows read, {accepted:,} accepted, {rate:,.0f} rows/s"
            )

        yield update


def format_verdict(verdict: HubVerdict | None) -> str:
    """What the hub's receipt said, as the end of the report's first line."""
    if verdict is None:
        return ""
    if not verdict.accepted:
        return f"; REJECTED by the hub: {verdict.reason}"
    again = ", a repeat: nothing changed" if verdict.repeat else ""
    return f"; accepted by the hub ({verdict.records_aggregated} records counted{again})"


def format_report(report: PublishReport) -> str:
    """The human report: counts, then each rejection reason with example rows."""
    t = report.tally
    if report.dry_run:
        state = "dry run: nothing sent"
    elif report.published:
        state = f"published to {report.topic}" + format_verdict(report.hub)
    else:  # why is said on stderr (`format_no_valid_row`)
        state = "nothing sent"
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


def format_no_valid_row(report: PublishReport) -> str:
    """What `publish` says on stderr when no row of the extract is valid."""
    t = report.tally
    what = "would not be published" if report.dry_run else "NOT published"
    return (
        f"drop {report.drop_id} {what}: no valid row "
        f"(rows read {t.rows_read}, rejected {t.rows_rejected})"
    )


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
    quiet: bool = typer.Option(False, "--quiet", help="no progress, one summary line (cron)"),
    no_wait: bool = typer.Option(
        False, "--no-wait", help="do not wait for the hub's receipt (OBSHUB_RECEIPT_TIMEOUT_S)"
    ),
) -> None:
    """Validate, pseudonymise, seal and publish an extract as one drop, then wait
    for the hub's signed receipt: exit 1 with the hub's reason if it rejected it."""
    request = PublishRequest(
        convention, source, period, dataset, mapping, sheet, dry_run, wait=not no_wait
    )
    show_progress = not quiet and sys.stderr.isatty()
    with progress_display(show_progress) as progress:
        result = run_or_exit(
            lambda: publish_extract(request, ConnectorSettings(), progress=progress)
        )
    text = format_report(result)
    typer.echo(text.splitlines()[0] if quiet else text)
    if report is not None:
        report.write_text(json.dumps(result.to_json(), indent=2) + "\n", encoding="utf-8")
    if result.tally.rows_accepted == 0:
        fail(format_no_valid_row(result))
    if result.hub is not None and not result.hub.accepted:
        fail(f"drop {result.drop_id} rejected by the hub: {result.hub.reason}: {result.hub.detail}")


@app.command()
def generate(
    dataset: str = typer.Option(..., help="dataset id, e.g. caf.allocataires"),
    rows: int = typer.Option(1000, min=1, help="rows to draw (aggregate INSEE tables: ignored)"),
    period: str = typer.Option(..., help="period the extract describes, YYYY-MM"),
    out: Path = typer.Option(..., help="CSV file to write"),
    seed: int = typer.Option(1, help="random seed; identifiers are stable for a seed"),
    territory: Path | None = typer.Option(None, help="territory directory (default: the demo)"),
    communes: str | None = typer.Option(
        None, help="only these communes, comma-separated (a partner covering part of it)"
    ),
    faults: float = typer.Option(0.0, min=0.0, max=1.0, help="fraction of rows made faulty"),
    fault_kinds: str = typer.Option(
        ",".join(FAULT_KINDS), help="comma-separated kinds of faulty rows to draw from"
    ),
) -> None:
    """Write a SYNTHETIC extract for the demo territory, in the partner's format."""
    from connectors.synthetic import (
        AGGREGATE_DATASETS,
        DEFAULT_TERRITORY,
        generate_columns,
        load_demo_territory,
        write_csv,
    )

    def write() -> int:
        land = load_demo_territory(territory or DEFAULT_TERRITORY)
        if communes:
            land = land.within([c.strip() for c in communes.split(",") if c.strip()])
        columns = generate_columns(dataset, rows, period, seed, land)
        kinds = [k.strip() for k in fault_kinds.split(",") if k.strip()]
        return write_csv(out, columns, faults=faults, kinds=kinds, seed=seed)

    written = run_or_exit(write)
    note = (
        " (one row per IRIS cell: --rows does not apply)" if dataset in AGGREGATE_DATASETS else ""
    )
    typer.echo(f"wrote {written:,} synthetic {dataset} rows for {period} to {out}{note}")
