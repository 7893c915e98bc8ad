"""The polygons a GeoJSON answer draws: each IRIS, and each commune as the
union of its IRIS, computed once when the API starts.

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
    """IRIS polygons as given; commune polygons as the union of their IRIS."""
    shapes: dict[tuple[str, str], Shape] = {}
    for code in territory.iris:
        unit = territory.unit(code)
        name = unit.name if unit is not None else code
        shapes[("iris", code)] = Shape(name, _geometry(polygons[code]))
    for commune in territory.communes():
        union = shapely.union_all([polygons[c] for c in territory.iris_of_commune(commune)])
        shapes[("commune", commune)] = Shape(
            territory.commune_name(commune) or commune, _geometry(union)
        )
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
