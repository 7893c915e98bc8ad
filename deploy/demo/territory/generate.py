"""Generate the SOURCE files of obshub's SYNTHETIC demo territory, in official formats.

Writes, into `sources/` next to this script (`--out DIR` elsewhere), the files
a territory is built from, each in the shape of the official download it
stands for (details in sources/README.md):

- `CONTOURS-IRIS_demo.gpkg`: IGN CONTOURS-IRIS, layer `contours_iris`,
  Lambert-93 (EPSG:2154) MultiPolygons, `CODE_IRIS`, `NOM_IRIS`, `TYP_IRIS`,
  `INSEE_COM`, `NOM_COM`.
- `reference_IRIS_geo_demo.xlsx`: INSEE's table d'appartenance géographique
  des IRIS, sheet `Emboitements_IRIS` (5 title rows, header on row 6) and a
  `Documentation` sheet.
- `base-ic-demo.csv`: INSEE base infracommunale, `IRIS;COM;TYP_IRIS;LAB_IRIS;
  P21_POP;P21_MEN`.
- `QP2024_demo_LB93.shp` (+ .shx .dbf .prj .cpg) and `QP2024_demo_WGS84.geojson`:
  ANCT's QPV 2024 contours, three quartiers prioritaires whose borders cut
  across IRIS.
- `quartiers_bordeaux.csv`: Bordeaux's eight quartiers as lists of IRIS.
- `epci_demo.csv`: INSEE's intercommunalités table for the two communes.
- `carreaux_demo.csv`: `carreau;CODE_IRIS;poids`, the INSEE 200 m grid cells
  (ETRS89-LAEA, EPSG:3035) covering the territory and each cell's area share
  per IRIS.

`obshub territory build` turns these sources into the hub's iris.csv,
iris.geojson and carreaux.csv (see README.md); this script does not write them.

Real: the commune codes and names (33063 Bordeaux, 33069 Le Bouscat), the
EPCI (243300316 Bordeaux Métropole) and the names of Bordeaux's eight
quartiers. Everything else (IRIS numbers, names, types, populations,
outlines, QPV, which IRIS make a quartier) is generated and matches no real
IRIS or QPV.

How: each commune outline is a smooth star-shaped blob around its real
location, Bordeaux minus Le Bouscat so they share a border and never overlap.
Seed points (spread out, then relaxed with a few Lloyd iterations) give
Voronoi cells clipped to the outline. The cell boundaries of both communes
are projected to Lambert-93, snap-rounded together onto the 0.01 m grid and
polygonized: each shared edge then exists once, and neighbouring IRIS use the
very same vertices, so the tiling has no gap and no overlap in EPSG:2154. The
QPV are fixed smooth shapes placed across IRIS borders (and one across the
commune border), the quartiers grow from eight anchors over adjacent IRIS,
and the grid weights are computed from the Lambert-93 polygons projected to
EPSG:3035.

Deterministic: a fixed seed, sorted outputs, fixed number formats and fixed
file dates, so a re-run rewrites the same content (with the same
shapely/GEOS, pyproj and GDAL). Only the XLSX carries the time of writing
(its zip member dates and `dcterms:modified`): compare its cells.

Run: .venv/bin/python deploy/demo/territory/generate.py [--out DIR]
"""

from __future__ import annotations

import argparse
import csv
import heapq
import itertools
import math
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from openpyxl import Workbook
from pyproj import Transformer
from shapely.geometry import MultiPoint, MultiPolygon, Point, Polygon, box
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from hub.territory_build import REFERENCE_HEADER

SEED = 33063
GRID_L93 = 0.01  # metres: the IRIS and QPV vertices lie on this Lambert-93 grid
GRID_M = 200  # INSEE grid resolution, metres (EPSG:3035)
MIN_PIECE_M2 = 1.0  # cell/IRIS intersections under this are rounding slivers: dropped
WEIGHT_UNITS = 1_000_000  # poids is written with 6 decimals, summing exactly to 1
LLOYD_ITERATIONS = 4
IRIS_PER_BAND = 7  # IRIS numbering: 2-digit band (north to south) + 2-digit rank (west to east)
VINTAGE = datetime(2024, 1, 1)  # geography of 1 January 2024; also the files' fixed dates

SOURCES_DIR = Path(__file__).resolve().parent / "sources"
CONTOURS_FILE = "CONTOURS-IRIS_demo.gpkg"
CONTOURS_LAYER = "contours_iris"
REFERENCE_FILE = "reference_IRIS_geo_demo.xlsx"
REFERENCE_SHEET = "Emboitements_IRIS"
HEADER_ROW = 6  # as in INSEE's file: 5 title rows, then the variable names
DOCUMENTATION_SHEET = "Documentation"
POPULATION_FILE = "base-ic-demo.csv"
QPV_SHP = "QP2024_demo_LB93.shp"
QPV_GEOJSON = "QP2024_demo_WGS84.geojson"
QUARTIERS_FILE = "quartiers_bordeaux.csv"
EPCI_FILE = "epci_demo.csv"
CARREAUX_FILE = "carreaux_demo.csv"
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")

REFERENCE_COLUMNS = REFERENCE_HEADER  # INSEE's header (hub.territory_build)
POPULATION_COLUMNS = ("IRIS", "COM", "TYP_IRIS", "LAB_IRIS", "P21_POP", "P21_MEN")
QUARTIER_COLUMNS = ("code_quartier", "lib_quartier", "CODE_IRIS")
EPCI_COLUMNS = ("CODGEO", "LIBGEO", "EPCI", "LIBEPCI", "DEP", "REG")
CARREAU_COLUMNS = ("carreau", "CODE_IRIS", "poids")

DEP, REG, UU2020 = "33", "75", "33701"  # Gironde, Nouvelle-Aquitaine, UU de Bordeaux
EPCI, LIBEPCI = "243300316", "Bordeaux Métropole"
LAB_IRIS = "1"  # INSEE's quality label: 1 = the IRIS's figures are published as they are

LABEL = "SYNTHETIC obshub demo"
DESCRIPTION = (
    "SYNTHETIC. Real commune codes (33063 Bordeaux, 33069 Le Bouscat) with generated "
    "IRIS numbers, names, types, populations and polygons. Not a real IRIS map. "
    "Generated by deploy/demo/territory/generate.py."
)
QPV_DESCRIPTION = (
    "SYNTHETIC. Three generated quartiers prioritaires (QPV 2024 format) over the "
    "obshub demo territory; not ANCT data. Generated by deploy/demo/territory/generate.py."
)

# The transformations between WGS84/ETRS89-LAEA and Lambert-93 resolve in PROJ
# to pure projections (RGF93 v1 and ETRS89 taken as WGS84, null shifts), so no
# grid file or network access is needed.
WGS84_TO_LAEA = Transformer.from_crs("EPSG:4326", "EPSG:3035", always_xy=True)
WGS84_TO_L93 = Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True)
LAEA_TO_L93 = Transformer.from_crs("EPSG:3035", "EPSG:2154", always_xy=True)
L93_TO_LAEA = Transformer.from_crs("EPSG:2154", "EPSG:3035", always_xy=True)
L93_TO_WGS84 = Transformer.from_crs("EPSG:2154", "EPSG:4326", always_xy=True)


@dataclass(frozen=True)
class CommuneSpec:
    depcom: str
    libcom: str
    lon: float
    lat: float
    radius_m: float
    n_iris: int
    n_activite: int
    n_divers: int


# Le Bouscat first: Bordeaux's outline is cut by it.
COMMUNES = (
    CommuneSpec("33069", "Le Bouscat", -0.600, 44.865, 1250.0, 10, 0, 1),
    CommuneSpec("33063", "Bordeaux", -0.574, 44.836, 3500.0, 56, 3, 2),
)
LIBCOM = {spec.depcom: spec.libcom for spec in COMMUNES}

# Generic vocabulary for habitat IRIS names: "<head> <complement>".
NAME_HEADS = (
    "Les Jardins",
    "Le Clos",
    "La Cité",
    "Le Parc",
    "Les Coteaux",
    "Le Hameau",
    "Les Prés",
    "La Fontaine",
    "Le Mail",
    "Les Terrasses",
    "La Croix",
    "Le Pont",
    "Les Rives",
    "Le Plateau",
    "Les Allées",
    "Le Carré",
)
NAME_COMPLEMENTS = (
    "des Tilleuls",
    "du Moulin",
    "des Acacias",
    "de la Forêt",
    "des Lilas",
    "du Château",
    "des Vignes",
    "de l'Église",
    "des Platanes",
    "du Marché",
    "des Écoles",
    "Saint-Vincent",
    "Sainte-Anne",
    "des Peupliers",
    "du Lavoir",
    "des Chênes",
    "de la Source",
    "des Roses",
)
ACTIVITE_NAMES = (
    "Zone d'Activités des Sablières",
    "Parc d'Activités du Fleuve",
    "Zone Artisanale des Entrepôts",
)
DIVERS_NAMES = ("Parc des Sports", "Bois de la Garenne", "Domaine des Étangs")


@dataclass(frozen=True)
class QpvSpec:
    """A synthetic QPV: a smooth oval with a fixed wobble, placed by hand.

    Centre in WGS84 lon/lat, semi-axes in metres, `angle` the direction of
    the first axis in degrees counter-clockwise from east (Lambert-93).
    """

    code: str
    name: str
    communes: tuple[str, ...]
    lon: float
    lat: float
    semi_x: float
    semi_y: float
    angle: float
    wobble: float  # relative amplitude of the 3rd harmonic, for a less regular outline


QPVS = (
    QpvSpec(
        "QN03301M",
        "Les Terrasses - Le Mail (synthétique)",
        ("33063",),
        -0.5565,
        44.8585,
        600.0,
        420.0,
        60.0,
        0.06,
    ),
    QpvSpec(
        "QN03302M",
        "La Cité des Peupliers (synthétique)",
        ("33063",),
        -0.5500,
        44.8175,
        700.0,
        400.0,
        120.0,
        0.08,
    ),
    QpvSpec(
        "QN03303M",
        "Les Rives - Le Plateau (synthétique)",
        ("33063", "33069"),
        -0.5880,
        44.8560,
        600.0,
        360.0,
        150.0,
        0.05,
    ),
)
QPV_MIN_AREA_M2, QPV_MAX_AREA_M2 = 300_000.0, 1_200_000.0
QPV_MIN_INHABITANTS = 2_500  # IRIS population times the share of its area in the QPV
QPV_MIN_COMMUNE_M2 = 10_000.0  # a QPV over two communes covers more than this of each

# Bordeaux's eight quartiers (real names, numbered as the city does). Each
# grows from the IRIS containing its anchor, an offset in metres (east, north)
# from the centroid of Bordeaux's outline; the IRIS are synthetic, so only
# the rough layout is plausible: Bordeaux Maritime north, La Bastide east,
# Caudéran west, Le Bouscat to the north-west.
QUARTIERS = (
    ("Q1", "Bordeaux Maritime", (1200.0, 2500.0)),
    ("Q2", "Chartrons - Grand Parc - Jardin Public", (-200.0, 1300.0)),
    ("Q3", "Centre ville", (700.0, -100.0)),
    ("Q4", "Saint Augustin - Tauzin - Alphonse Dupeux", (-2000.0, -1600.0)),
    ("Q5", "Nansouty - Saint Genès", (-200.0, -2600.0)),
    ("Q6", "Bordeaux Sud", (1500.0, -2000.0)),
    ("Q7", "La Bastide", (2800.0, 200.0)),
    ("Q8", "Caudéran", (-2500.0, 600.0)),
)
MIN_SHARED_BORDER_M = 1.0  # IRIS sharing less border than this (a corner) are not adjacent


@dataclass(frozen=True)
class Iris:
    code: str
    name: str
    typ: str
    depcom: str
    libcom: str
    population: int
    households: int
    polygon: Polygon  # Lambert-93, vertices on the 0.01 m grid, exterior counter-clockwise


@dataclass(frozen=True)
class Qpv:
    spec: QpvSpec
    polygon: Polygon  # Lambert-93, vertices on the 0.01 m grid, exterior counter-clockwise


def project(geom: BaseGeometry, transformer: Transformer) -> BaseGeometry:
    """`geom` with every coordinate passed through `transformer` (always_xy)."""
    return shapely.transform(
        geom, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
    )


def make_blob(spec: CommuneSpec, rng: random.Random, n_vertices: int = 120) -> Polygon:
    """A smooth star-shaped outline (EPSG:3035) around the commune's location."""
    cx, cy = WGS84_TO_LAEA.transform(spec.lon, spec.lat)
    harmonics = [
        (k, rng.uniform(0.02, 0.12) / k, rng.uniform(0, 2 * math.pi)) for k in (2, 3, 4, 5)
    ]
    ring = []
    for i in range(n_vertices):
        theta = 2 * math.pi * i / n_vertices
        r = spec.radius_m * (1 + sum(a * math.cos(k * theta + p) for k, a, p in harmonics))
        ring.append((cx + r * math.cos(theta), cy + r * math.sin(theta)))
    return Polygon(ring)


def spread_seeds(outline: Polygon, n: int, rng: random.Random) -> list[Point]:
    """`n` points inside `outline`, kept apart, then Lloyd-relaxed for even cells."""
    min_dist = 0.7 * math.sqrt(outline.area / n)
    minx, miny, maxx, maxy = outline.bounds
    seeds: list[Point] = []
    while len(seeds) < n:
        p = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if outline.contains(p) and all(p.distance(q) >= min_dist for q in seeds):
            seeds.append(p)
        min_dist *= 0.9995  # never stall
    for _ in range(LLOYD_ITERATIONS):
        seeds = [cell.centroid for cell in clipped_cells(outline, seeds)]
    return seeds


def clipped_cells(outline: Polygon, seeds: Sequence[Point]) -> list[BaseGeometry]:
    """Voronoi cells of `seeds`, in seed order, clipped to `outline`."""
    extent = outline.envelope.buffer(1000.0)
    cells = shapely.voronoi_polygons(MultiPoint(list(seeds)), extend_to=extent, ordered=True)
    return [cell.intersection(outline) for cell in cells.geoms]


def snap_tiling(cells: Sequence[BaseGeometry]) -> list[Polygon]:
    """Project EPSG:3035 cells to Lambert-93 and rebuild them on the 0.01 m grid.

    Boundaries of all cells are noded together with snap rounding, then
    polygonized: shared edges exist once, so the rounded tiling has no gaps
    and no overlaps. Returns one polygon per input cell, in input order.
    """
    l93 = [project(cell, LAEA_TO_L93) for cell in cells]
    linework = shapely.unary_union([g.boundary for g in l93], grid_size=GRID_L93)
    faces = list(shapely.polygonize(list(shapely.get_parts(linework))).geoms)
    owners: dict[int, list[Polygon]] = defaultdict(list)
    tree = shapely.STRtree(l93)
    for face in faces:
        hits = tree.query(face.point_on_surface(), predicate="intersects")
        if len(hits) != 1:
            raise RuntimeError(f"face owned by {len(hits)} cells")
        owners[int(hits[0])].append(face)
    if sorted(owners) != list(range(len(cells))) or any(len(f) != 1 for f in owners.values()):
        raise RuntimeError("a cell is missing or split after rounding; change SEED")
    return [orient(owners[i][0], sign=1.0) for i in range(len(cells))]


def band_codes(depcom: str, polygons: Sequence[BaseGeometry]) -> list[str]:
    """INSEE-style codes: bands of IRIS north to south, west to east within a band."""
    n = len(polygons)
    n_bands = max(1, round(n / IRIS_PER_BAND))
    per_band = math.ceil(n / n_bands)
    by_north = sorted(range(n), key=lambda i: -polygons[i].centroid.y)
    codes = [""] * n
    for band in range(n_bands):
        members = by_north[band * per_band : (band + 1) * per_band]
        for rank, i in enumerate(sorted(members, key=lambda i: polygons[i].centroid.x)):
            codes[i] = f"{depcom}{band + 1:02d}{rank + 1:02d}"
    return codes


def habitat_names(rng: random.Random, count: int) -> list[str]:
    pool = [f"{h} {c}" for h in NAME_HEADS for c in NAME_COMPLEMENTS]
    return rng.sample(pool, count)


def build_territory(rng: random.Random) -> list[Iris]:
    """Outlines, cells, codes, names, types and populations of every IRIS."""
    outlines: list[Polygon] = []
    cells: list[BaseGeometry] = []
    owner: list[CommuneSpec] = []
    taken: BaseGeometry = Polygon()
    for spec in COMMUNES:
        outline = make_blob(spec, rng).difference(taken)
        if not isinstance(outline, Polygon):
            raise RuntimeError(f"{spec.libcom}: outline is not a single polygon")
        taken = taken.union(outline)
        outlines.append(outline)
        for cell in clipped_cells(outline, spread_seeds(outline, spec.n_iris, rng)):
            cells.append(cell)
            owner.append(spec)
    polygons = snap_tiling(cells)
    names = iter(habitat_names(rng, len(cells)))
    activite, divers = iter(ACTIVITE_NAMES), iter(DIVERS_NAMES)
    result: list[Iris] = []
    for spec, outline in zip(COMMUNES, outlines, strict=True):
        mine = [i for i, s in enumerate(owner) if s is spec]
        # Numbered by lon/lat centroids, as when the tiling was rounded in WGS84.
        codes = band_codes(spec.depcom, [project(polygons[i], L93_TO_WGS84) for i in mine])
        # Activity zones and parks sit on the commune's edge, away from other communes.
        rim = shapely.intersection(outline.exterior, outline.exterior.buffer(1.0)).difference(
            shapely.union_all([o for o in outlines if o is not outline]).buffer(1.0)
        )
        edge = [j for j, i in enumerate(mine) if cells[i].boundary.intersection(rim).length > 200]
        special = rng.sample(sorted(edge), spec.n_activite + spec.n_divers)
        types = {j: "A" for j in special[: spec.n_activite]}
        types |= {j: "D" for j in special[spec.n_activite :]}
        for j, i in enumerate(mine):
            typ = types.get(j, "H")
            if typ == "H":
                name = next(names)
                population = int(rng.triangular(1800, 5000, 2600))
            else:
                name = next(activite) if typ == "A" else next(divers)
                population = rng.randint(100, 600)
            households = round(population / rng.uniform(1.9, 2.3))
            result.append(
                Iris(
                    codes[j],
                    name,
                    typ,
                    spec.depcom,
                    spec.libcom,
                    population,
                    households,
                    polygons[i],
                )
            )
    return sorted(result, key=lambda iris: iris.code)


def commune_union(irises: Sequence[Iris], depcom: str) -> BaseGeometry:
    return shapely.union_all([i.polygon for i in irises if i.depcom == depcom])


def check_tiling(irises: Sequence[Iris]) -> None:
    """Fail loudly unless each commune is tiled by valid, non-overlapping IRIS."""
    for iris in irises:
        if not iris.polygon.is_valid or not iris.polygon.exterior.is_ccw:
            raise RuntimeError(f"{iris.code}: invalid or clockwise polygon after rounding")
    tree = shapely.STRtree([i.polygon for i in irises])
    for i, iris in enumerate(irises):
        for j in tree.query(iris.polygon, predicate="intersects"):
            if j > i and iris.polygon.intersection(irises[j].polygon).area > 1e-6:
                raise RuntimeError(f"{iris.code} overlaps {irises[j].code}")
    for spec in COMMUNES:
        union = commune_union(irises, spec.depcom)
        parts = sum(i.polygon.area for i in irises if i.depcom == spec.depcom)
        if not isinstance(union, Polygon) or union.interiors or abs(union.area - parts) > 0.01:
            raise RuntimeError(f"{spec.libcom}: the IRIS leave a gap or overlap")


def qpv_outline(spec: QpvSpec, n_vertices: int = 48) -> Polygon:
    """The QPV's Lambert-93 outline, on the 0.01 m grid, counter-clockwise."""
    cx, cy = WGS84_TO_L93.transform(spec.lon, spec.lat)
    cos_a, sin_a = math.cos(math.radians(spec.angle)), math.sin(math.radians(spec.angle))
    ring = []
    for i in range(n_vertices):
        theta = 2 * math.pi * i / n_vertices
        r = 1 + spec.wobble * math.cos(3 * theta + 1.0)
        u, v = spec.semi_x * r * math.cos(theta), spec.semi_y * r * math.sin(theta)
        ring.append((cx + u * cos_a - v * sin_a, cy + u * sin_a + v * cos_a))
    rounded = shapely.set_precision(Polygon(ring), GRID_L93)
    if not isinstance(rounded, Polygon):
        raise RuntimeError(f"{spec.code}: outline is not a single polygon")
    return orient(rounded, sign=1.0)


def iris_cut(qpv: Polygon, irises: Sequence[Iris]) -> list[tuple[Iris, float]]:
    """The IRIS `qpv` overlaps, each with the area (m²) of the overlap."""
    pieces = [(i, i.polygon.intersection(qpv).area) for i in irises]
    return [(i, area) for i, area in pieces if area > 0.01]


def build_qpvs(irises: Sequence[Iris]) -> list[Qpv]:
    """The three QPV, checked: sizes, IRIS cut, communes, no overlap."""
    territory = shapely.union_all([i.polygon for i in irises])
    qpvs = [Qpv(spec, qpv_outline(spec)) for spec in QPVS]
    for qpv in qpvs:
        code, polygon = qpv.spec.code, qpv.polygon
        if not polygon.is_valid or not territory.contains(polygon):
            raise RuntimeError(f"{code}: invalid or not inside the communes")
        if not QPV_MIN_AREA_M2 <= polygon.area <= QPV_MAX_AREA_M2:
            raise RuntimeError(f"{code}: area {polygon.area:.0f} m²")
        cut = iris_cut(polygon, irises)
        if not 2 <= len(cut) <= 5 or any(i.polygon.area - a < 1000.0 for i, a in cut):
            raise RuntimeError(f"{code}: must cut 2 to 5 IRIS, leaving part of each outside")
        if sum(i.population * a / i.polygon.area for i, a in cut) < QPV_MIN_INHABITANTS:
            raise RuntimeError(f"{code}: too few inhabitants")
        communes = tuple(
            sorted(
                depcom
                for depcom in LIBCOM
                if commune_union(irises, depcom).intersection(polygon).area > QPV_MIN_COMMUNE_M2
            )
        )
        if communes != qpv.spec.communes or {i.depcom for i, _ in cut} != set(communes):
            raise RuntimeError(f"{code}: lies over {communes}, not {qpv.spec.communes}")
    for a, b in itertools.combinations(qpvs, 2):
        if a.polygon.intersects(b.polygon):
            raise RuntimeError(f"{a.spec.code} and {b.spec.code} overlap")
    return qpvs


def adjacency(irises: Sequence[Iris]) -> dict[str, list[str]]:
    """Codes of the IRIS sharing a border (not just a corner) with each IRIS."""
    tree = shapely.STRtree([i.polygon for i in irises])
    result: dict[str, list[str]] = {i.code: [] for i in irises}
    for k, iris in enumerate(irises):
        for j in sorted(int(j) for j in tree.query(iris.polygon, predicate="intersects")):
            shared = iris.polygon.boundary.intersection(irises[j].polygon.boundary).length
            if j != k and shared >= MIN_SHARED_BORDER_M:
                result[iris.code].append(irises[j].code)
    return result


def build_quartiers(irises: Sequence[Iris]) -> dict[str, str]:
    """CODE_IRIS -> quartier code for every Bordeaux IRIS, quartiers contiguous.

    Each quartier starts from the IRIS containing its anchor; then, nearest
    first, an unassigned IRIS joins the quartier of the neighbour that reached
    it first (distance from its centroid to that quartier's anchor). An IRIS is
    only ever reached from a member of the quartier, so quartiers are connected.
    """
    bordeaux = [i for i in irises if i.depcom == "33063"]
    centre = commune_union(irises, "33063").centroid
    anchors = {code: Point(centre.x + dx, centre.y + dy) for code, _, (dx, dy) in QUARTIERS}
    by_code = {i.code: i for i in bordeaux}
    neighbours = adjacency(bordeaux)

    def distance(iris_code: str, quartier: str) -> float:
        return float(by_code[iris_code].polygon.centroid.distance(anchors[quartier]))

    heap: list[tuple[float, str, str]] = []
    for quartier, anchor in anchors.items():
        start = [i.code for i in bordeaux if i.polygon.contains(anchor)]
        if len(start) != 1:
            raise RuntimeError(f"{quartier}: anchor outside Bordeaux")
        heapq.heappush(heap, (0.0, start[0], quartier))
    assigned: dict[str, str] = {}
    while heap:
        _, iris_code, quartier = heapq.heappop(heap)
        if iris_code in assigned:
            continue
        assigned[iris_code] = quartier
        for other in neighbours[iris_code]:
            if other not in assigned:
                heapq.heappush(heap, (distance(other, quartier), other, quartier))
    counts = {q: list(assigned.values()).count(q) for q in anchors}
    if set(assigned) != set(by_code) or min(counts.values()) < 3:
        raise RuntimeError(f"quartiers not built as expected: {counts}")
    return dict(sorted(assigned.items()))


def grid_weights(irises: Sequence[Iris]) -> list[tuple[str, str, str]]:
    """Rows (carreau, CODE_IRIS, poids) of the 200 m grid over the territory.

    poids = area(cell ∩ IRIS) / area(cell ∩ territory), so every listed cell's
    weights sum to 1, including cells partly outside the territory. Weights
    are integer millionths (largest remainder), written with 6 decimals.
    """
    laea = [project(iris.polygon, L93_TO_LAEA) for iris in irises]
    tree = shapely.STRtree(laea)
    minx, miny, maxx, maxy = shapely.union_all(laea).bounds
    rows: list[tuple[str, str, str]] = []
    for north in range(int(miny // GRID_M) * GRID_M, int(maxy) + 1, GRID_M):
        for east in range(int(minx // GRID_M) * GRID_M, int(maxx) + 1, GRID_M):
            cell = box(east, north, east + GRID_M, north + GRID_M)
            pieces = []
            for k in sorted(int(k) for k in tree.query(cell, predicate="intersects")):
                area = cell.intersection(laea[k]).area
                if area >= MIN_PIECE_M2:
                    pieces.append((irises[k].code, area))
            if not pieces:
                continue
            carreau = f"CRS3035RES{GRID_M}mN{north}E{east}"
            for code, units in split_units(pieces):
                rows.append((carreau, code, f"{units // WEIGHT_UNITS}.{units % WEIGHT_UNITS:06d}"))
    return sorted(rows)


def split_units(pieces: Sequence[tuple[str, float]]) -> list[tuple[str, int]]:
    """Share WEIGHT_UNITS among pieces by area, exactly (largest remainder)."""
    total = sum(area for _, area in pieces)
    raw = [area / total * WEIGHT_UNITS for _, area in pieces]
    units = [math.floor(r) for r in raw]
    by_remainder = sorted(range(len(pieces)), key=lambda i: (-(raw[i] - units[i]), pieces[i][0]))
    for i in by_remainder[: WEIGHT_UNITS - sum(units)]:
        units[i] += 1
    return [(code, u) for (code, _), u in zip(pieces, units, strict=True)]


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """`;`-separated UTF-8 with a header row and `\\n` line ends."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter=";", lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_contours_iris(path: Path, irises: Sequence[Iris]) -> None:
    """IGN CONTOURS-IRIS: a GeoPackage layer of Lambert-93 MultiPolygons."""
    frame = gpd.GeoDataFrame(
        {
            "CODE_IRIS": [i.code for i in irises],
            "NOM_IRIS": [i.name for i in irises],
            "TYP_IRIS": [i.typ for i in irises],
            "INSEE_COM": [i.depcom for i in irises],
            "NOM_COM": [i.libcom for i in irises],
        },
        geometry=[MultiPolygon([i.polygon]) for i in irises],
        crs="EPSG:2154",
    )
    frame.to_file(
        path,
        layer=CONTOURS_LAYER,
        driver="GPKG",
        engine="pyogrio",
        geometry_type="MultiPolygon",
        layer_options={"DESCRIPTION": DESCRIPTION},
    )


def write_reference(path: Path, irises: Sequence[Iris]) -> None:
    """INSEE's table d'appartenance géographique des IRIS, every cell as text."""
    book = Workbook()
    book.properties.creator = "obshub deploy/demo/territory/generate.py"
    book.properties.title = f"Table d'appartenance géographique des IRIS - {LABEL}"
    book.properties.description = DESCRIPTION
    book.properties.created = VINTAGE  # openpyxl sets `modified` to the time of saving
    sheet = book.active
    sheet.title = REFERENCE_SHEET
    for line in (
        f"Table d'appartenance géographique des IRIS - {LABEL}",
        "Découpage géographique au 1er janvier 2024 (IRIS SYNTHETIC sur les communes "
        "réelles 33063 Bordeaux et 33069 Le Bouscat)",
        "Source : SYNTHETIC, généré par deploy/demo/territory/generate.py - pas des données Insee",
        "Voir l'onglet Documentation",
        "",
    ):
        sheet.append([line] if line else [])
    sheet.append(list(REFERENCE_COLUMNS))
    for i in irises:
        sheet.append([i.code, i.name, i.typ, i.code[:7], i.depcom, i.libcom, UU2020, REG, DEP])
    for row in sheet.iter_rows(min_row=HEADER_ROW):
        for cell in row:
            cell.number_format = "@"
    for column, width in zip("ABCDEFGHI", (12, 36, 9, 11, 9, 12, 9, 5, 5), strict=True):
        sheet.column_dimensions[column].width = width
    doc = book.create_sheet(DOCUMENTATION_SHEET)
    for row in (
        ("SYNTHETIC obshub demo: IRIS generated over two real communes; not Insee data.", ""),
        ("", ""),
        ("Variable", "Libellé"),
        ("CODE_IRIS", "Code de l'IRIS"),
        ("LIB_IRIS", "Libellé de l'IRIS"),
        ("TYP_IRIS", "Type d'IRIS : H habitat, A activité, D divers, Z commune non irisée"),
        ("GRD_QUART", "Code du grand quartier (commune + 2 chiffres)"),
        ("DEPCOM", "Code du département suivi du numéro de commune"),
        ("LIBCOM", "Libellé de la commune"),
        ("UU2020", "Code de l'unité urbaine 2020"),
        ("REG", "Code de la région"),
        ("DEP", "Code du département"),
    ):
        doc.append(list(row))
    doc.column_dimensions["A"].width = 12
    doc.column_dimensions["B"].width = 70
    book.save(path)


def write_population(path: Path, irises: Sequence[Iris]) -> None:
    """INSEE base infracommunale shape: population and households per IRIS."""
    write_csv(
        path,
        POPULATION_COLUMNS,
        [(i.code, i.depcom, i.typ, LAB_IRIS, i.population, i.households) for i in irises],
    )


def qpv_frame(qpvs: Sequence[Qpv]) -> gpd.GeoDataFrame:
    """ANCT's QPV 2024 fields, Lambert-93 MultiPolygons."""
    return gpd.GeoDataFrame(
        {
            "code_qp": [q.spec.code for q in qpvs],
            "lib_qp": [q.spec.name for q in qpvs],
            "insee_com": [", ".join(q.spec.communes) for q in qpvs],
            "lib_com": [", ".join(LIBCOM[c] for c in q.spec.communes) for q in qpvs],
            "insee_dep": [DEP] * len(qpvs),
            "insee_reg": [REG] * len(qpvs),
            "siren_epci": [EPCI] * len(qpvs),
        },
        geometry=[MultiPolygon([q.polygon]) for q in qpvs],
        crs="EPSG:2154",
    )


def write_qpv(directory: Path, qpvs: Sequence[Qpv]) -> None:
    """The QPV as a Lambert-93 shapefile (UTF-8 .cpg) and as RFC 7946 GeoJSON."""
    frame = qpv_frame(qpvs)
    frame.to_file(
        directory / QPV_SHP,
        driver="ESRI Shapefile",
        engine="pyogrio",
        encoding="UTF-8",
        layer_options={"DBF_DATE_LAST_UPDATE": VINTAGE.strftime("%Y-%m-%d")},
    )
    wgs84 = frame.set_geometry([project(g, L93_TO_WGS84) for g in frame.geometry], crs="EPSG:4326")
    wgs84.to_file(
        directory / QPV_GEOJSON,
        layer=Path(QPV_GEOJSON).stem,
        driver="GeoJSON",
        engine="pyogrio",
        geometry_type="MultiPolygon",
        layer_options={"RFC7946": "YES", "DESCRIPTION": QPV_DESCRIPTION},
    )


def write_quartiers(path: Path, quartiers: dict[str, str]) -> None:
    names = {code: name for code, name, _ in QUARTIERS}
    rows = sorted((q, names[q], iris) for iris, q in quartiers.items())
    write_csv(path, QUARTIER_COLUMNS, rows)


def write_epci(path: Path) -> None:
    write_csv(
        path,
        EPCI_COLUMNS,
        [(depcom, LIBCOM[depcom], EPCI, LIBEPCI, DEP, REG) for depcom in sorted(LIBCOM)],
    )


def output_files() -> list[str]:
    """Every file the generator writes (README.md is hand-written, not among them)."""
    shapefile = [str(Path(QPV_SHP).with_suffix(ext)) for ext in SHAPEFILE_PARTS]
    return [
        CONTOURS_FILE,
        REFERENCE_FILE,
        POPULATION_FILE,
        *shapefile,
        QPV_GEOJSON,
        QUARTIERS_FILE,
        EPCI_FILE,
        CARREAUX_FILE,
    ]


def write_sources(directory: Path, irises: Sequence[Iris]) -> None:
    """Every source file into `directory`, after the QPV and quartiers pass their checks."""
    qpvs = build_qpvs(irises)
    quartiers = build_quartiers(irises)
    directory.mkdir(parents=True, exist_ok=True)
    for name in output_files():  # GDAL adds to an existing GeoPackage: start afresh
        (directory / name).unlink(missing_ok=True)
    write_contours_iris(directory / CONTOURS_FILE, irises)
    write_reference(directory / REFERENCE_FILE, irises)
    write_population(directory / POPULATION_FILE, irises)
    write_qpv(directory, qpvs)
    write_quartiers(directory / QUARTIERS_FILE, quartiers)
    write_epci(directory / EPCI_FILE)
    write_csv(directory / CARREAUX_FILE, CARREAU_COLUMNS, grid_weights(irises))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=SOURCES_DIR, help="output directory")
    args = parser.parse_args(argv)
    irises = build_territory(random.Random(SEED))
    check_tiling(irises)
    # The GeoPackage's last_change: the vintage, not the time of writing.
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": VINTAGE.strftime("%Y-%m-%dT%H:%M:%SZ")})
    write_sources(args.out, irises)


if __name__ == "__main__":
    main()
