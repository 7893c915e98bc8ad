"""The committed demo territory (deploy/demo/territory/) is well-formed.

Reads the committed files, not the generator's internals, so it checks what
the hub and the demo actually load; the last test checks that the generator
still reproduces them byte for byte.
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from collections import defaultdict
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pyproj import Transformer
from shapely.geometry import Point, Polygon, shape

TERRITORY = Path(__file__).resolve().parents[3] / "deploy" / "demo" / "territory"
GENERATED = ("iris.csv", "iris.geojson", "carreaux.csv")
CARREAU_ID = re.compile(r"CRS3035RES200mN(\d{7})E(\d{7})")
TO_LAEA = Transformer.from_crs("EPSG:4326", "EPSG:3035", always_xy=True)
# 1e-12 square degree is about 0.009 m² at this latitude.
AREA_TOLERANCE = 1e-12


def read_csv(name: str) -> list[dict[str, str]]:
    with (TERRITORY / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter=";"))


@cache
def iris_rows() -> list[dict[str, str]]:
    return read_csv("iris.csv")


@cache
def carreau_rows() -> list[dict[str, str]]:
    return read_csv("carreaux.csv")


@cache
def geojson() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((TERRITORY / "iris.geojson").read_text(encoding="utf-8"))
    return data


@cache
def polygons() -> dict[str, Polygon]:
    return {f["properties"]["CODE_IRIS"]: shape(f["geometry"]) for f in geojson()["features"]}


@cache
def tree() -> tuple[shapely.STRtree, list[str]]:
    codes = sorted(polygons())
    return shapely.STRtree([polygons()[c] for c in codes]), codes


def iris_at(lon: float, lat: float) -> list[str]:
    """Codes of the IRIS whose polygon contains the point."""
    strtree, codes = tree()
    return [codes[i] for i in strtree.query(Point(lon, lat), predicate="within")]


def carreau_of(lon: float, lat: float) -> str:
    east, north = TO_LAEA.transform(lon, lat)
    return f"CRS3035RES200mN{int(north // 200) * 200}E{int(east // 200) * 200}"


@cache
def carreau_iris() -> dict[str, set[str]]:
    result: dict[str, set[str]] = defaultdict(set)
    for row in carreau_rows():
        result[row["carreau"]].add(row["CODE_IRIS"])
    return result


def commune_union(depcom: str) -> Any:
    return shapely.union_all([p for code, p in polygons().items() if code.startswith(depcom)])


def laea(geom: Any) -> Any:
    return shapely.transform(
        geom, lambda xy: np.column_stack(TO_LAEA.transform(xy[:, 0], xy[:, 1]))
    )


# --- labelling ---------------------------------------------------------------


def test_files_are_labelled_synthetic() -> None:
    assert "SYNTHETIC" in geojson()["name"]
    assert "SYNTHETIC" in geojson()["description"]
    assert "SYNTHETIC" in (TERRITORY / "README.md").read_text(encoding="utf-8")


# --- iris.csv ----------------------------------------------------------------


def test_iris_csv_has_insee_columns_and_semicolons() -> None:
    header = (TERRITORY / "iris.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "CODE_IRIS;LIB_IRIS;TYP_IRIS;DEPCOM;LIBCOM;P_POP;P_MEN"


def test_iris_count_is_between_40_and_80_over_both_communes() -> None:
    assert 40 <= len(iris_rows()) <= 80
    communes = {(r["DEPCOM"], r["LIBCOM"]) for r in iris_rows()}
    assert communes == {("33063", "Bordeaux"), ("33069", "Le Bouscat")}


def test_codes_are_well_formed_unique_and_prefixed_by_depcom() -> None:
    codes = [r["CODE_IRIS"] for r in iris_rows()]
    assert len(set(codes)) == len(codes)
    for row in iris_rows():
        assert re.fullmatch(r"[0-9]{9}", row["CODE_IRIS"]), row
        assert row["CODE_IRIS"][:5] == row["DEPCOM"], row


def test_names_are_unique_within_a_commune() -> None:
    names = [(r["DEPCOM"], r["LIB_IRIS"]) for r in iris_rows()]
    assert len(set(names)) == len(names)
    assert all(r["LIB_IRIS"].strip() == r["LIB_IRIS"] != "" for r in iris_rows())


def test_types_and_populations_are_in_range() -> None:
    for row in iris_rows():
        population, households = int(row["P_POP"]), int(row["P_MEN"])
        if row["TYP_IRIS"] == "H":
            assert 1800 <= population <= 5000, row
        else:
            assert row["TYP_IRIS"] in {"A", "D"}, row
            assert 100 <= population <= 600, row
        assert 1.9 - 0.01 <= population / households <= 2.3 + 0.01, row


def test_mostly_habitat_with_a_few_small_iris() -> None:
    types = [r["TYP_IRIS"] for r in iris_rows()]
    assert types.count("H") >= 0.8 * len(types)
    assert 3 <= sum(int(r["P_POP"]) <= 600 for r in iris_rows()) <= 10


# --- iris.geojson ------------------------------------------------------------


def test_one_feature_per_iris_with_matching_properties() -> None:
    features = geojson()["features"]
    assert geojson()["type"] == "FeatureCollection"
    assert "crs" not in geojson()  # RFC 7946: WGS84 is implied
    by_code = {f["properties"]["CODE_IRIS"]: f["properties"] for f in features}
    assert len(by_code) == len(features)
    assert set(by_code) == {r["CODE_IRIS"] for r in iris_rows()}
    for row in iris_rows():
        props = by_code[row["CODE_IRIS"]]
        assert (props["LIB_IRIS"], props["DEPCOM"]) == (row["LIB_IRIS"], row["DEPCOM"])


def test_coordinates_are_lon_lat_near_bordeaux_with_six_decimals() -> None:
    for code, polygon in polygons().items():
        minx, miny, maxx, maxy = polygon.bounds
        assert -0.70 < minx < maxx < -0.45, code  # longitude first
        assert 44.75 < miny < maxy < 44.95, code
        for x, y in polygon.exterior.coords:
            assert round(x, 6) == x and round(y, 6) == y, code


def test_polygons_are_valid_simple_and_counter_clockwise() -> None:
    for code, polygon in polygons().items():
        assert polygon.geom_type == "Polygon", code
        assert polygon.is_valid, (code, shapely.is_valid_reason(polygon))
        assert polygon.exterior.is_ccw, code
        assert polygon.area > 0, code


def test_polygons_do_not_overlap() -> None:
    strtree, codes = tree()
    for i, code in enumerate(codes):
        polygon = polygons()[code]
        for j in strtree.query(polygon, predicate="intersects"):
            if j != i:
                overlap = polygon.intersection(polygons()[codes[j]]).area
                assert overlap < AREA_TOLERANCE, (code, codes[j], overlap)


def test_iris_of_each_commune_tile_a_single_outline_without_holes() -> None:
    for depcom in ("33063", "33069"):
        union = commune_union(depcom)
        parts = sum(p.area for code, p in polygons().items() if code.startswith(depcom))
        assert union.geom_type == "Polygon", depcom
        assert len(union.interiors) == 0, depcom
        assert abs(union.area - parts) < AREA_TOLERANCE * len(polygons()), depcom


def test_communes_sit_near_their_real_location_and_do_not_overlap() -> None:
    bordeaux, bouscat = commune_union("33063"), commune_union("33069")
    assert bordeaux.intersection(bouscat).area < AREA_TOLERANCE
    assert bordeaux.distance(bouscat) < 0.001  # neighbours
    for union, (lon, lat), (low, high) in (
        (bordeaux, (-0.58, 44.84), (6000, 8000)),
        (bouscat, (-0.60, 44.865), (2000, 3200)),
    ):
        assert union.centroid.distance(Point(lon, lat)) < 0.015
        minx, miny, maxx, maxy = laea(union).bounds
        assert low <= maxx - minx <= high and low <= maxy - miny <= high


def test_a_point_inside_each_iris_lies_in_that_iris_only() -> None:
    for code, polygon in polygons().items():
        point = polygon.point_on_surface()
        assert iris_at(point.x, point.y) == [code]


# --- carreaux.csv ------------------------------------------------------------


def test_carreaux_header_and_ids_are_on_the_200m_grid() -> None:
    header = (TERRITORY / "carreaux.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "carreau;CODE_IRIS;poids"
    for row in carreau_rows():
        match = CARREAU_ID.fullmatch(row["carreau"])
        assert match, row
        assert int(match[1]) % 200 == 0 and int(match[2]) % 200 == 0, row


def test_carreaux_weights_are_positive_and_sum_to_one() -> None:
    sums: dict[str, float] = defaultdict(float)
    pairs = set()
    for row in carreau_rows():
        assert re.fullmatch(r"[01]\.[0-9]{6}", row["poids"]), row
        weight = float(row["poids"])
        assert 0 < weight <= 1, row
        sums[row["carreau"]] += weight
        pairs.add((row["carreau"], row["CODE_IRIS"]))
    assert len(pairs) == len(carreau_rows())
    assert all(abs(total - 1) < 1e-6 for total in sums.values())


def test_carreaux_name_existing_iris_and_every_iris_has_a_carreau() -> None:
    codes = {r["CODE_IRIS"] for r in iris_rows()}
    assert {r["CODE_IRIS"] for r in carreau_rows()} == codes


def test_carreaux_cover_the_territory() -> None:
    cells = []
    for carreau in carreau_iris():
        match = CARREAU_ID.fullmatch(carreau)
        assert match
        north, east = int(match[1]), int(match[2])
        cells.append(shapely.box(east, north, east + 200, north + 200))
    territory = laea(shapely.union_all(list(polygons().values())))
    assert territory.difference(shapely.union_all(cells)).area < 1.0  # m²


def test_a_single_iris_carreau_has_its_centre_in_that_iris() -> None:
    to_wgs84 = Transformer.from_crs("EPSG:3035", "EPSG:4326", always_xy=True)
    single = {c: next(iter(s)) for c, s in carreau_iris().items() if len(s) == 1}
    assert single
    for carreau, code in single.items():
        match = CARREAU_ID.fullmatch(carreau)
        assert match
        lon, lat = to_wgs84.transform(int(match[2]) + 100, int(match[1]) + 100)
        assert iris_at(lon, lat) in ([code], []), carreau  # [] : centre outside


@settings(max_examples=300, deadline=None)
@given(st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_any_point_of_an_iris_falls_in_a_carreau_listing_that_iris(fx: float, fy: float) -> None:
    minx, miny, maxx, maxy = shapely.union_all(list(polygons().values())).bounds
    lon, lat = minx + fx * (maxx - minx), miny + fy * (maxy - miny)
    found = iris_at(lon, lat)
    assume(len(found) == 1)
    assert found[0] in carreau_iris()[carreau_of(lon, lat)]


# --- generator ---------------------------------------------------------------


def test_generator_rewrites_byte_identical_files(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(TERRITORY / "generate.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    for name in GENERATED:
        assert (tmp_path / name).read_bytes() == (TERRITORY / name).read_bytes(), name
