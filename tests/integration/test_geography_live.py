"""Points in WGS84 and in Lambert-93, published at every level of the territory.

France Travail sends the same job seekers twice, for two months: once as
WGS84 lon/lat (the demo convention), once as Lambert-93 x/y (the same
convention with `crs: EPSG:2154`). Every published row of the three `defm_*`
indicators, at every level (IRIS, commune, QPV, commune hors QPV, EPCI,
quartier), is compared with a computation made here from the official-format
source files alone: geopandas point-in-polygon on the IGN GeoPackage and the
ANCT shapefile in Lambert-93, the quartiers CSV and the EPCI table.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas
import numpy as np
import pandas
import pytest
from pyproj import Transformer

from hub.stack import Stack
from tests.support.conventions import variant, write_signed
from tests.support.wire import build_extract_drop, indicator_rows, produce, wait_until

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "deploy" / "demo"
SOURCES = DEMO / "territory" / "sources"
WGS84_MONTH, LAMBERT_MONTH = "2025-05", "2025-06"
POINTS = 3000
MARGIN_M = 2.0  # no point this close to an IRIS or QPV border: both placements agree
K = 11
INDICATORS = {  # indicator: (numerator filter, denominator filter or None)
    "defm_cat_a": (lambda p: p.categorie == "A", None),
    "defm_jeunes_part": (
        lambda p: (p.categorie == "A") & (p.age < 26),
        lambda p: p.categorie == "A",
    ),
    "defm_longue_duree_part": (
        lambda p: (p.categorie == "A") & (p.anciennete_mois >= 12),
        lambda p: p.categorie == "A",
    ),
}


@pytest.fixture(scope="module")
def worker(kafka_stack: Stack) -> Iterator[Stack]:
    kafka_stack.start_services(("worker",))
    yield kafka_stack
    kafka_stack.stop_services(("worker",))


def job_seekers() -> Any:
    """Points in Lambert-93 over both communes, away from every border, with
    the France Travail fields."""
    iris = geopandas.read_file(SOURCES / "CONTOURS-IRIS_demo.gpkg", engine="pyogrio")
    qpv = geopandas.read_file(SOURCES / "QP2024_demo_LB93.shp", engine="pyogrio")
    borders = pandas.concat([iris.boundary, qpv.boundary]).union_all()
    minx, miny, maxx, maxy = iris.total_bounds
    rng = np.random.default_rng(2154)
    kept: list[Any] = []
    while sum(len(k) for k in kept) < POINTS:
        # half of the draws inside the QPV's boxes, so that QPV rows are not all secret
        box = qpv.total_bounds if rng.random() < 0.5 else (minx, miny, maxx, maxy)
        xs = rng.uniform(box[0], box[2], 2000)
        ys = rng.uniform(box[1], box[3], 2000)
        points = geopandas.GeoSeries(geopandas.points_from_xy(xs, ys), crs=iris.crs)
        inside = points.within(iris.union_all()) & (points.distance(borders) > MARGIN_M)
        kept.append(points[inside])
    located = pandas.concat(kept).iloc[:POINTS].reset_index(drop=True)
    count = len(located)
    return geopandas.GeoDataFrame(
        {
            "identifiant": [f"FT{i:06d}" for i in range(count)],
            "age": rng.integers(18, 65, count),
            "sexe": rng.choice(["F", "M"], count),
            "categorie": rng.choice(["A", "A", "A", "B", "C"], count),
            "anciennete_mois": rng.integers(0, 48, count),
        },
        geometry=located.values,
        crs=iris.crs,
    )


def write_extract(path: Path, seekers: Any, x: Any, y: Any) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["identifiant", "lon", "lat", "age", "sexe", "categorie", "anciennete_mois"])
        for row, lon, lat in zip(seekers.itertuples(), x, y, strict=True):
            point = [repr(float(lon)), repr(float(lat))]
            out.writerow(
                [row.identifiant, *point, row.age, row.sexe, row.categorie, row.anciennete_mois]
            )
    return path


def areas_of(seekers: Any) -> dict[str, Any]:
    """Per level, each point's area code (None outside every area of the level)."""
    iris = geopandas.read_file(SOURCES / "CONTOURS-IRIS_demo.gpkg", engine="pyogrio")
    qpv = geopandas.read_file(SOURCES / "QP2024_demo_LB93.shp", engine="pyogrio")
    in_iris = geopandas.sjoin(seekers, iris[["CODE_IRIS", "geometry"]], predicate="within")
    in_qpv = geopandas.sjoin(seekers, qpv[["code_qp", "geometry"]], predicate="within", how="left")
    code_iris = in_iris["CODE_IRIS"].reindex(seekers.index)
    commune = code_iris.str[:5]
    code_qp = in_qpv["code_qp"].reindex(seekers.index)
    with (SOURCES / "quartiers_bordeaux.csv").open(encoding="utf-8") as handle:
        quartier_of = {
            r["CODE_IRIS"]: r["code_quartier"] for r in csv.DictReader(handle, delimiter=";")
        }
    with (SOURCES / "epci_demo.csv").open(encoding="utf-8") as handle:
        epci_of = {r["CODGEO"]: r["EPCI"] for r in csv.DictReader(handle, delimiter=";")}
    return {
        "iris": code_iris,
        "commune": commune,
        "qpv": code_qp.where(code_qp.notna(), None),
        "commune_hors_qpv": commune.where(code_qp.isna(), None),
        "epci": commune.map(epci_of),
        "quartier": code_iris.map(quartier_of),
    }


def expected_rows(seekers: Any) -> dict[tuple[str, str, str], tuple[float, float | None]]:
    """(indicator, level, code) -> (numerator, denominator), computed here."""
    areas = areas_of(seekers)
    expected = {}
    for indicator, (numerator, denominator) in INDICATORS.items():
        for level, codes in areas.items():
            for code in sorted(c for c in codes.dropna().unique()):
                here = seekers[codes == code]
                num = float(numerator(here).sum())
                den = None if denominator is None else float(denominator(here).sum())
                expected[(indicator, level, code)] = (num, den)
    return expected


def test_points_in_wgs84_and_lambert93_give_every_level_as_computed_here(
    worker: Stack, tmp_path: Path
) -> None:
    seekers = job_seekers()
    to_wgs84 = Transformer.from_crs("EPSG:2154", "EPSG:4326", always_xy=True)
    lon, lat = to_wgs84.transform(seekers.geometry.x.to_numpy(), seekers.geometry.y.to_numpy())
    wgs84 = write_extract(tmp_path / "demandeurs_wgs84.csv", seekers, lon, lat)
    lambert = write_extract(
        tmp_path / "demandeurs_lb93.csv", seekers, seekers.geometry.x, seekers.geometry.y
    )
    text = variant("francetravail33").replace(
        "    cadence: monthly\n", "    cadence: monthly\n    crs: EPSG:2154\n", 1
    )
    lambert_convention = write_signed(tmp_path / "francetravail33-lb93.yaml", text)
    for convention, extract, month in (
        (DEMO / "conventions" / "francetravail33.yaml", wgs84, WGS84_MONTH),
        (lambert_convention, lambert, LAMBERT_MONTH),
    ):
        report, sent = build_extract_drop(worker, convention, extract, month)
        assert report.tally.rows_accepted == POINTS, report.to_json()
        produce(worker.credentials.get("francetravail33"), sent)

    def published() -> Any:
        rows = indicator_rows(worker)
        months = {key[1] for key in rows if key[0] in INDICATORS}
        return rows if {WGS84_MONTH, LAMBERT_MONTH} <= months else None

    rows = wait_until(published, 120, "the releases of both months")
    expected = expected_rows(seekers)
    levels = {"iris", "commune", "qpv", "commune_hors_qpv", "epci", "quartier"}
    problems = []
    checked = {month: 0 for month in (WGS84_MONTH, LAMBERT_MONTH)}
    for month in checked:
        got = {
            (indicator, level, code): row
            for (indicator, period, level, code), row in rows.items()
            if period == month and indicator in INDICATORS
        }
        assert {key[1] for key in got} == levels
        assert set(got) == set(expected), month
        for key, (num, den) in expected.items():
            row = got[key]
            if row["status"] == "ok":
                checked[month] += 1
                if (row["numerator"], row["denominator"]) != (num, den):
                    got_pair = f"{row['numerator']}/{row['denominator']}"
                    problems.append(f"{month} {key}: {got_pair}, expected {num}/{den}")
            elif row["numerator"] is not None:
                problems.append(f"{month} {key}: a secret row carries figures")
    assert problems == []
    # both months publish the same rows, and every level has some
    assert checked[WGS84_MONTH] == checked[LAMBERT_MONTH] > 0
    for level in levels:
        assert any(
            row["status"] == "ok"
            for (indicator, period, lvl, _), row in rows.items()
            if lvl == level and period == LAMBERT_MONTH and indicator in INDICATORS
        ), level
