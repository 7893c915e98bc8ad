"""GeoJSON answers follow the right-hand rule of RFC 7946 §3.1.6: every
exterior ring counter-clockwise, every hole clockwise, at both levels (IRIS
as given, communes as the union of their IRIS, which shapely draws the other
way round)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import Polygon

from hub.api.app import create_app
from hub.api.auditing import MemoryAuditSink
from hub.api.governance import Governance
from hub.api.shapes import Shapes, load_shapes, shapes_of
from hub.api.tokens import TokenStore
from hub.api.view import ReleaseView
from hub.geography import load_territory
from hub.metrics import HubMetrics
from hub.settings import HubSettings
from tests.unit.hub.api_support import (
    CATALOG,
    CONVENTIONS,
    IN_FORCE,
    KEYS,
    TERRITORY,
    AppClient,
    release,
    row,
)
from tests.unit.hub.geo_support import LEFT, RIGHT, TOP, demo_territory, write_synthetic
from tests.unit.hub.test_api_app import Clock

Ring = Sequence[Sequence[float]]


def signed_area(ring: Ring) -> float:
    """Shoelace: positive when the ring runs counter-clockwise (lon east, lat north)."""
    return sum(x0 * y1 - x1 * y0 for (x0, y0, *_), (x1, y1, *_) in pairwise(ring)) / 2


def polygons_of(geometry: dict[str, Any]) -> Iterator[list[Ring]]:
    """The rings of each polygon of a GeoJSON Polygon or MultiPolygon."""
    if geometry["type"] == "Polygon":
        yield geometry["coordinates"]
    else:
        assert geometry["type"] == "MultiPolygon", geometry["type"]
        yield from geometry["coordinates"]


def wrong_rings(geometry: dict[str, Any]) -> list[str]:
    """The rings of a geometry that break the right-hand rule, described."""
    wrong = []
    for number, (exterior, *holes) in enumerate(polygons_of(geometry)):
        if signed_area(exterior) <= 0:
            wrong.append(f"polygon {number}: exterior ring clockwise")
        wrong += [
            f"polygon {number}: hole {h} counter-clockwise"
            for h, hole in enumerate(holes)
            if signed_area(hole) >= 0
        ]
    return wrong


def test_the_check_tells_the_orientations_apart() -> None:
    ccw = [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]
    assert signed_area(ccw) == 1.0 and signed_area(ccw[::-1]) == -1.0
    assert wrong_rings({"type": "Polygon", "coordinates": [ccw]}) == []
    assert wrong_rings({"type": "Polygon", "coordinates": [ccw[::-1]]})
    square = [[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]]
    hole = [[1, 1], [1, 2], [2, 2], [2, 1], [1, 1]]  # clockwise
    assert wrong_rings({"type": "MultiPolygon", "coordinates": [[square, hole]]}) == []
    assert wrong_rings({"type": "MultiPolygon", "coordinates": [[square, hole[::-1]]]})


@pytest.fixture
def answer(tmp_path: Path) -> dict[str, Any]:
    """The GeoJSON answer for one release of the whole demo territory, both levels."""
    territory = demo_territory()
    rows = [row(code=code, value=20.0) for code in territory.iris] + [
        row(level="commune", code=code, value=600.0) for code in territory.communes()
    ]
    view = ReleaseView()
    view.apply(release(rows=rows))
    view.ready = True
    tokens = TokenStore(tmp_path / "access", scrypt_n=2**10)
    app = create_app(
        HubSettings(state_dir=tmp_path),
        view,
        audit=MemoryAuditSink(),
        tokens=tokens,
        governance=Governance(CONVENTIONS, CATALOG, KEYS),
        shapes=load_shapes(TERRITORY),
        metrics=HubMetrics(),
        clock=Clock(IN_FORCE),
    )
    token = tokens.issue("observatoire-bordeaux").token
    response = AppClient(app).get(
        "/v1/indicators/caf_allocataires",
        params={"format": "geojson"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_every_ring_of_the_demo_answer_follows_the_right_hand_rule(
    answer: dict[str, Any],
) -> None:
    features = answer["features"]
    territory = demo_territory()
    assert {f["id"] for f in features} == {f"iris:{c}" for c in territory.iris} | {
        f"commune:{c}" for c in territory.communes()
    }
    wrong = {f["id"]: problems for f in features if (problems := wrong_rings(f["geometry"]))}
    assert wrong == {}


def test_holes_run_clockwise_at_both_levels(tmp_path: Path) -> None:
    # The synthetic territory, with a hole in LEFT (kept by the commune's union)
    # and TOP given clockwise, as a producer might draw it.
    synthetic = load_territory(write_synthetic(tmp_path / "territory"))
    shell = [(0, 0), (1, 0), (1, 1), (0, 1)]
    hole = [(0.25, 0.25), (0.25, 0.75), (0.75, 0.75), (0.75, 0.25)]
    polygons = {
        LEFT: Polygon(shell[::-1], [hole[::-1]]),  # both rings the wrong way round
        RIGHT: Polygon([(1, 0), (2, 0), (2, 1), (1, 1)]),
        TOP: Polygon([(0, 1), (0, 2), (1, 2), (1, 1)]),  # clockwise
    }
    shapes: Shapes = shapes_of(synthetic, polygons)
    for key, shape in shapes.by_key.items():
        assert wrong_rings(shape.geometry) == [], key
    commune = shapes.get("commune", "33001")
    assert commune is not None
    [(_, *holes)] = list(polygons_of(commune.geometry))
    assert len(holes) == 1  # the union kept LEFT's hole


def test_every_level_of_the_demo_territory_has_its_polygons() -> None:
    from shapely.geometry import shape

    territory = demo_territory()
    shapes = load_shapes(TERRITORY)
    for level in ("qpv", "commune_hors_qpv", "epci", "quartier"):
        areas = territory.areas(level)
        assert areas, level
        for area in areas:
            found = shapes.get(level, area.code)
            assert found is not None, (level, area.code)
            assert wrong_rings(found.geometry) == [], (level, area.code)
            assert shape(found.geometry).is_valid, (level, area.code)
    # the QPV over two communes meets both; each commune is its part in the
    # QPV plus its hors-QPV area, which meets no QPV
    import shapely

    qpv = shapely.union_all(
        [shape(shapes.get("qpv", a.code).geometry) for a in territory.areas("qpv")]
    )  # type: ignore[union-attr]
    straddling = shape(shapes.get("qpv", "QN03303M").geometry)  # type: ignore[union-attr]
    for commune in ("33063", "33069"):
        whole = shape(shapes.get("commune", commune).geometry)  # type: ignore[union-attr]
        outside = shape(shapes.get("commune_hors_qpv", commune).geometry)  # type: ignore[union-attr]
        assert straddling.intersection(whole).area > 1e-6, commune
        assert outside.intersection(qpv).area < 1e-9 * whole.area, commune
        assert abs(outside.area + whole.intersection(qpv).area - whole.area) < 1e-6 * whole.area
