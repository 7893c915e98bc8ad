"""`python -m bench` (`make bench`): every run, in one invocation, then the table.

Order, chosen so that no run competes with another for the two cores:
DuckDB before the stack starts; the connector while the worker is stopped;
the worker then started (it ingests the connector's drop: its warm-up); the
end-to-end run and the latency drops; then, the worker stopped, the
transport and the per-record runs. Each obshub drop has its own period, so
its indicator rows are known by their period.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.duckdb_check import check_counts
from bench.errors import BenchError, RunFailedError
from bench.extract import count_iris, data_lines, write_extract
from bench.indicators import IndicatorWatcher, TerritoryCodes, expected_keys
from bench.machine import machine_info, run_measured, vm_hwm_mb
from bench.naive import naive_run
from bench.obshub_runs import (
    connector_run,
    end_to_end,
    publish_cli,
    publish_in_process,
    read_drop_messages,
    trailer_latencies,
    worker_histogram,
)
from bench.results import Run, build_results, format_table, write_results
from bench.stack import ROOT, start_kafka, start_worker, stop_worker
from bench.transport import transport_run
from contracts.loading import load_indicator_catalog
from contracts.principals import drops_topic
from hub.settings import HubSettings

DATASET = "caf.allocataires"
CONNECTOR_PERIOD, E2E_PERIOD = "2026-01", "2026-02"
MENAGES_PERIOD = "2025"  # a yearly INSEE drop serves every CAF month after it


def say(text: str) -> None:
    print(f"bench: {text}", file=sys.stderr, flush=True)


def duckdb_run(source: Path, territory: TerritoryCodes) -> tuple[Run, dict[str, int]]:
    import json

    finished = run_measured(
        "bench.duckdb_check", [str(source), *territory.iris], source.with_suffix(".duckdb.peak")
    )
    if finished.returncode != 0:
        raise RunFailedError("duckdb_groupby", finished.stdout.strip()[-500:])
    result = json.loads(finished.stdout.strip().splitlines()[-1])
    counts: dict[str, int] = result["counts"]
    run = Run(
        "duckdb_groupby",
        sum(counts.values()),
        result["seconds"],
        finished.peak_rss_mb,
        {
            "seconds_from": "duckdb.connect() -> counts fetched (CSV read included)",
            "process_wall_s": round(finished.wall_s, 3),
            "process_cpu_s": round(finished.cpu_s, 3),
            "peak_rss_of": "the DuckDB process (VmHWM)",
        },
    )
    return run, counts


def latency_periods(count: int) -> list[str]:
    """Months after the end-to-end run's, one per latency drop."""
    year, month = int(E2E_PERIOD[:4]), int(E2E_PERIOD[5:])
    periods = []
    for _ in range(count):
        month += 1
        if month > 12:
            year, month = year + 1, 1
        periods.append(f"{year:04d}-{month:02d}")
    return periods


def run_all(args: argparse.Namespace, work: Path) -> dict[str, object]:
    settings = HubSettings()
    machine = machine_info(settings.kafka_version)
    say(f"generating {args.rows:,} SYNTHETIC caf.allocataires rows")
    source = work / "caf.allocataires.csv"
    write_extract(source, args.rows)
    small = work / "caf.allocataires-small.csv"
    write_extract(small, args.latency_rows, seed=7)
    menages = work / "insee.menages.csv"
    from connectors.synthetic import generate_columns, write_csv

    write_csv(menages, generate_columns("insee.menages", 1, "2025-01", 1))
    territory = TerritoryCodes.load(settings.territory_dir)
    catalog = load_indicator_catalog(settings.catalog_file)
    runs: list[Run] = []

    say("duckdb_groupby")
    duck, duck_counts = duckdb_run(source, territory)
    runs.append(duck)

    say("starting a private Kafka (free ports, temporary state dir)")
    stack = start_kafka(work / "state")
    try:
        present = {DATASET, "insee.menages"}
        publish_in_process(stack, menages, MENAGES_PERIOD, ("insee", "insee.menages"))
        say("obshub_connector (worker stopped)")
        connector = publish_cli(stack, source, CONNECTOR_PERIOD, work / "connector.json")
        runs.append(connector_run(connector))
        with IndicatorWatcher(stack.admin_credentials()) as watcher:
            say("starting the worker; it ingests the connector's drop (warm-up)")
            warm_started = time.monotonic()
            worker_pid = start_worker(stack)
            keys = expected_keys(catalog, territory, DATASET, present, CONNECTOR_PERIOD)
            watcher.wait_for(keys, warm_started, args.timeout)
            say("obshub_end_to_end")
            keys = expected_keys(catalog, territory, DATASET, present, E2E_PERIOD)
            e2e, rows = end_to_end(
                stack, watcher, source, E2E_PERIOD, keys, work / "e2e.json", worker_pid
            )
            published = {
                code: row
                for (indicator, _, level, code), row in rows.items()
                if indicator == "caf_allocataires" and level == "iris"
            }
            compared = check_counts(duck_counts, published)
            say(f"DuckDB check passed: {compared} IRIS cells equal")
            duck.details["checked_cells"] = compared
            say(f"trailer -> indicator latency over {args.latency_drops} drops")
            periods = [
                (p, expected_keys(catalog, territory, DATASET, present, p))
                for p in latency_periods(args.latency_drops)
            ]
            samples = trailer_latencies(stack, watcher, small, periods, args.timeout)
        histogram = worker_histogram(stack)
        e2e.details.update(
            worker_peak_rss_mb_after_latency_drops=vm_hwm_mb(worker_pid),
            worker_histogram_caf=histogram,
            latency_rows_per_drop=args.latency_rows,
        )
        runs.append(e2e)
        stop_worker(stack)

        say("kafka_transport")
        messages = read_drop_messages(stack, drops_topic("caf33"), connector.drop_id)
        runs.append(
            transport_run(
                stack.admin_credentials(),
                messages,
                connector.drop_id.encode(),
                connector.rows_accepted,
            )
        )
        say(f"naive_per_record ({args.naive_rows:,} rows)")
        lines = data_lines(source, args.naive_rows)
        runs.append(naive_run(stack.admin_credentials(), lines, count_iris(lines), work / "naive"))
    finally:
        say("stopping the private stack")
        stack.down()
    machine["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    command = "make bench" + (f" BENCH_ARGS='--rows {args.rows}'" if args.rows != 1_000_000 else "")
    return build_results(machine, runs, samples, command)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the extract")
    parser.add_argument("--latency-drops", type=int, default=5)
    parser.add_argument("--latency-rows", type=int, default=20_000)
    parser.add_argument("--naive-rows", type=int, default=100_000)
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for rows")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "latest.json")
    args = parser.parse_args(argv)
    try:
        import duckdb  # noqa: F401  # the `bench` extra: fail now, not after minutes
    except ImportError:
        say("FAILED: duckdb is missing; install the bench extra: pip install -e '.[bench]'")
        return 1
    work = Path(tempfile.mkdtemp(prefix="obshub-bench-"))
    try:
        results = run_all(args, work)
    except BenchError as exc:
        say(f"FAILED: {exc}")
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write_results(results, args.out)
    print(format_table(results))
    print(f"written: {args.out}")
    return 0
