"""The demo territory's sources (deploy/demo/territory/sources/) are well-formed.

Reads the committed source files the way `obshub territory build` reads
them (geopandas/pyogrio, openpyxl, pandas), not the generator's internals;
the last test checks that the generator still reproduces them.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import subprocess
import sys
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import shapely
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pyproj import Transformer
from shapely.geometry import Point, Polygon

from hub.territory_build import REFERENCE_HEADER

TERRITORY = Path(__file__).resolve().parents[3] / "deploy" / "demo" / "territory"
SOURCES = TERRITORY / "sources"
CONTOURS = SOURCES / "CONTOURS-IRIS_demo.gpkg"
REFERENCE = SOURCES / "reference_IRIS_geo_demo.xlsx"
POPULATION = SOURCES / "base-ic-demo.csv"
QPV_SHP = SOURCES / "QP2024_demo_LB93.shp"
QPV_GEOJSON = SOURCES / "QP2024_demo_WGS84.geojson"
QUARTIERS = SOURCES / "quartiers_bordeaux.csv"
EPCI = SOURCES / "epci_demo.csv"
CARREAUX = SOURCES / "carreaux_demo.csv"

IRIS_FIELDS = ["CODE_IRIS", "NOM_IRIS", "TYP_IRIS", "INSEE_COM", "NOM_COM"]
REFERENCE_HEADER = REFERENCE_HEADER  # INSEE's header (hub.territory_build)
QPV_FIELDS = ["code_qp", "lib_qp", "insee_com", "lib_com", "insee_dep", "insee_reg", "siren_epci"]
QUARTIER_NAMES = {
    "Q1": "Bordeaux Maritime",
    "Q2": "Chartrons - Grand Parc - Jardin Public",
    "Q3": "Centre ville",
    "Q4": "Saint Augustin - Tauzin - Alphonse Dupeux",
    "Q5": "Nansouty - Saint Genès",
    "Q6": "Bordeaux Sud",
    "Q7": "La Bastide",
    "Q8": "Caudéran",
}
CARREAU_ID = re.compile(r"CRS3035RES200mN(\d{7})E(\d{7})")
L93_TO_LAEA = Transformer.from_crs("EPSG:2154", "EPSG:3035", always_xy=True)
LAEA_TO_L93 = Transformer.from_crs("EPSG:3035", "EPSG:2154", always_xy=True)
WGS84_TO_L93 = Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True)
L93_TO_WGS84 = Transformer.from_crs("EPSG:2154", "EPSG:4326", always_xy=True)
AREA_TOLERANCE = 0.01  # m², in Lambert-93


def read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep=";", dtype=str, keep_default_na=False, encoding="utf-8")


@cache
def contours() -> gpd.GeoDataFrame:
    return gpd.read_file(CONTOURS, layer="contours_iris", engine="pyogrio")


@cache
def polygons() -> dict[str, Polygon]:
    """CODE_IRIS -> the single polygon of its MultiPolygon."""
    return {
        code: geom.geoms[0]
        for code, geom in zip(contours()["CODE_IRIS"], contours().geometry, strict=True)
    }


@cache
def reference_rows() -> list[tuple[Any, ...]]:
    sheet = openpyxl.load_workbook(REFERENCE)["Emboitements_IRIS"]
    return list(sheet.iter_rows(values_only=True))


@cache
def population() -> pd.DataFrame:
    return read_csv(POPULATION)


@cache
def qpv() -> gpd.GeoDataFrame:
    return gpd.read_file(QPV_SHP, engine="pyogrio")


@cache
def qpv_geojson() -> gpd.GeoDataFrame:
    return gpd.read_file(QPV_GEOJSON, engine="pyogrio")


@cache
def quartiers() -> pd.DataFrame:
    return read_csv(QUARTIERS)


@cache
def carreau_rows() -> pd.DataFrame:
    return read_csv(CARREAUX)


@cache
def tree() -> tuple[shapely.STRtree, list[str]]:
    codes = sorted(polygons())
    return shapely.STRtree([polygons()[c] for c in codes]), codes


def iris_at(x: float, y: float) -> list[str]:
    """Codes of the IRIS whose Lambert-93 polygon contains the point."""
    strtree, codes = tree()
    return [codes[i] for i in strtree.query(Point(x, y), predicate="within")]


def carreau_of(x: float, y: float) -> str:
    east, north = L93_TO_LAEA.transform(x, y)
    return f"CRS3035RES200mN{int(north // 200) * 200}E{int(east // 200) * 200}"


@cache
def carreau_iris() -> dict[str, set[str]]:
    return {
        carreau: set(group["CODE_IRIS"])
        for carreau, group in carreau_rows().groupby("carreau", sort=True)
    }


def commune_union(depcom: str) -> Any:
    return shapely.union_all([p for code, p in polygons().items() if code.startswith(depcom)])


def project(geom: Any, transformer: Transformer) -> Any:
    return shapely.transform(
        geom, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
    )


def qpv_polygon(code: str) -> Any:
    return qpv().set_index("code_qp").geometry[code]


def cut_iris(geom: Any) -> dict[str, float]:
    """CODE_IRIS -> area (m²) of its overlap with `geom`, for overlaps above 1 m²."""
    areas = {code: p.intersection(geom).area for code, p in polygons().items()}
    return {code: area for code, area in areas.items() if area > 1.0}


def readme_table() -> dict[str, list[str]]:
    """The README's contents table: commune -> cells after the commune name."""
    text = (TERRITORY / "README.md").read_text(encoding="utf-8")
    rows: dict[str, list[str]] = {}
    for line in text.split("## Contents", 1)[1].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0] in {"Bordeaux", "Le Bouscat", "total"}:
            rows[cells[0]] = cells[1:]
    return rows


# --- labelling ---------------------------------------------------------------


def test_sources_are_labelled_synthetic() -> None:
    contours_info = pyogrio.read_info(CONTOURS, layer="contours_iris")
    geojson_info = pyogrio.read_info(QPV_GEOJSON)
    assert "SYNTHETIC" in contours_info["layer_metadata"]["DESCRIPTION"]
    assert "SYNTHETIC" in geojson_info["layer_metadata"]["DESCRIPTION"]
    assert "SYNTHETIC" in reference_rows()[0][0]
    assert all(name.endswith("(synthétique)") for name in qpv()["lib_qp"])
    assert "SYNTHETIC" in (SOURCES / "README.md").read_text(encoding="utf-8")
    assert "SYNTHETIC" in (TERRITORY / "README.md").read_text(encoding="utf-8")


# --- CONTOURS-IRIS_demo.gpkg -------------------------------------------------


def test_contours_iris_is_one_lambert93_multipolygon_layer_with_ign_fields() -> None:
    info = pyogrio.read_info(CONTOURS, layer="contours_iris")
    assert pyogrio.list_layers(CONTOURS).tolist() == [["contours_iris", "MultiPolygon"]]
    assert info["crs"] == "EPSG:2154"
    assert info["geometry_type"] == "MultiPolygon"
    assert info["fields"].tolist() == IRIS_FIELDS
    assert info["dtypes"].tolist() == ["object"] * len(IRIS_FIELDS)  # strings
    assert contours().crs.to_epsg() == 2154


def test_iris_count_is_between_40_and_80_over_both_communes() -> None:
    assert 40 <= len(contours()) <= 80
    communes = set(zip(contours()["INSEE_COM"], contours()["NOM_COM"], strict=True))
    assert communes == {("33063", "Bordeaux"), ("33069", "Le Bouscat")}


def test_codes_are_well_formed_unique_and_prefixed_by_the_commune() -> None:
    codes = contours()["CODE_IRIS"].tolist()
    assert len(set(codes)) == len(codes)
    for code, depcom in zip(codes, contours()["INSEE_COM"], strict=True):
        assert re.fullmatch(r"[0-9]{9}", code), code
        assert code[:5] == depcom, code


def test_names_are_unique_within_a_commune_and_types_known() -> None:
    names = list(zip(contours()["INSEE_COM"], contours()["NOM_IRIS"], strict=True))
    assert len(set(names)) == len(names)
    assert all(name.strip() == name != "" for _, name in names)
    assert set(contours()["TYP_IRIS"]) <= {"H", "A", "D"}


def test_polygons_are_single_valid_counter_clockwise_and_on_the_centimetre_grid() -> None:
    for code, geom in zip(contours()["CODE_IRIS"], contours().geometry, strict=True):
        assert geom.geom_type == "MultiPolygon" and len(geom.geoms) == 1, code
        polygon = geom.geoms[0]
        assert polygon.is_valid, (code, shapely.is_valid_reason(polygon))
        assert polygon.exterior.is_ccw, code
        assert polygon.area > 0, code
        coords = shapely.get_coordinates(polygon)
        assert np.array_equal(np.round(coords, 2), coords), code


def test_coordinates_are_lambert93_near_bordeaux() -> None:
    for code, polygon in polygons().items():
        minx, miny, maxx, maxy = project(polygon, L93_TO_WGS84).bounds
        assert -0.70 < minx < maxx < -0.45, code
        assert 44.75 < miny < maxy < 44.95, code


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
        assert abs(union.area - parts) < AREA_TOLERANCE, depcom


def test_neighbouring_iris_share_the_very_same_vertices() -> None:
    # Every edge inside the territory belongs to exactly two IRIS, with the same
    # two end points; the edges of a single IRIS make the territory's outline.
    edges: Counter[frozenset[tuple[float, float]]] = Counter()
    for polygon in polygons().values():
        ring = [tuple(xy) for xy in shapely.get_coordinates(polygon.exterior)]
        edges.update(frozenset(pair) for pair in itertools.pairwise(ring))
    territory = shapely.union_all(list(polygons().values()))
    outline = sum(math.dist(*edge) for edge, count in edges.items() if count == 1)
    assert territory.geom_type == "Polygon" and len(territory.interiors) == 0
    assert max(edges.values()) == 2
    assert abs(outline - territory.exterior.length) < 1e-6


def test_communes_sit_near_their_real_location_and_do_not_overlap() -> None:
    bordeaux, bouscat = commune_union("33063"), commune_union("33069")
    assert bordeaux.intersection(bouscat).area < AREA_TOLERANCE
    assert bordeaux.intersection(bouscat).length > 1000  # a shared border, in metres
    for union, (lon, lat), (low, high) in (
        (bordeaux, (-0.58, 44.84), (6000, 8000)),
        (bouscat, (-0.60, 44.865), (2000, 3200)),
    ):
        assert union.centroid.distance(Point(WGS84_TO_L93.transform(lon, lat))) < 1500
        minx, miny, maxx, maxy = union.bounds
        assert low <= maxx - minx <= high and low <= maxy - miny <= high


def test_a_point_inside_each_iris_lies_in_that_iris_only() -> None:
    for code, polygon in polygons().items():
        point = polygon.point_on_surface()
        assert iris_at(point.x, point.y) == [code]


# --- reference_IRIS_geo_demo.xlsx --------------------------------------------


def test_reference_has_insee_sheets_title_rows_and_header_on_row_6() -> None:
    book = openpyxl.load_workbook(REFERENCE)
    rows = reference_rows()
    assert book.sheetnames == ["Emboitements_IRIS", "Documentation"]
    assert rows[0][0].startswith("Table d'appartenance géographique des IRIS")
    assert all(row[0] for row in rows[1:4])  # source and notes lines
    assert all(value is None for value in rows[4])  # row 5 empty
    assert rows[5] == REFERENCE_HEADER  # row 6
    documentation = [row for row in book["Documentation"].iter_rows(values_only=True) if row[0]]
    assert len(documentation) >= 2


def test_reference_lists_every_iris_once_sorted_with_text_cells() -> None:
    sheet = openpyxl.load_workbook(REFERENCE)["Emboitements_IRIS"]
    data = [row for row in sheet.iter_rows(min_row=7) if row[0].value is not None]
    values = [tuple(cell.value for cell in row) for row in data]
    by_code = contours().set_index("CODE_IRIS")
    assert [v[0] for v in values] == sorted(polygons())
    assert all(cell.data_type == "s" for row in data for cell in row)
    for code, lib, typ, grd_quart, depcom, libcom, uu, reg, dep in values:
        iris = by_code.loc[code]
        assert (lib, typ, depcom, libcom) == (
            iris["NOM_IRIS"],
            iris["TYP_IRIS"],
            iris["INSEE_COM"],
            iris["NOM_COM"],
        ), code
        assert grd_quart == code[:7], code
        assert (uu, reg, dep) == ("33701", "75", "33"), code


# --- base-ic-demo.csv --------------------------------------------------------


def test_population_has_base_ic_columns_and_one_row_per_iris() -> None:
    header = POPULATION.read_text(encoding="utf-8").splitlines()[0]
    table = population()
    assert header == "IRIS;COM;TYP_IRIS;LAB_IRIS;P21_POP;P21_MEN"
    assert table["IRIS"].tolist() == sorted(polygons())
    assert (table["COM"] == table["IRIS"].str[:5]).all()
    assert (table["LAB_IRIS"] == "1").all()
    types = contours().set_index("CODE_IRIS")["TYP_IRIS"]
    assert table["TYP_IRIS"].tolist() == types.loc[table["IRIS"]].tolist()


def test_types_and_populations_are_in_range() -> None:
    for row in population().to_dict("records"):
        people, households = int(row["P21_POP"]), int(row["P21_MEN"])
        if row["TYP_IRIS"] == "H":
            assert 1800 <= people <= 5000, row
        else:
            assert row["TYP_IRIS"] in {"A", "D"}, row
            assert 100 <= people <= 600, row
        assert 1.9 - 0.01 <= people / households <= 2.3 + 0.01, row


def test_mostly_habitat_with_a_few_small_iris() -> None:
    types = population()["TYP_IRIS"].tolist()
    assert types.count("H") >= 0.8 * len(types)
    assert 3 <= (population()["P21_POP"].astype(int) <= 600).sum() <= 10


def test_population_totals_equal_the_readme_table() -> None:
    table = population().assign(
        P21_POP=population()["P21_POP"].astype(int), P21_MEN=population()["P21_MEN"].astype(int)
    )
    readme = readme_table()
    for name, rows in (
        ("Bordeaux", table[table["COM"] == "33063"]),
        ("Le Bouscat", table[table["COM"] == "33069"]),
        ("total", table),
    ):
        _, n_iris, a_d, pop, men = readme[name]
        kinds = rows["TYP_IRIS"].value_counts()
        assert int(n_iris) == len(rows), name
        assert a_d == f"{kinds.get('A', 0)} / {kinds.get('D', 0)}", name
        assert int(pop.replace(",", "")) == rows["P21_POP"].sum(), name
        assert int(men.replace(",", "")) == rows["P21_MEN"].sum(), name


# --- QP2024_demo_LB93.shp and QP2024_demo_WGS84.geojson ----------------------


def test_qpv_shapefile_is_lambert93_utf8_with_anct_fields() -> None:
    info = pyogrio.read_info(QPV_SHP)
    table = qpv().set_index("code_qp")
    assert all(QPV_SHP.with_suffix(ext).is_file() for ext in (".shx", ".dbf", ".prj", ".cpg"))
    assert QPV_SHP.with_suffix(".cpg").read_text().strip() == "UTF-8"
    assert info["crs"] == "EPSG:2154" and info["encoding"] == "UTF-8"
    assert info["fields"].tolist() == QPV_FIELDS
    assert info["dtypes"].tolist() == ["object"] * len(QPV_FIELDS)
    assert table.index.tolist() == ["QN03301M", "QN03302M", "QN03303M"]
    assert table["insee_com"].tolist() == ["33063", "33063", "33063, 33069"]
    assert table["lib_com"].tolist() == ["Bordeaux", "Bordeaux", "Bordeaux, Le Bouscat"]
    assert set(zip(table["insee_dep"], table["insee_reg"], table["siren_epci"], strict=True)) == {
        ("33", "75", "243300316")
    }


def test_qpv_geojson_is_rfc7946_wgs84_with_the_same_features() -> None:
    raw = json.loads(QPV_GEOJSON.read_text(encoding="utf-8"))
    geo = qpv_geojson()
    assert raw["type"] == "FeatureCollection" and "crs" not in raw
    assert geo.crs.to_epsg() == 4326
    assert geo.drop(columns="geometry").equals(qpv().drop(columns="geometry"))
    for geom, shp in zip(geo.geometry, qpv().geometry, strict=True):
        assert geom.geom_type == "MultiPolygon" and geom.geoms[0].exterior.is_ccw
        assert shapely.hausdorff_distance(project(geom, WGS84_TO_L93), shp) < 0.05  # metres


def test_qpv_are_valid_realistic_and_inside_the_communes() -> None:
    territory = shapely.union_all(list(polygons().values()))
    for code, polygon in zip(qpv()["code_qp"], qpv().geometry, strict=True):
        assert polygon.is_valid, code
        assert 300_000 <= polygon.area <= 1_200_000, (code, polygon.area)  # m²
        assert territory.contains(polygon), code


def test_each_qpv_cuts_two_to_five_iris_leaving_parts_of_them_outside() -> None:
    people = population().set_index("IRIS")["P21_POP"].astype(int)
    for code in qpv()["code_qp"]:
        polygon = qpv_polygon(code)
        cut = cut_iris(polygon)
        inhabitants = sum(people[iris] * area / polygons()[iris].area for iris, area in cut.items())
        assert 2 <= len(cut) <= 5, (code, cut)
        assert all(polygons()[iris].difference(polygon).area > 1000 for iris in cut), code
        assert inhabitants >= 2500, (code, inhabitants)  # several thousand, by area share


def test_qn03303m_straddles_bordeaux_and_le_bouscat_the_others_in_bordeaux() -> None:
    bordeaux, bouscat = commune_union("33063"), commune_union("33069")
    straddling = qpv_polygon("QN03303M")
    assert bordeaux.intersection(straddling).area > 10_000
    assert bouscat.intersection(straddling).area > 10_000
    for code in ("QN03301M", "QN03302M"):
        assert bordeaux.contains(qpv_polygon(code)), code


def test_qpv_do_not_overlap() -> None:
    geoms = list(qpv().geometry)
    for i, a in enumerate(geoms):
        for b in geoms[i + 1 :]:
            assert a.intersection(b).area == 0


# --- quartiers_bordeaux.csv --------------------------------------------------


def test_quartiers_put_every_bordeaux_iris_in_exactly_one_of_eight() -> None:
    table = quartiers()
    bordeaux = sorted(code for code in polygons() if code.startswith("33063"))
    header = QUARTIERS.read_text(encoding="utf-8").splitlines()[0]
    assert header == "code_quartier;lib_quartier;CODE_IRIS"
    assert sorted(table["CODE_IRIS"]) == bordeaux  # each once, none missing
    assert dict(zip(table["code_quartier"], table["lib_quartier"], strict=True)) == QUARTIER_NAMES


def test_quartiers_are_made_of_contiguous_iris() -> None:
    for quartier, group in quartiers().groupby("code_quartier"):
        union = shapely.union_all([polygons()[code] for code in group["CODE_IRIS"]])
        assert union.geom_type == "Polygon", quartier  # touching at a corner is not enough


def test_la_bastide_lies_east_and_cauderan_west() -> None:
    def centre_x(quartier: str) -> float:
        codes = quartiers().loc[quartiers()["code_quartier"] == quartier, "CODE_IRIS"]
        return float(shapely.union_all([polygons()[c] for c in codes]).centroid.x)

    centre = commune_union("33063").centroid.x
    assert centre_x("Q7") > centre + 1000  # La Bastide
    assert centre_x("Q8") < centre - 1000  # Caudéran


# --- epci_demo.csv -----------------------------------------------------------


def test_epci_table_maps_both_communes_to_bordeaux_metropole() -> None:
    header = EPCI.read_text(encoding="utf-8").splitlines()[0]
    rows = read_csv(EPCI).to_dict("records")
    assert header == "CODGEO;LIBGEO;EPCI;LIBEPCI;DEP;REG"
    assert rows == [
        {
            "CODGEO": "33063",
            "LIBGEO": "Bordeaux",
            "EPCI": "243300316",
            "LIBEPCI": "Bordeaux Métropole",
            "DEP": "33",
            "REG": "75",
        },
        {
            "CODGEO": "33069",
            "LIBGEO": "Le Bouscat",
            "EPCI": "243300316",
            "LIBEPCI": "Bordeaux Métropole",
            "DEP": "33",
            "REG": "75",
        },
    ]


# --- carreaux_demo.csv -------------------------------------------------------


def test_carreaux_header_and_ids_are_on_the_200m_grid() -> None:
    header = CARREAUX.read_text(encoding="utf-8").splitlines()[0]
    assert header == "carreau;CODE_IRIS;poids"
    for carreau in carreau_rows()["carreau"]:
        match = CARREAU_ID.fullmatch(carreau)
        assert match, carreau
        assert int(match[1]) % 200 == 0 and int(match[2]) % 200 == 0, carreau


def test_carreaux_weights_are_positive_and_sum_to_one() -> None:
    rows = carreau_rows()
    weights = rows["poids"].astype(float)
    assert rows["poids"].str.fullmatch(r"[01]\.[0-9]{6}").all()
    assert ((weights > 0) & (weights <= 1)).all()
    assert not rows.duplicated(["carreau", "CODE_IRIS"]).any()
    sums = weights.groupby(rows["carreau"]).sum()
    assert ((sums - 1).abs() < 1e-6).all()


def test_carreaux_name_existing_iris_and_every_iris_has_a_carreau() -> None:
    assert set(carreau_rows()["CODE_IRIS"]) == set(polygons())


def test_carreaux_cover_the_territory() -> None:
    cells = []
    for carreau in carreau_iris():
        match = CARREAU_ID.fullmatch(carreau)
        assert match
        north, east = int(match[1]), int(match[2])
        cells.append(shapely.box(east, north, east + 200, north + 200))
    territory = project(shapely.union_all(list(polygons().values())), L93_TO_LAEA)
    assert territory.difference(shapely.union_all(cells)).area < 1.0  # m²


def test_a_single_iris_carreau_has_its_centre_in_that_iris() -> None:
    single = {c: next(iter(s)) for c, s in carreau_iris().items() if len(s) == 1}
    assert single
    for carreau, code in single.items():
        match = CARREAU_ID.fullmatch(carreau)
        assert match
        x, y = LAEA_TO_L93.transform(int(match[2]) + 100, int(match[1]) + 100)
        assert iris_at(x, y) in ([code], []), carreau  # [] : centre outside


@settings(max_examples=300, deadline=None)
@given(st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_any_point_of_an_iris_falls_in_a_carreau_listing_that_iris(fx: float, fy: float) -> None:
    minx, miny, maxx, maxy = shapely.union_all(list(polygons().values())).bounds
    x, y = minx + fx * (maxx - minx), miny + fy * (maxy - miny)
    found = iris_at(x, y)
    assume(len(found) == 1)
    assert found[0] in carreau_iris()[carreau_of(x, y)]


# --- generator ---------------------------------------------------------------


def test_generator_rewrites_the_same_sources(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(TERRITORY / "generate.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    written = sorted(p.name for p in tmp_path.iterdir())
    by_hand = ("README.md", "territory.yaml")  # the sources' README and the build's manifest
    committed = sorted(p.name for p in SOURCES.iterdir() if p.name not in by_hand)
    assert written == committed
    for name in written:  # text files: byte for byte
        if name.endswith((".csv", ".geojson", ".prj", ".cpg")):
            assert (tmp_path / name).read_bytes() == (SOURCES / name).read_bytes(), name
    for name, layer in ((CONTOURS.name, "contours_iris"), (QPV_SHP.name, None)):
        new = gpd.read_file(tmp_path / name, layer=layer, engine="pyogrio")
        old = gpd.read_file(SOURCES / name, layer=layer, engine="pyogrio")
        assert new.drop(columns="geometry").equals(old.drop(columns="geometry")), name
        assert new.geometry.geom_equals_exact(old.geometry, tolerance=0).all(), name
    for sheet in ("Emboitements_IRIS", "Documentation"):
        new_rows = list(openpyxl.load_workbook(tmp_path / REFERENCE.name)[sheet].values)
        old_rows = list(openpyxl.load_workbook(REFERENCE)[sheet].values)
        assert new_rows == old_rows, sheet
