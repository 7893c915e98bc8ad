from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.errors import HubError, TerritoryError
from hub.geography import Territory, load_polygons, load_territory
from tests.unit.hub.geo_support import (
    CARREAUX_CSV,
    DEMO_TERRITORY,
    IRIS_CSV,
    LEFT,
    RIGHT,
    SHARED_CELL,
    SYNTHETIC_FEATURES,
    TOP,
    TOP_CELL,
    demo_territory,
    feature,
    geojson,
    square,
    write_synthetic,
)

POLYGONS = load_polygons(DEMO_TERRITORY / "iris.geojson")
CODES = sorted(POLYGONS)


def brute_force(lon: float, lat: float) -> str | None:
    """Every polygon tested one by one: the smallest code among those touched."""
    point = shapely.Point(lon, lat)
    hits = [code for code in CODES if POLYGONS[code].intersects(point)]
    return min(hits) if hits else None


def padded_bounds() -> tuple[float, float, float, float]:
    minx, miny, maxx, maxy = demo_territory().bounds
    dx, dy = (maxx - minx) * 0.1, (maxy - miny) * 0.1
    return minx - dx, miny - dy, maxx + dx, maxy + dy


# ---- the demo territory's reference data


def test_demo_reference_data_is_consistent() -> None:
    territory = demo_territory()
    with (DEMO_TERRITORY / "iris.csv").open(encoding="utf-8") as fh:
        listed = {row["CODE_IRIS"]: row for row in csv.DictReader(fh, delimiter=";")}
    assert territory.iris == tuple(sorted(listed))
    assert territory.communes() == ("33063", "33069")
    assert territory.commune_name("33069") == "Le Bouscat"
    members = [i for c in territory.communes() for i in territory.iris_of_commune(c)]
    assert sorted(members) == sorted(territory.iris)
    for code, row in listed.items():
        assert territory.commune_of(code) == row["DEPCOM"] == code[:5]
        unit = territory.unit(code)
        assert unit is not None and unit.population == int(row["P_POP"])
    assert territory.commune_of("330639999") is None
    assert territory.iris_of_commune("75056") == ()


def test_demo_carreau_weights_sum_to_one_in_code_order() -> None:
    territory = demo_territory()
    assert territory.carreaux
    shared = 0
    for carreau in territory.carreaux:
        weights = territory.carreau_weights(carreau)
        assert weights is not None
        codes = [code for code, _ in weights]
        assert codes == sorted(codes) and all(code in territory for code in codes)
        assert math.isclose(sum(w for _, w in weights), 1.0, abs_tol=1e-9)
        shared += len(weights) > 1
    assert shared > 0  # the re-aggregation cases exist
    assert territory.carreau_weights("CRS3035RES200mN0000000E0000000") is None


# ---- point in polygon


def test_locate_points_agrees_with_brute_force_on_random_points() -> None:
    rng = np.random.default_rng(20260301)
    minx, miny, maxx, maxy = padded_bounds()
    lons, lats = rng.uniform(minx, maxx, 3000), rng.uniform(miny, maxy, 3000)
    found = demo_territory().locate_points(lons, lats)
    expected = [brute_force(x, y) for x, y in zip(lons.tolist(), lats.tolist(), strict=True)]
    assert found == expected
    assert sum(code is None for code in found) > 0  # the padding falls outside
    assert len({code for code in found if code}) > len(CODES) // 2


@settings(max_examples=300, deadline=None)
@given(st.floats(0, 1), st.floats(0, 1))
def test_locate_point_agrees_with_brute_force(u: float, v: float) -> None:
    minx, miny, maxx, maxy = padded_bounds()
    lon, lat = minx + u * (maxx - minx), miny + v * (maxy - miny)
    expected = brute_force(lon, lat)
    assert demo_territory().locate_point(lon, lat) == expected
    assert demo_territory().locate_points([lon], [lat]) == [expected]


def shared_vertices() -> list[tuple[float, float, list[str]]]:
    """Vertices of one IRIS that lie on another: (lon, lat, IRIS touching it)."""
    points = []
    seen: set[tuple[float, float]] = set()
    for code in CODES:
        for x, y in POLYGONS[code].exterior.coords:
            if (x, y) in seen:
                continue
            seen.add((x, y))
            touching = [c for c in CODES if POLYGONS[c].intersects(shapely.Point(x, y))]
            if len(touching) > 1:
                points.append((x, y, touching))
    return points


def test_points_on_shared_boundaries_go_to_the_smallest_code_in_any_order() -> None:
    territory = demo_territory()
    boundary = shared_vertices()
    assert len(boundary) > 50
    lons = [x for x, _, _ in boundary]
    lats = [y for _, y, _ in boundary]
    expected = [min(touching) for _, _, touching in boundary]
    assert territory.locate_points(lons, lats) == expected
    assert [territory.locate_point(x, y) for x, y in zip(lons, lats, strict=True)] == expected
    order = np.random.default_rng(7).permutation(len(boundary))
    shuffled = territory.locate_points(np.array(lons)[order], np.array(lats)[order])
    assert shuffled == [expected[i] for i in order]


def test_non_finite_and_empty_inputs() -> None:
    territory = demo_territory()
    assert territory.locate_points([], []) == []
    assert territory.locate_points([math.nan, math.inf, 0.0], [44.8, 44.8, math.nan]) == [None] * 3
    assert territory.locate_point(math.nan, 44.8) is None
    assert territory.locate_point(2.35, 48.85) is None  # Paris
    with pytest.raises(ValueError):
        territory.locate_points([0.0, 1.0], [0.0])


# ---- synthetic territory: exact boundaries and grid draws


@pytest.fixture
def synthetic(tmp_path: Path) -> Territory:
    return load_territory(write_synthetic(tmp_path / "territory"))


@pytest.mark.parametrize(
    ("lon", "lat", "expected"),
    [
        (0.5, 0.5, LEFT),
        (1.5, 0.5, RIGHT),
        (0.5, 1.5, TOP),
        (1.0, 0.5, LEFT),  # shared edge LEFT | RIGHT
        (0.5, 1.0, LEFT),  # shared edge LEFT | TOP
        (1.0, 1.0, LEFT),  # corner of all three
        (1.5, 1.0, RIGHT),  # RIGHT's outer edge: covered
        (2.0, 0.0, RIGHT),  # outer corner
        (1.5, 1.5, None),
        (-0.1, 0.5, None),
    ],
)
def test_synthetic_points(synthetic: Territory, lon: float, lat: float, expected: str) -> None:
    assert synthetic.locate_point(lon, lat) == expected
    assert synthetic.locate_points([lon, 0.5], [lat, 0.5]) == [expected, LEFT]


@pytest.mark.parametrize(
    ("draw", "expected"),
    [(0.0, LEFT), (0.2499999, LEFT), (0.25, RIGHT), (0.9999999999, RIGHT)],
)
def test_carreau_draw_slices_follow_code_order(
    synthetic: Territory, draw: float, expected: str
) -> None:
    assert synthetic.carreau_weights(SHARED_CELL) == ((LEFT, 0.25), (RIGHT, 0.75))
    assert synthetic.carreau_iris(SHARED_CELL, draw) == expected
    assert synthetic.carreau_iris(TOP_CELL, draw) == TOP


def test_carreau_draw_outside_unit_interval_is_refused(synthetic: Territory) -> None:
    with pytest.raises(ValueError):
        synthetic.carreau_iris(SHARED_CELL, 1.0)
    assert synthetic.carreau_iris("CRS3035RES200mN0000000E0000000", 0.5) is None


def test_zero_weight_is_never_drawn() -> None:
    from hub.geography import IrisUnit

    units = [IrisUnit(code, code, "H", code[:5], "X") for code in (LEFT, RIGHT)]
    polygons = {LEFT: shapely.box(0, 0, 1, 1), RIGHT: shapely.box(1, 0, 2, 1)}
    territory = Territory(units, polygons, {SHARED_CELL: [(LEFT, 1.0), (RIGHT, 0.0)]})
    assert territory.carreau_weights(SHARED_CELL) == ((LEFT, 1.0),)
    assert territory.carreau_iris(SHARED_CELL, 0.9999999999) == LEFT


# ---- errors


def bowtie() -> dict[str, object]:
    return {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}


CASES: list[tuple[str, str, str, str]] = [
    ("iris.csv", "", "empty file", "empty iris.csv"),
    ("iris.csv", "CODE;NAME\n1;a\n", "missing column", "wrong columns"),
    ("iris.csv", IRIS_CSV.replace(LEFT, "33001010"), "not an IRIS code", "short code"),
    ("iris.csv", IRIS_CSV.replace("2000;900", "2000;beaucoup"), "P_MEN", "bad households"),
    ("iris.csv", IRIS_CSV + f"{LEFT};Encore;H;33001;Une;1;1\n", "listed twice", "duplicate"),
    ("iris.csv", IRIS_CSV.replace(";33002;", ";33003;"), "does not prefix", "commune"),
    ("iris.csv", IRIS_CSV + "330030101;Trop;H\n", "fields", "short row"),
    ("iris.geojson", "{not json", "FeatureCollection", "garbled JSON"),
    ("iris.geojson", '{"type": "Feature"}', "FeatureCollection", "not a collection"),
    ("iris.geojson", geojson(SYNTHETIC_FEATURES[:2]), "without polygon 330020101", "missing"),
    (
        "iris.geojson",
        geojson([*SYNTHETIC_FEATURES, feature("330020102", square(5, 5))]),
        "unlisted IRIS 330020102",
        "polygon of an unlisted IRIS",
    ),
    (
        "iris.geojson",
        geojson([*SYNTHETIC_FEATURES[:2], feature(TOP, bowtie())]),
        "invalid polygon",
        "self-intersecting",
    ),
    (
        "iris.geojson",
        geojson([*SYNTHETIC_FEATURES, feature(TOP, square(0, 1))]),
        "second feature",
        "two features",
    ),
    (
        "iris.geojson",
        geojson([*SYNTHETIC_FEATURES[:2], feature(TOP, {"type": "Point", "coordinates": [0, 0]})]),
        "not a (Multi)Polygon",
        "a point",
    ),
    ("iris.geojson", geojson([{"type": "Feature"}]), "no properties", "no properties"),
    ("carreaux.csv", CARREAUX_CSV.replace("0.750000", "0.700000"), "sum to", "weights"),
    ("carreaux.csv", CARREAUX_CSV.replace("0.750000", "trois"), "not a number", "poids"),
    ("carreaux.csv", CARREAUX_CSV.replace(TOP, "330029999"), "not listed", "unknown IRIS"),
    ("carreaux.csv", CARREAUX_CSV.replace("N2000200", "N20002"), "grid id", "bad id"),
    ("carreaux.csv", "carreau;CODE_IRIS;poids\n", "no rows", "header only"),
]


@pytest.mark.parametrize(("name", "content", "message", "case"), CASES, ids=[c[3] for c in CASES])
def test_garbled_territory_files(
    tmp_path: Path, name: str, content: str, message: str, case: str
) -> None:
    directory = write_synthetic(tmp_path / "territory")
    (directory / name).write_text(content, encoding="utf-8")
    with pytest.raises(TerritoryError, match="territory") as caught:
        load_territory(directory)
    assert message in str(caught.value), case
    assert isinstance(caught.value, HubError)


@pytest.mark.parametrize("name", ["iris.csv", "iris.geojson"])
def test_missing_territory_file(tmp_path: Path, name: str) -> None:
    directory = write_synthetic(tmp_path / "territory")
    (directory / name).unlink()
    with pytest.raises(TerritoryError, match="file not found") as caught:
        load_territory(directory)
    assert caught.value.path.endswith(name)


def test_a_territory_without_grid_table_has_no_grid_cells(tmp_path: Path) -> None:
    directory = write_synthetic(tmp_path / "territory")
    (directory / "carreaux.csv").unlink()
    territory = load_territory(directory)
    assert territory.carreaux == ()
    assert territory.iris == (LEFT, RIGHT, TOP)


def test_comma_separated_and_bom_files_load(tmp_path: Path) -> None:
    directory = write_synthetic(tmp_path / "territory")
    text = IRIS_CSV.replace(";", ",")
    (directory / "iris.csv").write_text("\ufeff" + text, encoding="utf-8")
    territory = load_territory(directory)
    assert territory.iris == (LEFT, RIGHT, TOP)
    assert territory.iris_of_commune("33001") == (LEFT, RIGHT)
