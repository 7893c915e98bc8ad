"""The territory: IRIS, their communes, the levels above them, the atoms, the grid.

`load_territory(directory)` reads a territory directory once (formats in
docs/territory.md; `obshub territory build` writes one from the official
IGN, INSEE and ANCT files):

- `iris.csv`: `CODE_IRIS;LIB_IRIS;TYP_IRIS;DEPCOM;LIBCOM`, optionally
  `P_POP;P_MEN` (population, households), `;` or `,` separated, UTF-8;
- `iris.geojson`: one WGS84 (lon/lat) Polygon or MultiPolygon feature per
  IRIS, property `CODE_IRIS`;
- `carreaux.csv` (optional): `carreau;CODE_IRIS;poids`, each 200 m grid
  cell's share per IRIS;
- `territory.json` (optional): the levels published and what each is made
  of (`iris`: whole IRIS; `atoms`: pieces of IRIS); without it, `iris` and
  `commune`;
- `areas.csv` (optional): `level;code;name;CODE_IRIS`, the areas of the
  levels above commune (one row per member IRIS for a level made of IRIS,
  one row with no IRIS for a level made of atoms);
- `atoms.geojson` (optional): the overlay of every published geography, one
  WGS84 feature per atom (`atom`, `CODE_IRIS`, `qpv`, one property per
  polygon zone level, `area_m2`); without it, each IRIS is one atom.

Levels. `iris`, `commune` and the levels made of whole IRIS (`epci`, zones
given as IRIS lists) are unions of IRIS; `qpv`, `commune_hors_qpv` (the
atoms of a commune outside every QPV) and zones given as polygons are
unions of atoms. Every area of every level is an exact union of atoms, and
a record placed in an atom (a point) counts in every area holding it; a
record placed in an IRIS only (an IRIS code, a grid cell) counts in the
levels made of IRIS only.

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
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike
from shapely.geometry import MultiPolygon, Polygon, shape

from hub.errors import TerritoryError

IRIS_FILE = "iris.csv"
POLYGONS_FILE = "iris.geojson"
CARREAUX_FILE = "carreaux.csv"
AREAS_FILE = "areas.csv"
ATOMS_FILE = "atoms.geojson"
MANIFEST_FILE = "territory.json"
AREA_COLUMNS = ("level", "code", "name", "CODE_IRIS")
IRIS_MADE, ATOM_MADE = "iris", "atoms"
BASE_LEVELS = {"iris": IRIS_MADE, "commune": IRIS_MADE}

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
        *,
        levels: Mapping[str, str] | None = None,
        areas: Iterable[tuple[str, str, str, str]] = (),
        atoms: Sequence[tuple[AtomUnit, Polygon | MultiPolygon]] | None = None,
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
        self._carreaux = {
            carreau: _carreau(carreau, weights, set(self._units), source)
            for carreau, weights in sorted(carreaux.items())
        }
        if atoms is None:
            atoms = [(AtomUnit(code, code), polygons[code]) for code in self._codes]
        self._atoms: dict[str, AtomUnit] = {}
        for atom, _ in sorted(atoms, key=lambda pair: pair[0].id):
            if atom.iris not in self._units:
                raise TerritoryError(source, f"atom {atom.id}: IRIS {atom.iris} is not listed")
            if atom.id in self._atoms:
                raise TerritoryError(source, f"atom {atom.id} is given twice")
            self._atoms[atom.id] = atom
        self._atom_ids: tuple[str, ...] = tuple(self._atoms)  # sorted
        self._atom_position = {atom: i for i, atom in enumerate(self._atom_ids)}
        shapes = {atom.id: shape for atom, shape in atoms}
        self._atom_geometries = np.array([shapes[a] for a in self._atom_ids], dtype=object)
        self._tree = shapely.STRtree(self._atom_geometries)
        self._iris_atoms: dict[str, tuple[str, ...]] = {}
        for atom in self._atoms.values():
            self._iris_atoms[atom.iris] = (*self._iris_atoms.get(atom.iris, ()), atom.id)
        without = [code for code in self._codes if code not in self._iris_atoms]
        if without:
            raise TerritoryError(source, f"IRIS without atom: {_few(without)}")
        self._levels = dict(levels or BASE_LEVELS)
        self._areas = self._index_areas(areas, source)

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

    # ---- levels, areas, atoms

    def _index_areas(
        self, rows: Iterable[tuple[str, str, str, str]], source: str
    ) -> dict[str, dict[str, AreaUnit]]:
        for level, kind in self._levels.items():
            if kind not in (IRIS_MADE, ATOM_MADE):
                raise TerritoryError(source, f"level {level}: made of {kind!r}, not iris or atoms")
        names: dict[tuple[str, str], str] = {}
        members: dict[tuple[str, str], list[str]] = {}
        for level, code, name, iris in rows:
            if level not in self._levels or level in BASE_LEVELS:
                raise TerritoryError(source, f"area {level} {code}: not a level of the territory")
            names.setdefault((level, code), name or code)
            if iris:
                if iris not in self._units:
                    raise TerritoryError(source, f"{level} {code}: IRIS {iris} is not listed")
                members.setdefault((level, code), []).append(iris)
        index: dict[str, dict[str, AreaUnit]] = {level: {} for level in self._levels}

        def add(level: str, code: str, name: str, atoms: Iterable[str]) -> None:
            ids = tuple(sorted(atoms))
            if not ids:
                raise TerritoryError(source, f"{level} {code}: no atom lies in it")
            iris = tuple(sorted({self._atoms[a].iris for a in ids}))
            index[level][code] = AreaUnit(level, code, name, ids, iris)

        for code in self._codes:
            add("iris", code, self._units[code].name, self._iris_atoms[code])
        for commune, codes in self._communes.items():
            name = self.commune_name(commune) or commune
            add("commune", commune, name, (a for c in codes for a in self._iris_atoms[c]))
        for (level, code), name in sorted(names.items()):
            if self._levels[level] == IRIS_MADE:
                held = members.get((level, code), [])
                add(level, code, name, (a for c in held for a in self._iris_atoms[c]))
            elif level == "qpv":
                add(level, code, name, (a.id for a in self._atoms.values() if a.qpv == code))
            else:
                add(
                    level,
                    code,
                    name,
                    (a.id for a in self._atoms.values() if (level, code) in a.zones),
                )
        if "commune_hors_qpv" in self._levels:
            for commune, codes in self._communes.items():
                outside = [
                    a for c in codes for a in self._iris_atoms[c] if self._atoms[a].qpv is None
                ]
                if outside:
                    name = f"{self.commune_name(commune)} hors QPV"
                    add("commune_hors_qpv", commune, name, outside)
        return index

    @property
    def levels(self) -> tuple[str, ...]:
        """Every level the territory publishes, `iris` and `commune` first."""
        return tuple(self._levels)

    def made_of_iris(self, level: str) -> bool:
        """Whether every area of `level` is a union of whole IRIS."""
        return self._levels.get(level) == IRIS_MADE

    def areas(self, level: str) -> tuple[AreaUnit, ...]:
        """The areas of a level, sorted by code; empty for a level it lacks."""
        return tuple(self._areas.get(level, {}).values())

    def area(self, level: str, code: str) -> AreaUnit | None:
        return self._areas.get(level, {}).get(code)

    @property
    def atoms(self) -> tuple[str, ...]:
        """Every atom id, sorted (an IRIS nothing cuts is one atom named by its code)."""
        return self._atom_ids

    def atom(self, atom_id: str) -> AtomUnit | None:
        return self._atoms.get(atom_id)

    def atom_polygon(self, atom_id: str) -> Polygon | MultiPolygon:
        """The atom's polygon (WGS84)."""
        polygon: Polygon | MultiPolygon = self._atom_geometries[self._atom_position[atom_id]]
        return polygon

    def atoms_of_iris(self, code: str) -> tuple[str, ...]:
        return self._iris_atoms.get(code, ())

    def atoms_of_place(self, place: str) -> tuple[str, ...]:
        """The atoms of a place records were counted in: an atom, or an IRIS."""
        if place in self._atoms:
            return (place,)
        if place.startswith("qpv:"):
            qpv = self.area("qpv", place.removeprefix("qpv:"))
            return qpv.atoms if qpv is not None else ()
        return self._iris_atoms.get(place, ())

    # ---- points

    def locate_point(self, lon: float, lat: float) -> str | None:
        """The IRIS containing a WGS84 point (boundary: smallest code), or None."""
        return self.locate_points([lon], [lat])[0]

    def locate_points(self, lons: ArrayLike, lats: ArrayLike) -> list[str | None]:
        """The IRIS of many WGS84 points at once (`locate_atoms`, then their IRIS)."""
        atoms = self._atoms
        return [None if a is None else atoms[a].iris for a in self.locate_atoms(lons, lats)]

    def locate_atoms(self, lons: ArrayLike, lats: ArrayLike) -> list[str | None]:
        """The atom of each WGS84 point, in one spatial-index query; on a shared
        boundary, the smallest atom id (so the smallest IRIS code)."""
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
        ids = self._atom_ids
        return [ids[i] if i >= 0 else None for i in found.tolist()]

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(min lon, min lat, max lon, max lat) of every polygon."""
        minx, miny, maxx, maxy = shapely.total_bounds(self._atom_geometries).tolist()
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
    """Read and check the files of a territory directory (the optional ones when present)."""
    units = load_iris_list(directory / IRIS_FILE)
    polygons = load_polygons(directory / POLYGONS_FILE)
    carreaux_path = directory / CARREAUX_FILE
    carreaux = load_carreaux(carreaux_path) if carreaux_path.exists() else {}
    levels = dict(BASE_LEVELS)
    manifest_path = directory / MANIFEST_FILE
    if manifest_path.exists():
        levels = load_levels(manifest_path)
    areas_path = directory / AREAS_FILE
    areas = [
        (row["level"], row["code"], row["name"], row["CODE_IRIS"])
        for _, row in (csv_rows(areas_path, AREA_COLUMNS) if areas_path.exists() else [])
    ]
    atoms_path = directory / ATOMS_FILE
    atoms = load_atoms(atoms_path, levels) if atoms_path.exists() else None
    return Territory(
        units, polygons, carreaux, source=str(directory), levels=levels, areas=areas, atoms=atoms
    )


def load_levels(path: Path) -> dict[str, str]:
    """Level -> what it is made of (`iris` or `atoms`), from `territory.json`."""
    try:
        levels = json.loads(_read(path))["levels"]
        if not isinstance(levels, dict):
            raise TypeError("levels is not a mapping")
    except (ValueError, TypeError, KeyError) as exc:
        raise TerritoryError(str(path), f"no `levels` mapping ({exc})") from exc
    if list(levels)[:2] != ["iris", "commune"]:
        raise TerritoryError(str(path), "the levels must begin with iris and commune")
    return {str(level): str(kind) for level, kind in levels.items()}


def load_atoms(
    path: Path, levels: Mapping[str, str]
) -> list[tuple[AtomUnit, Polygon | MultiPolygon]]:
    """The atoms of `atoms.geojson`, with their polygons (WGS84)."""
    zone_levels = [
        level
        for level, kind in levels.items()
        if kind == ATOM_MADE and level not in ("qpv", "commune_hors_qpv")
    ]
    atoms = []
    for where, properties, geometry in _features(path):
        atom_id, iris = properties.get("atom"), properties.get("CODE_IRIS")
        if (
            not isinstance(atom_id, str)
            or not isinstance(iris, str)
            or not atom_id.startswith(iris)
        ):
            raise TerritoryError(str(path), f"{where}: no `atom` id beginning with its CODE_IRIS")
        zones = tuple((level, properties.get(level)) for level in zone_levels)
        area = properties.get("area_m2")
        atoms.append(
            (
                AtomUnit(
                    atom_id,
                    iris,
                    properties.get("qpv"),
                    zones,
                    float(area) if isinstance(area, int | float) else None,
                ),
                geometry,
            )
        )
    return atoms


def load_iris_list(path: Path) -> list[IrisUnit]:
    """The IRIS list in INSEE's columns (population columns optional)."""
    units: list[IrisUnit] = []
    for line, row in csv_rows(path, IRIS_COLUMNS):
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
    polygons: dict[str, Polygon | MultiPolygon] = {}
    for where, properties, geometry in _features(path):
        code = properties.get("CODE_IRIS")
        if not isinstance(code, str) or not IRIS_CODE.match(code):
            raise TerritoryError(str(path), f"{where}: CODE_IRIS {code!r} is not an IRIS code")
        if code in polygons:
            raise TerritoryError(str(path), f"{where}: IRIS {code} has a second feature")
        polygons[code] = geometry
    return polygons


def _features(path: Path) -> list[tuple[str, dict[str, Any], Polygon | MultiPolygon]]:
    """(where, properties, valid polygon) of each feature of a GeoJSON FeatureCollection."""
    try:
        document = json.loads(_read(path))
        features = document["features"]
        if document.get("type") != "FeatureCollection" or not isinstance(features, list):
            raise TypeError("not a FeatureCollection")
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise TerritoryError(str(path), f"not a GeoJSON FeatureCollection ({exc})") from exc
    found = []
    for number, feature in enumerate(features, start=1):
        where = f"feature {number}"
        try:
            properties = feature["properties"]
            geometry = shape(feature["geometry"])
            if not isinstance(properties, dict):
                raise TypeError("properties is not an object")
        except (TypeError, KeyError, ValueError, AttributeError, IndexError) as exc:
            raise TerritoryError(str(path), f"{where}: no properties or no geometry") from exc
        except shapely.errors.ShapelyError as exc:
            raise TerritoryError(str(path), f"{where}: unreadable geometry ({exc})") from exc
        label = properties.get("atom") or properties.get("CODE_IRIS")
        where = f"{where} ({label})" if isinstance(label, str) else where
        if not isinstance(geometry, Polygon | MultiPolygon) or geometry.is_empty:
            raise TerritoryError(str(path), f"{where}: not a (Multi)Polygon")
        if not geometry.is_valid:
            reason = shapely.is_valid_reason(geometry)
            raise TerritoryError(str(path), f"{where}: invalid polygon ({reason})")
        found.append((where, properties, geometry))
    return found


def load_carreaux(path: Path) -> dict[str, list[tuple[str, float]]]:
    """carreau → [(CODE_IRIS, poids), …] from the grid-to-IRIS table."""
    carreaux: dict[str, list[tuple[str, float]]] = {}
    for line, row in csv_rows(path, CARREAU_COLUMNS):
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


def csv_rows(path: Path, required: Sequence[str]) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) of a `;`- or `,`-separated UTF-8 file with a header row
    holding `required`; `TerritoryError` naming the file and line otherwise."""
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


# ---- levels and atoms


@dataclass(frozen=True)
class AtomUnit:
    """A piece of one IRIS that no published boundary cuts."""

    id: str
    iris: str
    qpv: str | None = None
    zones: tuple[tuple[str, str | None], ...] = ()  # (polygon level, zone code or None)
    area_m2: float | None = None


@dataclass(frozen=True)
class AreaUnit:
    """An area of a level: its code, its name, and the atoms it is the union of."""

    level: str
    code: str
    name: str
    atoms: tuple[str, ...]
    iris: tuple[str, ...]  # the IRIS it meets (all of each, for a level made of IRIS)
