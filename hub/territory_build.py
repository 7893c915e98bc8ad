"""`obshub territory build`: the hub's territory directory from official downloads.

A manifest (YAML, paths relative to it) names the files an operator
downloads and the communes to keep:

    name: Bordeaux et Le Bouscat
    communes: ["33063", "33069"]
    iris: CONTOURS-IRIS_2-1_GPKG_LAMB93_FXX_2024-01-01/.../iris.gpkg   # IGN
    reference: reference_IRIS_geo2024.xlsx                              # INSEE
    population: base-ic-evol-struct-pop-2021.csv                         # INSEE, optional
    qpv: QP2024_France_Hexagonale_LB93.shp                              # ANCT, optional
    epci: epci_2024.csv                                                  # INSEE, optional
    carreaux: carreaux.csv                                               # optional
    zones:                                                               # optional
      quartier: {file: quartiers_bordeaux.csv}                           # IRIS per zone
      secteur: {file: secteurs.gpkg, code: code, name: nom}              # polygons

Formats read (docs/territory.md): IGN CONTOURS-IRIS in either spelling of
its fields (`CODE_IRIS`, `NOM_IRIS`, `TYP_IRIS`, `INSEE_COM`, `NOM_COM`, or
the 2025 generalised product's `code_iris`, `nom_iris`, `type_iris`,
`code_insee`, `nom_commune`); INSEE's table d'appartenance géographique des
IRIS (sheet `Emboitements_IRIS`, header below a few title rows); INSEE's
base infracommunale (`IRIS`, `P<yy>_POP`, `P<yy>_MEN`); ANCT's QPV 2024
contours (shapefile or GeoJSON; `code_qp`, `lib_qp`, `insee_com`,
`siren_epci`…); a commune→EPCI table (`CODGEO`, `EPCI`, `LIBEPCI`); zones as
a CSV of IRIS per zone (`code_<level>`, `lib_<level>`, `CODE_IRIS`) or as
polygons. Every vector file is read with pyogrio and reprojected to the
working CRS (Lambert-93, EPSG:2154, unless the manifest says `crs:`).

What it writes: `iris.csv`, `iris.geojson` (WGS84), `carreaux.csv` (when
given), `areas.csv` (every area of every level above IRIS and commune, with
the IRIS of those made of whole IRIS), `atoms.geojson` (the overlay: the
non-empty pieces of IRIS ∩ QPV ∩ polygon zones, each with its area in m²)
and `territory.json` (levels, atoms, sources and their SHA-256). Every
problem is a `TerritoryBuildError`: one line naming the file, the feature
and what is wrong.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import shapely
import yaml
from shapely.geometry import MultiPolygon, Polygon, mapping
from shapely.geometry.polygon import orient

from hub.errors import TerritoryError
from hub.geography import (
    AREAS_FILE,
    ATOMS_FILE,
    CARREAUX_FILE,
    COMMUNE_CODE,
    IRIS_CODE,
    IRIS_FILE,
    MANIFEST_FILE,
    POLYGONS_FILE,
    csv_rows,
    load_carreaux,
)

WORKING_CRS = "EPSG:2154"
WGS84 = "EPSG:4326"
DECIMALS = 7  # WGS84 degrees written: about 1 cm
SLIVER_M2 = 1.0  # pieces of an IRIS under this area are rounding slivers of the sources
OVERLAP_M2 = 1.0  # two IRIS overlapping by more than this are an error
OUTSIDE_SHARE = 0.001  # a kept QPV may stick out of the kept communes by this share of its area
SHAPEFILE_PARTS = (".dbf", ".shx", ".prj", ".cpg")
LEVEL_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
RESERVED_LEVELS = ("iris", "commune", "qpv", "commune_hors_qpv", "epci")

# CONTOURS-IRIS field names: the classic product's, then the 2025 generalised one's.
IRIS_FIELDS = (
    ("CODE_IRIS", "NOM_IRIS", "TYP_IRIS", "INSEE_COM", "NOM_COM"),
    ("code_iris", "nom_iris", "type_iris", "code_insee", "nom_commune"),
)
REFERENCE_SHEET = "Emboitements_IRIS"
# INSEE's header of that sheet; the build reads the first five.
REFERENCE_HEADER = (
    "CODE_IRIS",
    "LIB_IRIS",
    "TYP_IRIS",
    "GRD_QUART",
    "DEPCOM",
    "LIBCOM",
    "UU2020",
    "REG",
    "DEP",
)
REFERENCE_COLUMNS = ("CODE_IRIS", "LIB_IRIS", "TYP_IRIS", "DEPCOM", "LIBCOM")
QPV_FIELDS = ("code_qp", "lib_qp", "insee_com")
EPCI_COLUMNS = ("CODGEO", "EPCI")
POPULATION = re.compile(r"^P\d\d_POP$")
HOUSEHOLDS = re.compile(r"^P\d\d_MEN$")


class TerritoryBuildError(TerritoryError):
    """A source file cannot be used as given: names the file, the feature, the problem."""

    reason = "bad_territory_source"


# ---- the manifest


@dataclass(frozen=True)
class ZoneSource:
    """A custom level: a CSV of IRIS per zone, or polygons (`code`, `name` fields)."""

    level: str
    file: Path
    code: str | None = None  # polygon files: the code field
    name: str | None = None  # polygon files: the name field
    nested: bool = False  # polygons declared to be unions of whole IRIS

    @property
    def is_csv(self) -> bool:
        return self.file.suffix.lower() == ".csv"


@dataclass(frozen=True)
class Manifest:
    path: Path
    name: str
    communes: tuple[str, ...]
    iris: Path
    reference: Path
    population: Path | None = None
    qpv: Path | None = None
    epci: Path | None = None
    carreaux: Path | None = None
    zones: tuple[ZoneSource, ...] = ()
    crs: str = WORKING_CRS
    sliver_m2: float = SLIVER_M2

    def sources(self) -> list[Path]:
        """Every file read, a shapefile's .dbf, .shx and .prj included."""
        files = [self.iris, self.reference, self.population, self.qpv, self.epci, self.carreaux]
        files += [z.file for z in self.zones]
        found = []
        for path in (f for f in files if f is not None):
            found.append(path)
            if path.suffix.lower() == ".shp":
                found += [p for s in SHAPEFILE_PARTS if (p := path.with_suffix(s)).exists()]
        return found


def load_manifest(path: Path) -> Manifest:
    """The manifest at `path`; paths in it are relative to its directory."""
    where = str(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TerritoryBuildError(where, "no such manifest") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise TerritoryBuildError(where, f"not a readable YAML manifest ({exc})") from exc
    if not isinstance(data, dict):
        raise TerritoryBuildError(where, "not a YAML mapping")
    known = {"name", "communes", "iris", "reference", "population", "qpv", "epci"}
    known |= {"carreaux", "zones", "crs", "sliver_m2"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise TerritoryBuildError(where, f"unknown key(s) {', '.join(unknown)}")
    base = path.parent

    def file(key: str, required: bool = False) -> Path | None:
        value = data.get(key)
        if value is None:
            if required:
                raise TerritoryBuildError(where, f"`{key}` is required")
            return None
        if not isinstance(value, str):
            raise TerritoryBuildError(where, f"`{key}` must be a file path")
        resolved = base / value
        if not resolved.is_file():
            raise TerritoryBuildError(where, f"`{key}`: no such file {resolved}")
        return resolved

    communes = data.get("communes")
    if not isinstance(communes, list) or not communes:
        raise TerritoryBuildError(where, "`communes` must list the commune codes to keep")
    for code in communes:
        if not isinstance(code, str) or not COMMUNE_CODE.match(code):
            raise TerritoryBuildError(where, f"commune {code!r} is not a quoted INSEE code")
    zones = []
    for level, spec in (data.get("zones") or {}).items():
        if not isinstance(level, str) or not LEVEL_NAME.match(level) or level in RESERVED_LEVELS:
            raise TerritoryBuildError(where, f"zones: {level!r} cannot name a level")
        if not isinstance(spec, dict) or "file" not in spec:
            raise TerritoryBuildError(where, f"zones.{level}: give at least `file`")
        zone_file = base / str(spec["file"])
        if not zone_file.is_file():
            raise TerritoryBuildError(where, f"zones.{level}: no such file {zone_file}")
        zone = ZoneSource(
            level, zone_file, spec.get("code"), spec.get("name"), bool(spec.get("nested", False))
        )
        if not zone.is_csv and not zone.code:
            raise TerritoryBuildError(where, f"zones.{level}: polygons need `code: <field>`")
        zones.append(zone)
    iris, reference = file("iris", True), file("reference", True)
    assert iris is not None and reference is not None
    return Manifest(
        path=path,
        name=str(data.get("name") or path.parent.name),
        communes=tuple(sorted(set(communes))),
        iris=iris,
        reference=reference,
        population=file("population"),
        qpv=file("qpv"),
        epci=file("epci"),
        carreaux=file("carreaux"),
        zones=tuple(zones),
        crs=str(data.get("crs") or WORKING_CRS),
        sliver_m2=float(data.get("sliver_m2", SLIVER_M2)),
    )


# ---- reading the sources


@dataclass(frozen=True)
class IrisRow:
    code: str
    name: str
    kind: str
    commune: str
    commune_name: str
    population: int | None
    households: int | None
    shape: Polygon | MultiPolygon  # working CRS


@dataclass(frozen=True)
class Area:
    """An area of a level above IRIS: its name and, if made of whole IRIS, their codes."""

    level: str
    code: str
    name: str
    iris: tuple[str, ...] = ()


@dataclass(frozen=True)
class Atom:
    id: str
    iris: str
    qpv: str | None
    zones: Mapping[str, str | None]  # polygon level -> zone code or None
    shape: Polygon | MultiPolygon  # working CRS

    @property
    def area_m2(self) -> float:
        return float(self.shape.area)


@dataclass
class BuiltTerritory:
    manifest: Manifest
    iris: list[IrisRow]
    areas: list[Area] = field(default_factory=list)
    atoms: list[Atom] = field(default_factory=list)
    levels: dict[str, str] = field(default_factory=dict)  # level -> "iris" or "atoms"

    def summary(self) -> str:
        counts = {level: 0 for level in self.levels}
        counts["iris"] = len(self.iris)
        counts["commune"] = len({row.commune for row in self.iris})
        for area in self.areas:
            counts[area.level] = counts.get(area.level, 0) + 1
        if "commune_hors_qpv" in counts:
            commune = {row.code: row.commune for row in self.iris}
            counts["commune_hors_qpv"] = len({commune[a.iris] for a in self.atoms if a.qpv is None})
        levels = ", ".join(f"{level} {counts[level]}" for level in self.levels)
        return f"{self.manifest.name}: {levels}; {len(self.atoms)} atoms"


def _read_vector(path: Path, crs: str) -> Any:
    """A GeoDataFrame of a vector file in `crs`, read by pyogrio."""
    import geopandas

    try:
        frame = geopandas.read_file(path, engine="pyogrio")
    except Exception as exc:  # pyogrio raises DataSourceError, DataLayerError, OSError…
        raise TerritoryBuildError(str(path), f"not a readable vector file ({exc})") from exc
    if frame.crs is None:
        raise TerritoryBuildError(str(path), "no coordinate reference system (a .prj is missing?)")
    return frame.to_crs(crs)


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _polygon(path: Path, where: str, geometry: Any) -> Polygon | MultiPolygon:
    if geometry is None or geometry.is_empty:
        raise TerritoryBuildError(str(path), f"{where}: no geometry")
    if not isinstance(geometry, Polygon | MultiPolygon):
        raise TerritoryBuildError(str(path), f"{where}: a {geometry.geom_type}, not a polygon")
    if not geometry.is_valid:
        reason = shapely.is_valid_reason(geometry)
        raise TerritoryBuildError(str(path), f"{where}: invalid polygon ({reason})")
    return geometry


def read_contours(path: Path, communes: Sequence[str], crs: str) -> dict[str, dict[str, Any]]:
    """CODE_IRIS -> {name, kind, commune, commune_name, shape} of the kept communes."""
    frame = _read_vector(path, crs)
    columns = set(frame.columns)
    names = next((f for f in IRIS_FIELDS if set(f) <= columns), None)
    if names is None:
        raise TerritoryBuildError(
            str(path),
            "not IGN CONTOURS-IRIS: expected the fields "
            f"{', '.join(IRIS_FIELDS[0])} (or {', '.join(IRIS_FIELDS[1])})",
        )
    code_f, name_f, kind_f, commune_f, commune_name_f = names
    kept = set(communes)
    found: dict[str, dict[str, Any]] = {}
    for number, row in enumerate(frame.itertuples(index=False), start=1):
        values = row._asdict()
        commune = _text(values[commune_f])
        if commune not in kept:
            continue
        code = _text(values[code_f])
        where = f"feature {number} ({code_f} {code!r})"
        if not IRIS_CODE.match(code) or not code.startswith(commune):
            raise TerritoryBuildError(str(path), f"{where}: not an IRIS code of commune {commune}")
        if code in found:
            raise TerritoryBuildError(str(path), f"{where}: IRIS {code} has a second feature")
        found[code] = {
            "name": _text(values[name_f]),
            "kind": _text(values[kind_f]),
            "commune": commune,
            "commune_name": _text(values[commune_name_f]),
            "shape": _polygon(path, where, values["geometry"]),
        }
    missing = sorted(kept - {v["commune"] for v in found.values()})
    if missing:
        raise TerritoryBuildError(str(path), f"no IRIS of commune(s) {', '.join(missing)}")
    _check_no_overlap(path, found)
    return dict(sorted(found.items()))


def _check_no_overlap(path: Path, contours: Mapping[str, Mapping[str, Any]]) -> None:
    codes = list(contours)
    shapes = [contours[c]["shape"] for c in codes]
    tree = shapely.STRtree(shapes)
    left, right = tree.query(shapes, predicate="intersects")
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i < j:
            overlap = shapes[i].intersection(shapes[j]).area
            if overlap > OVERLAP_M2:
                raise TerritoryBuildError(
                    str(path), f"IRIS {codes[i]} and {codes[j]} overlap by {overlap:,.0f} m²"
                )


def read_reference(path: Path, communes: Sequence[str]) -> dict[str, dict[str, str]]:
    """CODE_IRIS -> the INSEE reference row, for the kept communes."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise TerritoryBuildError(str(path), f"not a readable .xlsx workbook ({exc})") from exc
    if REFERENCE_SHEET not in book.sheetnames:
        raise TerritoryBuildError(
            str(path), f"no sheet {REFERENCE_SHEET!r} (sheets: {', '.join(book.sheetnames)})"
        )
    rows = book[REFERENCE_SHEET].iter_rows(values_only=True)
    header: list[str] | None = None
    kept = set(communes)
    found: dict[str, dict[str, str]] = {}
    for number, values in enumerate(rows, start=1):
        cells = [_text(v) for v in values]
        if header is None:
            if "CODE_IRIS" in cells:
                header = cells
                absent = [c for c in REFERENCE_COLUMNS if c not in header]
                if absent:
                    raise TerritoryBuildError(
                        str(path), f"row {number}: missing column(s) {', '.join(absent)}"
                    )
            elif number >= 20:
                break
            continue
        row = dict(zip(header, cells, strict=False))
        if row.get("DEPCOM") not in kept:
            continue
        code = row["CODE_IRIS"]
        if not IRIS_CODE.match(code) or not code.startswith(row["DEPCOM"]):
            raise TerritoryBuildError(
                str(path), f"row {number}: CODE_IRIS {code!r} is not an IRIS of {row['DEPCOM']}"
            )
        if code in found:
            raise TerritoryBuildError(str(path), f"row {number}: IRIS {code} listed twice")
        found[code] = row
    book.close()
    if header is None:
        raise TerritoryBuildError(
            str(path), f"sheet {REFERENCE_SHEET}: no header row with CODE_IRIS in its first rows"
        )
    return found


def read_population(path: Path) -> dict[str, tuple[int | None, int | None]]:
    """CODE_IRIS -> (population, households) from INSEE's base infracommunale."""
    rows = csv_rows(path, ("IRIS",))
    header = rows[0][1]
    pop = next((c for c in header if POPULATION.match(c)), None)
    men = next((c for c in header if HOUSEHOLDS.match(c)), None)
    if pop is None and men is None:
        raise TerritoryBuildError(str(path), "expected a column P<yy>_POP or P<yy>_MEN")
    found: dict[str, tuple[int | None, int | None]] = {}
    for number, row in rows:
        found[row["IRIS"]] = (
            _count(path, number, pop, row.get(pop or "")),
            _count(path, number, men, row.get(men or "")),
        )
    return found


def _count(path: Path, number: int, column: str | None, value: str | None) -> int | None:
    if column is None or value in (None, ""):
        return None
    try:
        count = float(str(value).replace(",", "."))
    except ValueError:
        raise TerritoryBuildError(
            str(path), f"line {number}: {column} {value!r} is not a number"
        ) from None
    if not math.isfinite(count) or count < 0:
        raise TerritoryBuildError(str(path), f"line {number}: {column} {value!r} is not a count")
    return round(count)


@dataclass(frozen=True)
class Qpv:
    code: str
    name: str
    communes: tuple[str, ...]
    epci: str
    shape: Polygon | MultiPolygon


def read_qpv(path: Path, communes: Sequence[str], crs: str, territory: Any) -> list[Qpv]:
    """The QPV of the kept communes (by `insee_com`, which may list several)."""
    frame = _read_vector(path, crs)
    absent = [c for c in QPV_FIELDS if c not in frame.columns]
    if absent:
        raise TerritoryBuildError(
            str(path), f"not ANCT's QPV contours: missing field(s) {', '.join(absent)}"
        )
    kept = set(communes)
    shapely.prepare(territory)  # many intersects tests against one polygon
    pieces: dict[str, list[Any]] = {}
    info: dict[str, dict[str, Any]] = {}
    for number, row in enumerate(frame.itertuples(index=False), start=1):
        values = row._asdict()
        code = _text(values["code_qp"])
        where = f"feature {number} (code_qp {code!r})"
        listed = tuple(c for c in re.split(r"[\s,;]+", _text(values["insee_com"])) if c)
        shape = values["geometry"]
        # a national file holds every QPV: only those meeting the territory are cut
        meets = shape is not None and territory.intersects(shape)
        inside = shape.intersection(territory).area if meets else 0.0
        if not kept & set(listed):
            if inside > OVERLAP_M2:
                raise TerritoryBuildError(
                    str(path),
                    f"{where}: lies {inside:,.0f} m² inside the kept communes but its "
                    f"insee_com {', '.join(listed) or 'is empty'}",
                )
            continue
        if not code:
            raise TerritoryBuildError(str(path), f"feature {number}: no code_qp")
        pieces.setdefault(code, []).append(_polygon(path, where, shape))
        entry = info.setdefault(
            code, {"name": _text(values["lib_qp"]), "communes": set(), "epci": ""}
        )
        entry["communes"] |= set(listed)
        if "siren_epci" in values:
            entry["epci"] = entry["epci"] or _text(values["siren_epci"])
    found = []
    for code, shapes in sorted(pieces.items()):
        shape = shapely.union_all(shapes) if len(shapes) > 1 else shapes[0]
        outside = shape.difference(territory).area
        if outside > OUTSIDE_SHARE * shape.area:
            others = sorted(info[code]["communes"] - kept)
            hint = f" (its communes {', '.join(others)} are not kept)" if others else ""
            raise TerritoryBuildError(
                str(path),
                f"QPV {code}: {outside:,.0f} m² lie outside the kept communes{hint}",
            )
        if shape.intersection(territory).area <= OVERLAP_M2:
            raise TerritoryBuildError(str(path), f"QPV {code}: does not meet the kept IRIS")
        entry = info[code]
        found.append(
            Qpv(code, entry["name"], tuple(sorted(entry["communes"])), entry["epci"], shape)
        )
    for a, b in _pairs(found):
        overlap = a.shape.intersection(b.shape).area
        if overlap > OVERLAP_M2:
            raise TerritoryBuildError(
                str(path), f"QPV {a.code} and {b.code} overlap by {overlap:,.0f} m²"
            )
    return found


def _pairs(items: Sequence[Any]) -> Iterable[tuple[Any, Any]]:
    for i, a in enumerate(items):
        for b in items[i + 1 :]:
            yield a, b


def read_epci(path: Path, communes: Sequence[str]) -> dict[str, tuple[str, str]]:
    """commune -> (EPCI SIREN, EPCI name) from INSEE's commune→EPCI table."""
    kept = set(communes)
    found: dict[str, tuple[str, str]] = {}
    for number, row in csv_rows(path, EPCI_COLUMNS):
        if row["CODGEO"] not in kept:
            continue
        if not re.fullmatch(r"\d{9}", row["EPCI"]):
            raise TerritoryBuildError(
                str(path), f"line {number}: EPCI {row['EPCI']!r} is not a SIREN"
            )
        found[row["CODGEO"]] = (row["EPCI"], row.get("LIBEPCI") or row["EPCI"])
    return found


def read_zone_csv(zone: ZoneSource, iris: Mapping[str, IrisRow]) -> list[Area]:
    """A level made of whole IRIS: `code_<level>;lib_<level>;CODE_IRIS`."""
    code_c, name_c = f"code_{zone.level}", f"lib_{zone.level}"
    rows = csv_rows(zone.file, (code_c, "CODE_IRIS"))
    members: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    seen: dict[str, str] = {}
    for number, row in rows:
        code, member = row[code_c], row["CODE_IRIS"]
        where = f"line {number}"
        if not code:
            raise TerritoryBuildError(str(zone.file), f"{where}: no {code_c}")
        if member not in iris:
            raise TerritoryBuildError(
                str(zone.file), f"{where}: IRIS {member!r} is not in the kept communes"
            )
        if member in seen:
            raise TerritoryBuildError(
                str(zone.file),
                f"{where}: IRIS {member} is in {zone.level} {seen[member]} and {code}",
            )
        seen[member] = code
        members.setdefault(code, []).append(member)
        names.setdefault(code, row.get(name_c) or code)
    return [
        Area(zone.level, code, names[code], tuple(sorted(members[code])))
        for code in sorted(members)
    ]


def read_zone_polygons(
    zone: ZoneSource, crs: str, territory: Any
) -> list[tuple[Area, Polygon | MultiPolygon]]:
    frame = _read_vector(zone.file, crs)
    fields = [f for f in (zone.code, zone.name) if f]
    absent = [f for f in fields if f not in frame.columns]
    if absent:
        raise TerritoryBuildError(str(zone.file), f"missing field(s) {', '.join(absent)}")
    found: dict[str, tuple[Area, Polygon | MultiPolygon]] = {}
    for number, row in enumerate(frame.itertuples(index=False), start=1):
        values = row._asdict()
        code = _text(values[zone.code])
        where = f"feature {number} ({zone.code} {code!r})"
        shape = _polygon(zone.file, where, values["geometry"])
        if shape.intersection(territory).area <= OVERLAP_M2:
            continue
        if code in found:
            raise TerritoryBuildError(str(zone.file), f"{where}: zone {code} has a second feature")
        name = _text(values[zone.name]) if zone.name else code
        found[code] = (Area(zone.level, code, name or code), shape.intersection(territory))
    if not found:
        raise TerritoryBuildError(str(zone.file), "no zone meets the kept communes")
    return [found[code] for code in sorted(found)]


# ---- the build


def build_territory(manifest: Manifest) -> BuiltTerritory:
    """Read and check every source of the manifest; the territory they make."""
    crs = manifest.crs
    contours = read_contours(manifest.iris, manifest.communes, crs)
    reference = read_reference(manifest.reference, manifest.communes)
    without_contour = sorted(set(reference) - set(contours))
    if without_contour:
        raise TerritoryBuildError(
            str(manifest.iris),
            f"IRIS without contour: {_few(without_contour)} (listed in {manifest.reference.name})",
        )
    unlisted = sorted(set(contours) - set(reference))
    if unlisted:
        raise TerritoryBuildError(
            str(manifest.reference),
            f"IRIS not in the reference: {_few(unlisted)} (contours in {manifest.iris.name})",
        )
    population = read_population(manifest.population) if manifest.population else {}
    if population:
        absent = sorted(set(contours) - set(population))
        if absent:
            raise TerritoryBuildError(str(manifest.population), f"no row for IRIS {_few(absent)}")
    rows = {
        code: IrisRow(
            code=code,
            name=reference[code]["LIB_IRIS"] or contours[code]["name"],
            kind=reference[code]["TYP_IRIS"] or contours[code]["kind"],
            commune=contours[code]["commune"],
            commune_name=reference[code]["LIBCOM"] or contours[code]["commune_name"],
            population=population.get(code, (None, None))[0],
            households=population.get(code, (None, None))[1],
            shape=contours[code]["shape"],
        )
        for code in contours
    }
    built = BuiltTerritory(manifest, list(rows.values()))
    built.levels = {"iris": "iris", "commune": "iris"}
    territory = shapely.union_all([row.shape for row in rows.values()])
    qpvs = read_qpv(manifest.qpv, manifest.communes, crs, territory) if manifest.qpv else []
    if manifest.qpv:
        built.levels["qpv"] = "atoms"
        built.levels["commune_hors_qpv"] = "atoms"
        built.areas += [Area("qpv", q.code, q.name) for q in qpvs]
    epci = _epci(manifest, qpvs)
    if epci:
        built.levels["epci"] = "iris"
        by_epci: dict[str, list[str]] = {}
        for row in rows.values():
            by_epci.setdefault(epci[row.commune][0], []).append(row.code)
        names = {siren: name for siren, name in epci.values()}
        built.areas += [
            Area("epci", siren, names[siren], tuple(sorted(members)))
            for siren, members in sorted(by_epci.items())
        ]
    polygon_zones: dict[str, list[tuple[Area, Polygon | MultiPolygon]]] = {}
    for zone in manifest.zones:
        if zone.is_csv:
            built.levels[zone.level] = "iris"
            built.areas += read_zone_csv(zone, rows)
            continue
        shapes = read_zone_polygons(zone, crs, territory)
        if zone.nested:
            built.levels[zone.level] = "iris"
            built.areas += [_nested(zone, area, shape, rows) for area, shape in shapes]
        else:
            built.levels[zone.level] = "atoms"
            built.areas += [area for area, _ in shapes]
            polygon_zones[zone.level] = shapes
    built.atoms = overlay(rows.values(), qpvs, polygon_zones, manifest.sliver_m2)
    return built


def _epci(manifest: Manifest, qpvs: Sequence[Qpv]) -> dict[str, tuple[str, str]]:
    """commune -> (SIREN, name): the EPCI table, else the QPV file's `siren_epci`."""
    if manifest.epci is not None:
        found = read_epci(manifest.epci, manifest.communes)
        source = manifest.epci
    else:
        found = {}
        for qpv in qpvs:
            for commune in qpv.communes:
                if qpv.epci and commune in manifest.communes:
                    found[commune] = (qpv.epci, qpv.epci)
        if not found:
            return {}
        source = manifest.qpv or manifest.path
    absent = [c for c in manifest.communes if c not in found]
    if absent:
        raise TerritoryBuildError(
            str(source), f"no EPCI for commune(s) {', '.join(absent)}: give an `epci` table"
        )
    return found


def _nested(
    zone: ZoneSource, area: Area, shape: Polygon | MultiPolygon, rows: Mapping[str, IrisRow]
) -> Area:
    """A polygon zone declared a union of whole IRIS: the IRIS it holds, or an error."""
    members = []
    for code, row in rows.items():
        inside = row.shape.intersection(shape).area
        outside = row.shape.area - inside
        if inside > OVERLAP_M2 and outside > OVERLAP_M2:
            raise TerritoryBuildError(
                str(zone.file),
                f"{zone.level} {area.code} is declared a union of IRIS but cuts IRIS {code} "
                f"({inside:,.0f} m² inside, {outside:,.0f} m² outside)",
            )
        if inside > OVERLAP_M2:
            members.append(code)
    return Area(area.level, area.code, area.name, tuple(sorted(members)))


def overlay(
    rows: Iterable[IrisRow],
    qpvs: Sequence[Qpv],
    zones: Mapping[str, Sequence[tuple[Area, Polygon | MultiPolygon]]],
    sliver_m2: float = SLIVER_M2,
) -> list[Atom]:
    """The non-empty pieces of IRIS ∩ QPV ∩ polygon zones. An IRIS nothing cuts
    is one atom whose id is its code; the pieces of a cut IRIS are named
    `<CODE_IRIS>:<qpv code or ->` (`:<zone or ->` for each polygon level).
    Pieces under `sliver_m2` join the largest piece of their IRIS."""
    cutters: list[tuple[str, list[tuple[str, Polygon | MultiPolygon]]]] = [
        ("qpv", [(q.code, q.shape) for q in qpvs])
    ]
    cutters += [
        (level, [(a.code, s) for a, s in shapes]) for level, shapes in sorted(zones.items())
    ]
    atoms: list[Atom] = []
    for row in rows:
        pieces: list[tuple[tuple[str | None, ...], Any]] = [((), row.shape)]
        for _, shapes in cutters:
            pieces = [
                ((*key, code), part)
                for key, shape in pieces
                for code, part in _split(shape, shapes)
            ]
        kept = [(key, shape) for key, shape in pieces if shape.area >= sliver_m2]
        if not kept:
            kept = [max(pieces, key=lambda piece: piece[1].area)]
        small = [shape for key, shape in pieces if shape.area < sliver_m2]
        if small:
            largest = max(range(len(kept)), key=lambda i: kept[i][1].area)
            key, shape = kept[largest]
            kept[largest] = (key, shapely.union_all([shape, *small]))
        whole = len(kept) == 1
        for key, shape in kept:
            atom_id = row.code if whole else ":".join([row.code, *(c or "-" for c in key)])
            atoms.append(
                Atom(
                    id=atom_id,
                    iris=row.code,
                    qpv=key[0] if key else None,
                    zones={level: key[i + 1] for i, (level, _) in enumerate(cutters[1:])},
                    shape=_polygonal(shape),
                )
            )
    return sorted(atoms, key=lambda a: a.id)


def _split(
    shape: Any, cutters: Sequence[tuple[str, Polygon | MultiPolygon]]
) -> list[tuple[str | None, Any]]:
    """`shape` cut by non-overlapping `cutters`: the piece in each, and the rest."""
    pieces: list[tuple[str | None, Any]] = []
    rest = shape
    for code, cutter in cutters:
        if not shape.intersects(cutter):
            continue
        part = _polygonal(shape.intersection(cutter))
        if not part.is_empty:
            pieces.append((code, part))
            rest = rest.difference(cutter)
    rest = _polygonal(rest)
    if not rest.is_empty:
        pieces.append((None, rest))
    return pieces


def _polygonal(geometry: Any) -> Any:
    """The polygonal part of an overlay result (lines and points of contact dropped)."""
    if isinstance(geometry, Polygon | MultiPolygon):
        return geometry
    parts = [g for g in getattr(geometry, "geoms", []) if isinstance(g, Polygon) and not g.is_empty]
    return MultiPolygon(parts) if parts else Polygon()


def _few(codes: Sequence[str]) -> str:
    return ", ".join(codes[:5]) + (f" and {len(codes) - 5} more" if len(codes) > 5 else "")


# ---- writing


def write_territory(built: BuiltTerritory, out: Path) -> list[Path]:
    """Write the territory directory; the files written."""
    from pyproj import Transformer

    out.mkdir(parents=True, exist_ok=True)
    to_wgs84 = Transformer.from_crs(built.manifest.crs, WGS84, always_xy=True)

    def wgs84(shape: Any) -> Any:
        moved = shapely.transform(shape, lambda xy: _round(to_wgs84.transform(xy[:, 0], xy[:, 1])))
        if not moved.is_valid:
            moved = _polygonal(shapely.make_valid(moved))
        if isinstance(moved, MultiPolygon) and len(moved.geoms) == 1:
            moved = moved.geoms[0]  # a one-part MultiPolygon of the sources is a Polygon
        return orient_all(moved)

    written = [out / IRIS_FILE, out / POLYGONS_FILE, out / AREAS_FILE, out / MANIFEST_FILE]
    header = ["CODE_IRIS", "LIB_IRIS", "TYP_IRIS", "DEPCOM", "LIBCOM"]
    with_population = any(r.population is not None or r.households is not None for r in built.iris)
    if with_population:
        header += ["P_POP", "P_MEN"]
    lines = [";".join(header)]
    for row in built.iris:
        values = [row.code, row.name, row.kind, row.commune, row.commune_name]
        if with_population:
            values += [_opt(row.population), _opt(row.households)]
        lines.append(";".join(v.replace(";", ",") for v in values))
    (out / IRIS_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")
    _write_geojson(
        out / POLYGONS_FILE,
        built.manifest.name,
        [
            (
                {
                    "CODE_IRIS": r.code,
                    "LIB_IRIS": r.name,
                    "TYP_IRIS": r.kind,
                    "DEPCOM": r.commune,
                    "LIBCOM": r.commune_name,
                },
                wgs84(r.shape),
            )
            for r in built.iris
        ],
    )
    area_lines = ["level;code;name;CODE_IRIS"]
    for area in built.areas:
        name = area.name.replace(";", ",")
        if area.iris:
            area_lines += [f"{area.level};{area.code};{name};{code}" for code in area.iris]
        else:
            area_lines.append(f"{area.level};{area.code};{name};")
    (out / AREAS_FILE).write_text("\n".join(area_lines) + "\n", encoding="utf-8")
    atoms_path = out / ATOMS_FILE
    if any(kind == "atoms" for kind in built.levels.values()):
        _write_geojson(
            atoms_path,
            f"{built.manifest.name}: atoms",
            [
                (
                    {
                        "atom": a.id,
                        "CODE_IRIS": a.iris,
                        "qpv": a.qpv,
                        **dict(a.zones),
                        "area_m2": round(a.area_m2, 1),
                    },
                    wgs84(a.shape),
                )
                for a in built.atoms
            ],
        )
        written.append(atoms_path)
    elif atoms_path.exists():
        atoms_path.unlink()
    carreaux_path = out / CARREAUX_FILE
    if built.manifest.carreaux is not None:
        carreaux = load_carreaux(built.manifest.carreaux)
        known = {row.code for row in built.iris}
        kept_rows = ["carreau;CODE_IRIS;poids"]
        for carreau, weights in carreaux.items():
            if any(code in known for code, _ in weights):
                outside = [code for code, _ in weights if code not in known]
                if outside:
                    raise TerritoryBuildError(
                        str(built.manifest.carreaux),
                        f"carreau {carreau}: IRIS {outside[0]} is not in the kept communes",
                    )
                kept_rows += [f"{carreau};{code};{weight:.6f}" for code, weight in weights]
        carreaux_path.write_text("\n".join(kept_rows) + "\n", encoding="utf-8")
        written.append(carreaux_path)
    elif carreaux_path.exists():
        carreaux_path.unlink()
    manifest = {
        "name": built.manifest.name,
        "crs": built.manifest.crs,
        "communes": list(built.manifest.communes),
        "levels": built.levels,
        "atoms": len(built.atoms),
        "sources": {
            str(path.relative_to(built.manifest.path.parent)): _sha256(path)
            for path in built.manifest.sources()
        },
    }
    (out / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return written


def orient_all(shape: Any) -> Any:
    """Exterior rings counter-clockwise, holes clockwise (RFC 7946 §3.1.6)."""
    if isinstance(shape, Polygon):
        return orient(shape, 1.0)
    if isinstance(shape, MultiPolygon):
        return MultiPolygon([orient(p, 1.0) for p in shape.geoms])
    return shape


def _round(xy: tuple[Any, Any]) -> Any:
    import numpy as np

    return np.column_stack([np.round(xy[0], DECIMALS), np.round(xy[1], DECIMALS)])


def _opt(value: int | None) -> str:
    return "" if value is None else str(value)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_geojson(path: Path, name: str, features: Sequence[tuple[dict[str, Any], Any]]) -> None:
    """One feature per line, RFC 7946 (WGS84, no `crs` member)."""
    lines = [
        json.dumps(
            {"type": "Feature", "properties": properties, "geometry": mapping(shape)},
            ensure_ascii=False,
            separators=(",", ":"),
        )
        for properties, shape in features
    ]
    head = json.dumps({"type": "FeatureCollection", "name": name}, ensure_ascii=False)[:-1]
    path.write_text(head + ',"features":[\n' + ",\n".join(lines) + "\n]}\n", encoding="utf-8")
