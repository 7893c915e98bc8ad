"""`obshub territory build` from files in the official formats, written here.

The territory: three square IRIS in Lambert-93 (two in commune 33001, one in
33002) and two QPV, QA across both IRIS of 33001 and QB over the border of
the two communes. Areas are round numbers, so every atom is known exactly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas
import openpyxl
import pytest
import yaml
from pyproj import Transformer
from shapely.geometry import MultiPolygon, box
from typer.testing import CliRunner

from hub.cli import app
from hub.errors import TerritoryError
from hub.geography import load_territory
from hub.territory_build import REFERENCE_HEADER, build_territory, load_manifest, write_territory

X0, Y0 = 417_000.0, 6_420_000.0  # Lambert-93 metres, near Bordeaux
LEFT, RIGHT, TOP = "330010101", "330010102", "330020101"


def square(x1: float, y1: float, x2: float, y2: float) -> Any:
    return box(X0 + x1, Y0 + y1, X0 + x2, Y0 + y2)


IRIS = {
    LEFT: ("Gauche", "H", "33001", "Alpha", square(0, 0, 1000, 1000)),
    RIGHT: ("Droite", "H", "33001", "Alpha", square(1000, 0, 2000, 1000)),
    TOP: ("Haut", "H", "33002", "Beta", square(0, 1000, 2000, 2000)),
}
QPV = {
    "QN03399A": ("Quartier A", "33001", square(500, 200, 1500, 800)),
    "QN03399B": ("Quartier B", "33001, 33002", square(1500, 800, 1900, 1400)),
}
EXPECTED_ATOMS = {
    f"{LEFT}:QN03399A": 300_000,
    f"{LEFT}:-": 700_000,
    f"{RIGHT}:QN03399A": 300_000,
    f"{RIGHT}:QN03399B": 80_000,
    f"{RIGHT}:-": 620_000,
    f"{TOP}:QN03399B": 160_000,
    f"{TOP}:-": 1_840_000,
}
UPPER = ("CODE_IRIS", "NOM_IRIS", "TYP_IRIS", "INSEE_COM", "NOM_COM")
LOWER = ("code_iris", "nom_iris", "type_iris", "code_insee", "nom_commune")


def write_contours(path: Path, fields: tuple[str, ...] = UPPER, extra: dict | None = None) -> Path:
    rows = {**IRIS, **(extra or {})}
    frame = geopandas.GeoDataFrame(
        {
            fields[0]: list(rows),
            fields[1]: [v[0] for v in rows.values()],
            fields[2]: [v[1] for v in rows.values()],
            fields[3]: [v[2] for v in rows.values()],
            fields[4]: [v[3] for v in rows.values()],
        },
        geometry=[MultiPolygon([v[4]]) for v in rows.values()],
        crs="EPSG:2154",
    )
    frame.to_file(path, layer="contours_iris", driver="GPKG", engine="pyogrio")
    return path


def write_reference(
    path: Path, codes: list[str] | None = None, sheet: str = "Emboitements_IRIS"
) -> Path:
    book = openpyxl.Workbook()
    book.active.title = sheet
    table = book.active
    table.append(["Table d'appartenance géographique des IRIS (test)"])
    table.append(["Source : tests"])
    table.append([])
    table.append([])
    table.append([])
    table.append(list(REFERENCE_HEADER))
    for code in codes or list(IRIS):
        name, kind, commune, commune_name = IRIS.get(
            code, ("Fantôme", "H", code[:5], "Alpha", None)
        )[:4]
        table.append([code, name, kind, code[:7], commune, commune_name, "33701", "75", "33"])
    book.save(path)
    return path


def write_qpv(path: Path, qpv: dict | None = None, crs: str = "EPSG:2154") -> Path:
    rows = qpv or QPV
    frame = geopandas.GeoDataFrame(
        {
            "code_qp": list(rows),
            "lib_qp": [v[0] for v in rows.values()],
            "insee_com": [v[1] for v in rows.values()],
            "lib_com": ["" for _ in rows],
            "insee_dep": ["33" for _ in rows],
            "insee_reg": ["75" for _ in rows],
            "siren_epci": ["200000001" for _ in rows],
        },
        geometry=[v[2] for v in rows.values()],
        crs="EPSG:2154",
    ).to_crs(crs)
    driver = "GeoJSON" if path.suffix == ".geojson" else "ESRI Shapefile"
    frame.to_file(path, driver=driver, engine="pyogrio")
    return path


def write_manifest(directory: Path, **entries: Any) -> Path:
    data = {"name": "Test", "communes": ["33001", "33002"], **entries}
    path = directory / "territory.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def sources(tmp_path: Path, fields: tuple[str, ...] = UPPER, qpv_file: str = "qpv.shp") -> Path:
    write_contours(tmp_path / "iris.gpkg", fields)
    write_reference(tmp_path / "reference.xlsx")
    crs = "EPSG:4326" if qpv_file.endswith(".geojson") else "EPSG:2154"
    write_qpv(tmp_path / qpv_file, crs=crs)
    (tmp_path / "quartiers.csv").write_text(
        f"code_quartier;lib_quartier;CODE_IRIS\nZ1;Ouest;{LEFT}\nZ2;Est;{RIGHT}\n", encoding="utf-8"
    )
    return write_manifest(
        tmp_path,
        iris="iris.gpkg",
        reference="reference.xlsx",
        qpv=qpv_file,
        zones={"quartier": {"file": "quartiers.csv"}},
    )


@pytest.mark.parametrize(
    ("fields", "qpv_file"),
    [(UPPER, "qpv.shp"), (LOWER, "qpv.shp"), (UPPER, "qpv.geojson"), (LOWER, "qpv.geojson")],
    ids=["uppercase-shp", "lowercase-shp", "uppercase-geojson", "lowercase-geojson"],
)
def test_the_atoms_are_the_pieces_of_iris_and_qpv(
    tmp_path: Path, fields: tuple[str, ...], qpv_file: str
) -> None:
    built = build_territory(load_manifest(sources(tmp_path, fields, qpv_file)))
    areas = {atom.id: atom.area_m2 for atom in built.atoms}
    assert sorted(areas) == sorted(EXPECTED_ATOMS)
    for atom_id, expected in EXPECTED_ATOMS.items():
        # a GeoJSON QPV went through WGS84 and back: centimetres, not metres
        assert areas[atom_id] == pytest.approx(expected, abs=5.0), atom_id
    assert built.levels == {
        "iris": "iris",
        "commune": "iris",
        "qpv": "atoms",
        "commune_hors_qpv": "atoms",
        "epci": "iris",
        "quartier": "iris",
    }


def test_the_built_directory_loads_with_every_level(tmp_path: Path) -> None:
    built = build_territory(load_manifest(sources(tmp_path)))
    write_territory(built, tmp_path / "territory")
    territory = load_territory(tmp_path / "territory")
    assert territory.levels == ("iris", "commune", "qpv", "commune_hors_qpv", "epci", "quartier")
    qpv = {area.code: area.atoms for area in territory.areas("qpv")}
    assert qpv == {
        "QN03399A": (f"{LEFT}:QN03399A", f"{RIGHT}:QN03399A"),
        "QN03399B": (f"{RIGHT}:QN03399B", f"{TOP}:QN03399B"),
    }
    outside = {area.code: area.atoms for area in territory.areas("commune_hors_qpv")}
    assert outside == {"33001": (f"{LEFT}:-", f"{RIGHT}:-"), "33002": (f"{TOP}:-",)}
    epci = territory.areas("epci")
    assert [(a.code, a.iris) for a in epci] == [("200000001", (LEFT, RIGHT, TOP))]
    quartiers = {a.code: (a.name, a.iris) for a in territory.areas("quartier")}
    assert quartiers == {"Z1": ("Ouest", (LEFT,)), "Z2": ("Est", (RIGHT,))}
    assert territory.made_of_iris("epci") and not territory.made_of_iris("qpv")
    # a point placed in the piece of LEFT inside QA, and one outside every QPV
    to_wgs84 = Transformer.from_crs("EPSG:2154", "EPSG:4326", always_xy=True)
    lon, lat = to_wgs84.transform([X0 + 700, X0 + 100], [Y0 + 500, Y0 + 500])
    assert territory.locate_atoms(lon, lat) == [f"{LEFT}:QN03399A", f"{LEFT}:-"]
    assert territory.locate_points(lon, lat) == [LEFT, LEFT]


def test_the_cli_builds_and_checks(tmp_path: Path) -> None:
    manifest = sources(tmp_path)
    checked = CliRunner().invoke(app, ["territory", "check", str(manifest)])
    assert checked.exit_code == 0, checked.output
    assert "qpv 2" in checked.output and "7 atoms" in checked.output
    assert not (tmp_path / "out").exists()
    built = CliRunner().invoke(
        app, ["territory", "build", str(manifest), "--out", str(tmp_path / "out")]
    )
    assert built.exit_code == 0, built.output
    assert {p.name for p in (tmp_path / "out").iterdir()} == {
        "iris.csv",
        "iris.geojson",
        "areas.csv",
        "atoms.geojson",
        "territory.json",
    }


def broken_contours(tmp_path: Path) -> Path:
    frame = geopandas.read_file(write_contours(tmp_path / "iris.gpkg"))
    frame = frame.rename(columns={"CODE_IRIS": "IRIS"})
    frame.to_file(tmp_path / "iris.gpkg", layer="contours_iris", driver="GPKG", engine="pyogrio")
    return tmp_path


def overlapping_contours(tmp_path: Path) -> Path:
    write_contours(
        tmp_path / "iris.gpkg",
        extra={"330010103": ("Chevauche", "H", "33001", "Alpha", square(900, 0, 1100, 500))},
    )
    write_reference(tmp_path / "reference.xlsx", [*IRIS, "330010103"])
    return tmp_path


BROKEN = [
    (
        "fields",
        lambda d: broken_contours(d),
        "iris.gpkg: not IGN CONTOURS-IRIS: expected the fields CODE_IRIS",
    ),
    (
        "without-contour",
        lambda d: write_reference(d / "reference.xlsx", [*IRIS, "330010199"]) and d,
        "IRIS without contour: 330010199",
    ),
    ("overlap", overlapping_contours, "IRIS 330010101 and 330010103 overlap by 50,000 m²"),
    (
        "sheet",
        lambda d: write_reference(d / "reference.xlsx", sheet="Feuil1") and d,
        "no sheet 'Emboitements_IRIS'",
    ),
    (
        "qpv-outside",
        lambda d: (
            write_qpv(
                d / "qpv.shp",
                {"QN03399C": ("Débord", "33001, 33003", square(1500, -500, 1900, 500))},
            )
            and d
        ),
        "QPV QN03399C: 200,000 m² lie outside the kept communes (its communes 33003 are not kept)",
    ),
    (
        "zone-iris",
        lambda d: (
            (d / "quartiers.csv").write_text(
                "code_quartier;lib_quartier;CODE_IRIS\nZ1;Ouest;330019999\n", encoding="utf-8"
            )
            and d
        ),
        "quartiers.csv: line 2: IRIS '330019999' is not in the kept communes",
    ),
]


@pytest.mark.parametrize(("case", "spoil", "message"), BROKEN, ids=[b[0] for b in BROKEN])
def test_each_broken_input_is_one_line(tmp_path: Path, case: str, spoil: Any, message: str) -> None:
    manifest = sources(tmp_path)
    spoil(tmp_path)
    with pytest.raises(TerritoryError) as caught:
        build_territory(load_manifest(manifest))
    text = str(caught.value)
    assert "\n" not in text
    assert message in text.replace(str(tmp_path) + "/", ""), text
    result = CliRunner().invoke(app, ["territory", "check", str(manifest)])
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_a_polygon_zone_declared_a_union_of_iris_must_be_one(tmp_path: Path) -> None:
    manifest_path = sources(tmp_path)
    frame = geopandas.GeoDataFrame(
        {"code": ["S1"], "nom": ["Secteur"]}, geometry=[square(0, 0, 1500, 1000)], crs="EPSG:2154"
    )
    frame.to_file(tmp_path / "secteurs.gpkg", driver="GPKG", engine="pyogrio")
    data = yaml.safe_load(manifest_path.read_text())
    data["zones"]["secteur"] = {
        "file": "secteurs.gpkg",
        "code": "code",
        "name": "nom",
        "nested": True,
    }
    manifest_path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(TerritoryError) as caught:
        build_territory(load_manifest(manifest_path))
    assert "secteur S1 is declared a union of IRIS but cuts IRIS 330010102" in str(caught.value)
    # the same polygons, not declared nested, cut the IRIS into atoms of their own
    data["zones"]["secteur"]["nested"] = False
    manifest_path.write_text(yaml.safe_dump(data), encoding="utf-8")
    built = build_territory(load_manifest(manifest_path))
    assert built.levels["secteur"] == "atoms"
    pieces = {a.id: round(a.area_m2) for a in built.atoms if a.iris == RIGHT}
    assert pieces == {
        f"{RIGHT}:QN03399A:S1": 300_000,
        f"{RIGHT}:QN03399B:-": 80_000,
        f"{RIGHT}:-:S1": 200_000,
        f"{RIGHT}:-:-": 420_000,
    }


def test_the_committed_demo_territory_is_the_build_of_its_sources(tmp_path: Path) -> None:
    demo = Path(__file__).resolve().parents[3] / "deploy" / "demo" / "territory"
    built = build_territory(load_manifest(demo / "sources" / "territory.yaml"))
    written = write_territory(built, tmp_path)
    assert {p.name for p in written} == {
        "iris.csv",
        "iris.geojson",
        "areas.csv",
        "atoms.geojson",
        "carreaux.csv",
        "territory.json",
    }
    for path in written:
        assert path.read_bytes() == (demo / path.name).read_bytes(), path.name
    assert built.summary().endswith(
        "iris 66, commune 2, qpv 3, commune_hors_qpv 2, epci 1, quartier 8; 76 atoms"
    )
    # each QPV cuts the IRIS it crosses into two atoms: inside and outside it
    cut = {a.iris for a in built.atoms if a.qpv is not None}
    assert len(built.atoms) == 66 + len(cut)
    assert {a.qpv for a in built.atoms} == {None, "QN03301M", "QN03302M", "QN03303M"}
    straddling = {a.iris[:5] for a in built.atoms if a.qpv == "QN03303M"}
    assert straddling == {"33063", "33069"}
