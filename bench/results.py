"""The bench's results: the JSON `make bench` writes and the table printed from it (pure).

    {"machine": {...},
     "runs": [{"name", "rows", "seconds", "rows_per_s", "peak_rss_mb"}],
     "latency_trailer_to_indicator_s": {"p50", "p99"}}

plus `details` (what each figure is made of) and `targets` (the issue's
targets, met or not), which readers of the five fields may ignore.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RUN_NAMES = (
    "obshub_connector",
    "obshub_end_to_end",
    "kafka_transport",
    "duckdb_groupby",
    "naive_per_record",
)


@dataclass
class Run:
    """One measured run: `rows` in `seconds`, and the peak RSS of the process measured."""

    name: str
    rows: int
    seconds: float
    peak_rss_mb: float | None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "rows": self.rows,
            "seconds": round(self.seconds, 3),
            "rows_per_s": round(self.rows_per_s),
            "peak_rss_mb": None if self.peak_rss_mb is None else round(self.peak_rss_mb, 1),
        }


def percentile(values: Sequence[float], q: float) -> float:
    """The `q` quantile (0 to 1) by linear interpolation between closest ranks."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def latency_summary(samples: Sequence[float]) -> dict[str, float | None]:
    if not samples:
        return {"p50": None, "p99": None}
    return {"p50": round(percentile(samples, 0.5), 3), "p99": round(percentile(samples, 0.99), 3)}


def target_checks(
    runs: Mapping[str, Run], latency: Mapping[str, float | None]
) -> dict[str, bool | None]:
    """The issue's targets, each met (True), missed (False) or not measured (None)."""
    connector = runs.get("obshub_connector")
    e2e = runs.get("obshub_end_to_end")
    duck = runs.get("duckdb_groupby")
    p99 = latency.get("p99")
    return {
        "obshub_connector >= 150000 rows/s": None
        if connector is None
        else connector.rows_per_s >= 150_000,
        "obshub_end_to_end >= 100000 rows/s": None if e2e is None else e2e.rows_per_s >= 100_000,
        "end-to-end time <= 5 x duckdb_groupby": None
        if e2e is None or duck is None
        else e2e.seconds <= 5 * duck.seconds,
        "trailer -> indicator p99 <= 1 s": None if p99 is None else p99 <= 1.0,
        "worker peak RSS < 1 GiB": None
        if e2e is None or e2e.peak_rss_mb is None
        else e2e.peak_rss_mb < 1024,
    }


def build_results(
    machine: Mapping[str, Any],
    runs: Sequence[Run],
    latency_samples: Sequence[float],
    command: str,
) -> dict[str, Any]:
    """The whole `latest.json` document, runs in RUN_NAMES order."""
    order = {name: i for i, name in enumerate(RUN_NAMES)}
    ordered = sorted(runs, key=lambda r: order.get(r.name, len(order)))
    latency = latency_summary(latency_samples)
    return {
        "machine": dict(machine),
        "command": command,
        "runs": [run.to_json() for run in ordered],
        "latency_trailer_to_indicator_s": latency,
        "latency_samples_s": [round(s, 3) for s in latency_samples],
        "targets": target_checks({r.name: r for r in ordered}, latency),
        "details": {run.name: dict(run.details) for run in ordered if run.details},
    }


def _number(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def format_table(results: Mapping[str, Any]) -> str:
    """The runs as a Markdown table, then latency, targets and the machine."""
    lines = [
        "| run | rows | seconds | rows/s | peak RSS MB |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for run in results["runs"]:
        lines.append(
            f"| {run['name']} | {run['rows']:,} | {run['seconds']:.2f} | "
            f"{_number(run['rows_per_s'])} | {_number(run['peak_rss_mb'])} |"
        )
    latency = results["latency_trailer_to_indicator_s"]
    lines.append("")
    lines.append(
        f"trailer → indicator latency: p50 {_number(latency['p50'], 3)} s, "
        f"p99 {_number(latency['p99'], 3)} s"
    )
    targets = results.get("targets") or {}
    if targets:
        marks = {True: "met", False: "MISSED", None: "not measured"}
        lines.append("targets: " + "; ".join(f"{k}: {marks[v]}" for k, v in targets.items()))
    machine = results.get("machine") or {}
    if machine:
        lines.append(
            f"machine: {machine.get('cpu_model', '?')}, {machine.get('cores', '?')} cores, "
            f"{_number(machine.get('memory_gib'), 1)} GiB, Python {machine.get('python', '?')}, "
            f"Kafka {machine.get('kafka_version', '?')}"
        )
        loads = (machine.get("load_average_at_start"), machine.get("load_average_at_end"))
        if all(loads):
            busy = max(load[0] for load in loads if load) > (machine.get("cores") or 1)
            lines.append(
                f"load average at start {loads[0]}, at end {loads[1]}"
                + (": the machine was busy, figures are noisy" if busy else "")
            )
    return "\n".join(lines)


def write_results(results: Mapping[str, Any], path: Path) -> None:
    """`path` (the JSON) and, beside it, the same results as the Markdown table
    (`.md`), ready for the README."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    table = format_table(results)
    command = results.get("command")
    text = f"`{command}`:\n\n{table}\n" if command else f"{table}\n"
    path.with_suffix(".md").write_text(text, encoding="utf-8")
