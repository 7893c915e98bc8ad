"""Shared material for the geography and aggregation tests: the committed demo
territory and a tiny synthetic one written to a temporary directory."""

from __future__ import annotations

import functools
import json
from pathlib import Path

from hub.geography import Territory, load_territory

ROOT = Path(__file__).resolve().parents[3]
DEMO_TERRITORY = ROOT / "deploy" / "demo" / "territory"
DEMO_INDICATORS = ROOT / "deploy" / "demo" / "indicators.yaml"

# Synthetic: commune 33001 is two unit squares side by side (x 0-1 and 1-2),
# commune 33002 the square above the first (y 1-2); carreau N…E… is shared
# 1/4 - 3/4 by the two IRIS of 33001, the other lies in 33002 alone.
LEFT, RIGHT, TOP = "330010101", "330010102", "330020101"
SHARED_CELL = "CRS3035RES200mN2000000E3000000"
TOP_CELL = "CRS3035RES200mN2000200E3000000"

IRIS_CSV = (
    "CODE_IRIS;LIB_IRIS;TYP_IRIS;DEPCOM;LIBCOM;P_POP;P_MEN\n"
    f"{LEFT};Gauche;H;33001;Une;2000;900\n"
    f"{RIGHT};Droite;H;33001;Une;1800;800\n"
    f"{TOP};Haut;H;33002;Deux;2100;1000\n"
)
CARREAUX_CSV = (
    "carreau;CODE_IRIS;poids\n"
    f"{SHARED_CELL};{RIGHT};0.750000\n"
    f"{SHARED_CELL};{LEFT};0.250000\n"
    f"{TOP_CELL};{TOP};1.000000\n"
)


def square(x: float, y: float) -> dict[str, object]:
    ring = [[x, y], [x + 1, y], [x + 1, y + 1], [x, y + 1], [x, y]]
    return {"type": "Polygon", "coordinates": [ring]}


def feature(code: str, geometry: object) -> dict[str, object]:
    return {"type": "Feature", "properties": {"CODE_IRIS": code}, "geometry": geometry}


def geojson(features: list[dict[str, object]]) -> str:
    return json.dumps({"type": "FeatureCollection", "features": features})


SYNTHETIC_FEATURES = [
    feature(LEFT, square(0, 0)),
    feature(RIGHT, square(1, 0)),
    feature(TOP, square(0, 1)),
]


def write_synthetic(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "iris.csv").write_text(IRIS_CSV, encoding="utf-8")
    (directory / "iris.geojson").write_text(geojson(SYNTHETIC_FEATURES), encoding="utf-8")
    (directory / "carreaux.csv").write_text(CARREAUX_CSV, encoding="utf-8")
    return directory


@functools.cache
def demo_territory() -> Territory:
    return load_territory(DEMO_TERRITORY)
