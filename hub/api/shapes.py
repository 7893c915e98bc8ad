"""The polygons a GeoJSON answer draws, computed once when the API starts:
each IRIS as given, each area of a level made of IRIS (commune, EPCI, a
city's quartiers) as the union of its IRIS, each area of a level that cuts
IRIS (QPV, commune hors QPV, polygon zones) as the union of its atoms.

Every polygon written follows the right-hand rule of RFC 7946 §3.1.6: exterior
rings counter-clockwise, holes clockwise (a union gives them the other way)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import shapely

from hub.geography import POLYGONS_FILE, Territory, load_polygons, load_territory

Geometry = dict[str, Any]  # a GeoJSON geometry object


@dataclass(frozen=True)
class Shape:
    name: str
    geometry: Geometry


@dataclass(frozen=True)
class Shapes:
    """(level, code) → name and GeoJSON geometry."""

    by_key: Mapping[tuple[str, str], Shape] = field(default_factory=dict)

    def get(self, level: str, code: str) -> Shape | None:
        return self.by_key.get((level, code))


def shapes_of(territory: Territory, polygons: Mapping[str, Any]) -> Shapes:
    """Every area of every level of the territory, by (level, code)."""
    shapes: dict[tuple[str, str], Shape] = {}
    for level in territory.levels:
        for area in territory.areas(level):
            if level == "iris":
                union = polygons[area.code]
            elif territory.made_of_iris(level):
                union = shapely.union_all([polygons[c] for c in area.iris])
            else:
                union = shapely.union_all([territory.atom_polygon(a) for a in area.atoms])
            shapes[(level, area.code)] = Shape(area.name, _geometry(union))
    return Shapes(shapes)


def load_shapes(directory: Path) -> Shapes:
    """The shapes of a territory directory (`TerritoryError` if it is not one)."""
    territory = load_territory(directory)
    return shapes_of(territory, load_polygons(directory / POLYGONS_FILE))


def _geometry(geometry: Any) -> Geometry:
    """The GeoJSON of a (Multi)Polygon, its rings oriented as RFC 7946 requires."""
    oriented = shapely.orient_polygons(geometry, exterior_cw=False)
    value: Geometry = json.loads(shapely.to_geojson(oriented))
    return value
