"""The bench's pure parts, without Kafka: the JSON shape, the table, the DuckDB check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench.cli import latency_periods
from bench.duckdb_check import check_counts, compare_counts, iris_counts
from bench.errors import CountsMismatchError
from bench.indicators import TerritoryCodes, expected_keys
from bench.peak import peak_rss_mb
from bench.results import RUN_NAMES, Run, build_results, format_table, percentile, write_results
from contracts.loading import load_indicator_catalog

ROOT = Path(__file__).resolve().parents[3]
MACHINE = {
    "cpu_model": "Test CPU",
    "cores": 2,
    "memory_gib": 23.5,
    "python": "3.11.7",
    "kafka_version": "3.9.2",
    "load_average_at_start": [0.5, 0.4, 0.3],
    "load_average_at_end": [3.5, 1.0, 0.5],
}


def sample_runs() -> list[Run]:
    return [
        Run("naive_per_record", 100_000, 10.0, 60.0),
        Run("obshub_connector", 1_000_000, 5.0, 90.0, {"process_wall_s": 5.4}),
        Run("obshub_end_to_end", 1_000_000, 8.0, 190.0),
        Run("kafka_transport", 1_000_000, 1.25, None),
        Run("duckdb_groupby", 1_000_000, 0.25, 130.0),
    ]


def test_results_have_the_interface_shape(tmp_path: Path) -> None:
    results = build_results(MACHINE, sample_runs(), [0.2, 0.4, 0.3, 0.5, 1.5], "make bench")
    path = tmp_path / "latest.json"
    write_results(results, path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert (
        (tmp_path / "latest.md").read_text(encoding="utf-8").startswith("`make bench`:\n\n| run |")
    )
    assert data["machine"]["cores"] == 2 and data["machine"]["kafka_version"] == "3.9.2"
    assert [r["name"] for r in data["runs"]] == list(RUN_NAMES)
    for run in data["runs"]:
        assert set(run) == {"name", "rows", "seconds", "rows_per_s", "peak_rss_mb"}
    connector = data["runs"][0]
    assert connector == {
        "name": "obshub_connector",
        "rows": 1_000_000,
        "seconds": 5.0,
        "rows_per_s": 200_000,
        "peak_rss_mb": 90.0,
    }
    assert data["runs"][2]["peak_rss_mb"] is None
    assert data["latency_trailer_to_indicator_s"] == {"p50": 0.4, "p99": 1.46}
    assert data["targets"] == {
        "obshub_connector >= 150000 rows/s": True,
        "obshub_end_to_end >= 100000 rows/s": True,
        "end-to-end time <= 5 x duckdb_groupby": False,
        "trailer -> indicator p99 <= 1 s": False,
        "worker peak RSS < 1 GiB": True,
    }
    assert data["details"] == {"obshub_connector": {"process_wall_s": 5.4}}


def test_table_lists_every_run_latency_targets_and_machine() -> None:
    table = format_table(build_results(MACHINE, sample_runs(), [0.25], "make bench"))
    lines = table.splitlines()
    assert lines[0] == "| run | rows | seconds | rows/s | peak RSS MB |"
    assert lines[2] == "| obshub_connector | 1,000,000 | 5.00 | 200,000 | 90 |"
    assert "| kafka_transport | 1,000,000 | 1.25 | 800,000 | — |" in lines
    assert "trailer → indicator latency: p50 0.250 s, p99 0.250 s" in lines
    assert any("end-to-end time <= 5 x duckdb_groupby: MISSED" in line for line in lines)
    assert "machine: Test CPU, 2 cores, 23.5 GiB, Python 3.11.7, Kafka 3.9.2" in lines
    assert lines[-1].endswith("the machine was busy, figures are noisy")


def test_latency_without_samples_is_null() -> None:
    results = build_results(MACHINE, [], [], "make bench")
    assert results["latency_trailer_to_indicator_s"] == {"p50": None, "p99": None}
    assert "p50 — s, p99 — s" in format_table(results)


def test_percentile_interpolates() -> None:
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert percentile([1.0, 2.0], 0.99) == pytest.approx(1.99)
    with pytest.raises(ValueError):
        percentile([], 0.5)


def test_duckdb_counts_a_tiny_csv_and_the_check_compares_them(tmp_path: Path) -> None:
    pytest.importorskip("duckdb")  # the `bench` extra
    csv = tmp_path / "caf.csv"
    csv.write_text(
        "matricule;iris;rsa\n1;330630101;0\n2;330630101;1\n3;330690109;0\n4;999999999;1\n",
        encoding="utf-8",
    )
    counts, seconds = iris_counts(csv, ["330630101", "330690109", "330630102"])
    assert counts == {"330630101": 2, "330690109": 1}
    assert seconds >= 0
    published: dict[str, dict[str, Any]] = {
        "330630101": {"status": "ok", "numerator": 2.0},
        "330690109": {"status": "secret", "numerator": None},
        "330630102": {"status": "ok", "numerator": 0.0},
    }
    assert check_counts(counts, published) == 2


def test_the_check_fails_loudly_on_any_difference() -> None:
    duck = {"330630101": 12, "330690109": 30}
    published = {"330630101": {"status": "ok", "numerator": 13.0}}
    with pytest.raises(CountsMismatchError) as caught:
        check_counts(duck, published)
    assert caught.value.problems == [
        "IRIS 330630101: obshub 13.0, DuckDB 12",
        "IRIS 330690109: DuckDB counts 30, obshub published no row",
    ]
    assert compare_counts({}, {"x": {"status": "secret"}}) == [
        "obshub published no ok IRIS row to compare"
    ]


def test_expected_rows_of_a_caf_drop() -> None:
    catalog = load_indicator_catalog(ROOT / "deploy" / "demo" / "indicators.yaml")
    territory = TerritoryCodes.load(ROOT / "deploy" / "demo" / "territory")
    alone = expected_keys(catalog, territory, "caf.allocataires", set(), "2026-02")
    with_menages = expected_keys(
        catalog, territory, "caf.allocataires", {"insee.menages"}, "2026-02"
    )
    cells = len(territory.iris) + len(territory.communes)
    assert len(alone) == 3 * cells  # rsa_pour_100_menages needs insee.menages
    assert len(with_menages) == 4 * cells
    assert ("caf_allocataires", "2026-02", "commune", "33063") in alone


def test_latency_drops_take_the_following_months() -> None:
    assert latency_periods(12)[:2] == ["2026-03", "2026-04"]
    assert latency_periods(12)[-2:] == ["2027-01", "2027-02"]


def test_peak_rss_from_proc_status() -> None:
    assert peak_rss_mb("Name:\tpython\nVmHWM:\t  204800 kB\nVmRSS:\t1 kB\n") == 200.0
    assert peak_rss_mb("Name:\tpython\n") is None
