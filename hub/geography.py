"""The territory: IRIS, their communes, their polygons and the grid-to-IRIS table.

`load_territory(directory)` reads the three files of a territory directory
once (formats in deploy/demo/territory/README.md):

- `iris.csv`: `CODE_IRIS;LIB_IRIS;TYP_IRIS;DEPCOM;LIBCOM`, optionally
  `P_POP;P_MEN` (population, households), `;` or `,` separated, UTF-8;
- `iris.geojson`: one WGS84 (lon/lat) Polygon or MultiPolygon feature per
  IRIS, property `CODE_IRIS`;
- `carreaux.csv`: `carreau;CODE_IRIS;poids`, each 200 m grid cell's share
  per IRIS.

and checks that they agree (every IRIS has exactly one polygon, every
polygon and every weighted IRIS is listed, each cell's weights sum to 1).
Anything missing, garbled or inconsistent is a `TerritoryError`. After
loading, a `Territory` is immutable and touches no file.

Point-in-polygon goes through a shapely `STRtree` over the polygons. A
point counts as inside a polygon when it intersects it, boundary included,
so a point on the territory's outer edge is placed; a point on a boundary
that several IRIS share is placed in the one with the smallest code, the
same answer for `locate_point` and `locate_points`, whatever the order of
the input. `locate_points` is the vectorised form for a chunk of records:
one `STRtree.query(points, predicate="intersects")` call for all of them.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from numpy.typing import ArrayLike
from shapely.geometry import MultiPolygon, Point, Polygon, shape

from hub.errors import TerritoryError

IRIS_FILE = "iris.csv"
POLYGONS_FILE = "iris.geojson"
CARREAUX_FILE = "carreaux.csv"

IRIS_CODE = re.compile(r"^(?:[0-9]{2}|2[AB])[0-9]{7}$")
COMMUNE_CODE = re.compile(r"^(?:[0-9]{2}|2[AB])[0-9]{3}$")
CARREAU_CODE = re.compile(r"^CRS3035RES200mN[0-9]{7}E[0-9]{7}$")
IRIS_COLUMNS = ("CODE_IRIS", "LIB_IRIS", "TYP_IRIS", "DEPCOM", "LIBCOM")
CARREAU_COLUMNS = ("carreau", "CODE_IRIS", "poids")
WEIGHT_TOLERANCE = 1e-4  # a cell's weights sum to 1 up to their written rounding

Weights = tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class IrisUnit:
    """One IRIS as INSEE lists it."""

    code: str
    name: str
    kind: str  # TYP_IRIS: H (habitat), A (activité), D (divers), Z (commune not split)
    commune: str
    commune_name: str
    population: int | None = None
    households: int | None = None


@dataclass(frozen=True)
class _Carreau:
    weights: Weights  # sorted by IRIS code, normalised to sum to 1
    cumulative: tuple[float, ...]  # running sums of the weights, the last exactly 1.0


class Territory:
    """The IRIS of a territory with their polygons and grid weights, indexed once."""

    def __init__(
        self,
        units: Iterable[IrisUnit],
        polygons: Mapping[str, Polygon | MultiPolygon],
        carreaux: Mapping[str, Sequence[tuple[str, float]]],
        source: str = "<territory>",
    ) -> None:
        self._units: dict[str, IrisUnit] = {}
        for unit in sorted(units, key=lambda u: u.code):
            if unit.code in self._units:
                raise TerritoryError(source, f"IRIS {unit.code} is listed twice")
            self._units[unit.code] = unit
        if not self._units:
            raise TerritoryError(source, "no IRIS")
        missing = sorted(set(self._units) - set(polygons))
        unknown = sorted(set(polygons) - set(self._units))
        if missing or unknown:
            raise TerritoryError(
                source,
                "polygons and IRIS list disagree: "
                f"without polygon {_few(missing)}; polygon of an unlisted IRIS {_few(unknown)}",
            )
        self._codes: tuple[str, ...] = tuple(self._units)  # sorted
        self._communes: dict[str, tuple[str, ...]] = {}
        for unit in self._units.values():
            self._communes[unit.commune] = (*self._communes.get(unit.commune, ()), unit.code)
        self._communes = dict(sorted(self._communes.items()))
        # Tree positions follow code order: the smallest hit is the smallest code.
        self._geometries = np.array([polygons[code] for code in self._codes], dtype=object)
        self._tree = shapely.STRtree(self._geometries)
        self._carreaux = {
            carreau: _carreau(carreau, weights, set(self._units), source)
            for carreau, weights in sorted(carreaux.items())
        }

    # ---- reference data

    @property
    def iris(self) -> tuple[str, ...]:
        """Every IRIS code, sorted."""
        return self._codes

    def __contains__(self, code: object) -> bool:
        return code in self._units

    def __len__(self) -> int:
        return len(self._units)

    def unit(self, code: str) -> IrisUnit | None:
        return self._units.get(code)

    def communes(self) -> tuple[str, ...]:
        """Every commune code, sorted."""
        return tuple(self._communes)

    def commune_name(self, code: str) -> str | None:
        iris = self._communes.get(code)
        return self._units[iris[0]].commune_name if iris else None

    def iris_of_commune(self, code: str) -> tuple[str, ...]:
        """The commune's IRIS codes, sorted; empty for a commune not in the territory."""
        return self._communes.get(code, ())

    def commune_of(self, iris: str) -> str | None:
        unit = self._units.get(iris)
        return unit.commune if unit else None

    # ---- points

    def locate_point(self, lon: float, lat: float) -> str | None:
        """The IRIS containing a WGS84 point (boundary: smallest code), or None."""
        if not (math.isfinite(lon) and math.isfinite(lat)):
            return None
        hits = self._tree.query(Point(lon, lat), predicate="intersects")
        return self._codes[int(hits.min())] if hits.size else None

    def locate_points(self, lons: ArrayLike, lats: ArrayLike) -> list[str | None]:
        """`locate_point` for many points at once, in one spatial-index query."""
        x = np.asarray(lons, dtype=np.float64)
        y = np.asarray(lats, dtype=np.float64)
        if x.shape != y.shape or x.ndim != 1:
            raise ValueError("lons and lats must be one-dimensional and of the same length")
        found = np.full(x.shape[0], -1, dtype=np.intp)
        finite = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
        if finite.size:
            inputs, hits = self._tree.query(
                shapely.points(x[finite], y[finite]), predicate="intersects"
            )
            if inputs.size:
                order = np.lexsort((hits, inputs))  # by point, then smallest code first
                inputs, hits = inputs[order], hits[order]
                first = np.ones(inputs.shape[0], dtype=bool)
                first[1:] = inputs[1:] != inputs[:-1]
                found[finite[inputs[first]]] = hits[first]
        codes = self._codes
        return [codes[i] if i >= 0 else None for i in found.tolist()]

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(min lon, min lat, max lon, max lat) of every polygon."""
        minx, miny, maxx, maxy = shapely.total_bounds(self._geometries).tolist()
        return minx, miny, maxx, maxy

    # ---- grid cells

    @property
    def carreaux(self) -> tuple[str, ...]:
        """Every grid cell id with weights, sorted."""
        return tuple(self._carreaux)

    def carreau_weights(self, carreau: str) -> Weights | None:
        """((IRIS, weight), …) of a grid cell, sorted by code, summing to 1; None if unknown."""
        cell = self._carreaux.get(carreau)
        return cell.weights if cell else None

    def carreau_iris(self, carreau: str, draw: float) -> str | None:
        """The IRIS whose slice of [0, 1) holds `draw`, slices in code order and
        as wide as the weights; None for an unknown cell. docs/aggregation.md."""
        cell = self._carreaux.get(carreau)
        if cell is None:
            return None
        if not 0.0 <= draw < 1.0:
            raise ValueError(f"draw {draw!r} is not in [0, 1)")
        return cell.weights[bisect_right(cell.cumulative, draw)][0]


def _carreau(
    carreau: str, weights: Sequence[tuple[str, float]], known: set[str], source: str
) -> _Carreau:
    by_code: dict[str, float] = {}
    for code, weight in weights:
        if code not in known:
            raise TerritoryError(source, f"carreau {carreau}: IRIS {code} is not listed")
        if code in by_code:
            raise TerritoryError(source, f"carreau {carreau}: IRIS {code} appears twice")
        if not (math.isfinite(weight) and 0.0 <= weight <= 1.0):
            raise TerritoryError(source, f"carreau {carreau}: weight {weight!r} not in [0, 1]")
        by_code[code] = weight
    total = sum(by_code.values())
    if abs(total - 1.0) > WEIGHT_TOLERANCE:
        raise TerritoryError(source, f"carreau {carreau}: weights sum to {total:.6f}, not 1")
    # A zero weight gets no slice: it is left out, so no draw can land on it.
    ordered = tuple((code, by_code[code] / total) for code in sorted(by_code) if by_code[code] > 0)
    running, cumulative = 0.0, []
    for _, weight in ordered:
        running += weight
        cumulative.append(running)
    cumulative[-1] = 1.0  # no draw in [0, 1) may fall past the last IRIS
    return _Carreau(ordered, tuple(cumulative))


def _few(codes: Sequence[str]) -> str:
    if not codes:
        return "none"
    return ", ".join(codes[:5]) + (f" and {len(codes) - 5} more" if len(codes) > 5 else "")


# ---- loading


def load_territory(directory: Path) -> Territory:
    """Read and check `iris.csv`, `iris.geojson` and `carreaux.csv` of a directory."""
    units = load_iris_list(directory / IRIS_FILE)
    polygons = load_polygons(directory / POLYGONS_FILE)
    carreaux = load_carreaux(directory / CARREAUX_FILE)
    return Territory(units, polygons, carreaux, source=str(directory))


def load_iris_list(path: Path) -> list[IrisUnit]:
    """The IRIS list in INSEE's columns (population columns optional)."""
    units: list[IrisUnit] = []
    for line, row in _csv_rows(path, IRIS_COLUMNS):
        code, commune = row["CODE_IRIS"], row["DEPCOM"]
        if not IRIS_CODE.match(code):
            raise TerritoryError(str(path), f"CODE_IRIS {code!r} is not an IRIS code", line)
        if not COMMUNE_CODE.match(commune) or not code.startswith(commune):
            raise TerritoryError(str(path), f"DEPCOM {commune!r} does not prefix {code}", line)
        units.append(
            IrisUnit(
                code=code,
                name=row["LIB_IRIS"],
                kind=row["TYP_IRIS"],
                commune=commune,
                commune_name=row["LIBCOM"],
                population=_count(row.get("P_POP"), path, line, "P_POP"),
                households=_count(row.get("P_MEN"), path, line, "P_MEN"),
            )
        )
    return units


def load_polygons(path: Path) -> dict[str, Polygon | MultiPolygon]:
    """CODE_IRIS → polygon from a GeoJSON FeatureCollection (WGS84)."""
    try:
        document = json.loads(_read(path))
        features = document["features"]
        if document.get("type") != "FeatureCollection" or not isinstance(features, list):
            raise TypeError("not a FeatureCollection")
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise TerritoryError(str(path), f"not a GeoJSON FeatureCollection ({exc})") from exc
    polygons: dict[str, Polygon | MultiPolygon] = {}
    for number, feature in enumerate(features, start=1):
        where = f"feature {number}"
        try:
            code = feature["properties"]["CODE_IRIS"]
            geometry = shape(feature["geometry"])
        except (TypeError, KeyError, ValueError, AttributeError, IndexError) as exc:
            raise TerritoryError(str(path), f"{where}: no CODE_IRIS or no geometry") from exc
        except shapely.errors.ShapelyError as exc:
            raise TerritoryError(str(path), f"{where}: unreadable geometry ({exc})") from exc
        if not isinstance(code, str) or not IRIS_CODE.match(code):
            raise TerritoryError(str(path), f"{where}: CODE_IRIS {code!r} is not an IRIS code")
        if not isinstance(geometry, Polygon | MultiPolygon) or geometry.is_empty:
            raise TerritoryError(str(path), f"{where} ({code}): not a (Multi)Polygon")
        if not geometry.is_valid:
            reason = shapely.is_valid_reason(geometry)
            raise TerritoryError(str(path), f"{where} ({code}): invalid polygon ({reason})")
        if code in polygons:
            raise TerritoryError(str(path), f"{where}: IRIS {code} has a second feature")
        polygons[code] = geometry
    return polygons


def load_carreaux(path: Path) -> dict[str, list[tuple[str, float]]]:
    """carreau → [(CODE_IRIS, poids), …] from the grid-to-IRIS table."""
    carreaux: dict[str, list[tuple[str, float]]] = {}
    for line, row in _csv_rows(path, CARREAU_COLUMNS):
        carreau = row["carreau"]
        if not CARREAU_CODE.match(carreau):
            raise TerritoryError(str(path), f"carreau {carreau!r} is not a 200 m grid id", line)
        try:
            weight = float(row["poids"])
        except ValueError:
            raise TerritoryError(
                str(path), f"poids {row['poids']!r} is not a number", line
            ) from None
        carreaux.setdefault(carreau, []).append((row["CODE_IRIS"], weight))
    return carreaux


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise TerritoryError(str(path), "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TerritoryError(str(path), f"unreadable ({exc})") from exc


def _csv_rows(path: Path, required: Sequence[str]) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) of a `;`- or `,`-separated file with a header row."""
    text = _read(path)
    header = text.split("\n", 1)[0]
    delimiter = ";" if ";" in header else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        columns = [c.strip() for c in next(reader)]
    except StopIteration:
        raise TerritoryError(str(path), "empty file") from None
    absent = [c for c in required if c not in columns]
    if absent:
        raise TerritoryError(str(path), f"missing column(s) {', '.join(absent)}", 1)
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for values in reader:
            if not values or values == [""]:
                continue
            if len(values) != len(columns):
                raise TerritoryError(
                    str(path),
                    f"{len(values)} fields, expected {len(columns)}",
                    reader.line_num,
                )
            rows.append(
                (reader.line_num, dict(zip(columns, (v.strip() for v in values), strict=True)))
            )
    except csv.Error as exc:
        raise TerritoryError(str(path), f"malformed CSV ({exc})", reader.line_num) from exc
    if not rows:
        raise TerritoryError(str(path), "no rows")
    return rows


def _count(value: str | None, path: Path, line: int, column: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except ValueError:
        raise TerritoryError(str(path), f"{column} {value!r} is not an integer", line) from None
    if number < 0:
        raise TerritoryError(str(path), f"{column} {value!r} is negative", line)
    return number
