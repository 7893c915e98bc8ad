"""An independent computation of the demo indicators from the extracts.

Plain Python over the CSV files and the territory files, written from the
specifications (the demo catalog, the secret statistique rules,
docs/aggregation.md's grid rule), not from the hub's code, so tests can
compare what the hub publishes with it.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shapely import STRtree
from shapely.geometry import Point, shape

Row = dict[str, str]


def read_csv(path: Path) -> list[Row]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


@dataclass
class Territory:
    iris: list[str]
    commune_of: dict[str, str]
    tree: STRtree
    polygons: list[object]
    codes_by_polygon: list[str]
    cells: dict[str, list[tuple[str, float]]]

    @classmethod
    def load(cls, directory: Path) -> Territory:
        rows = read_csv(directory / "iris.csv")
        features = json.loads((directory / "iris.geojson").read_text())["features"]
        polygons = [shape(f["geometry"]) for f in features]
        cells: dict[str, list[tuple[str, float]]] = {}
        for row in read_csv(directory / "carreaux.csv"):
            cells.setdefault(row["carreau"], []).append((row["CODE_IRIS"], float(row["poids"])))
        return cls(
            iris=sorted(r["CODE_IRIS"] for r in rows),
            commune_of={r["CODE_IRIS"]: r["DEPCOM"] for r in rows},
            tree=STRtree(polygons),
            polygons=polygons,
            codes_by_polygon=[f["properties"]["CODE_IRIS"] for f in features],
            cells={c: sorted(w) for c, w in cells.items()},
        )

    def locate(self, lon: float, lat: float) -> str | None:
        point = Point(lon, lat)
        hits = [
            self.codes_by_polygon[i]
            for i in self.tree.query(point)
            if self.polygons[i].intersects(point)
        ]  # type: ignore[attr-defined]
        return min(hits) if hits else None

    def grid_iris(self, carreau: str, pseudonym: str) -> str | None:
        """docs/aggregation.md: BLAKE2b-64 of the cell and pseudonym, 53 bits → [0, 1),
        against the cell's IRIS slices in code order."""
        weights = self.cells.get(carreau)
        if not weights:
            return None
        digest = hashlib.blake2b(
            b"id\x00" + carreau.encode() + b"\x00" + pseudonym.encode(),
            digest_size=8,
            person=b"obshub/carreau",
        ).digest()
        u = (int.from_bytes(digest, "big") >> 11) / 2.0**53
        edge = 0.0
        for code, weight in weights:
            if weight <= 0:
                continue
            edge += weight
            if u < edge:
                return code
        return next(code for code, w in reversed(weights) if w > 0)


def pseudonym(secret: bytes, identifier: str) -> str:
    return hmac.new(secret, identifier.encode(), hashlib.sha256).hexdigest()


Counts = Counter[str]


def count_by(rows: list[tuple[str, Row]], keep: Callable[[Row], bool]) -> Counts:
    return Counter(iris for iris, row in rows if keep(row))


def sum_by(rows: list[tuple[str, Row]], keep: Callable[[Row], bool], field: str) -> Counts:
    total: Counts = Counter()
    for iris, row in rows:
        if keep(row):
            total[iris] += int(row[field])
    return total


@dataclass(frozen=True)
class Expected:
    numerator: Counts
    denominator: Counts | None
    scale: float
    share_of_one_dataset: bool
    communes: frozenset[str] | None = None  # the communes published; None: all


CCAS_TERRITORY = {"ccas-bordeaux": frozenset({"33063"}), "ccas-le-bouscat": frozenset({"33069"})}


def ccas_rows(
    extracts: Path | Mapping[str, Path], territory: Territory
) -> tuple[list[tuple[str, Row]], frozenset[str]]:
    """Each CCAS's aids in its own communes (a bare path: the CCAS of Bordeaux's),
    and the communes covered: a commune no CCAS covers is not published."""
    by_partner = {"ccas-bordeaux": extracts} if isinstance(extracts, Path) else extracts
    rows: list[tuple[str, Row]] = []
    covered: set[str] = set()
    for partner, path in by_partner.items():
        communes = CCAS_TERRITORY[partner]
        covered |= communes
        rows += [
            (r["iris"], r)
            for r in read_csv(path)
            if territory.commune_of.get(r["iris"]) in communes
        ]
    return rows, frozenset(covered)


def expected_indicators(
    extracts: Mapping[str, Any], territory: Territory, apa_secret: bytes
) -> dict[str, Expected]:
    """Numerators and denominators per IRIS of the nine demo indicators."""
    inside = set(territory.iris)
    caf = [(r["iris"], r) for r in read_csv(extracts["caf.allocataires"]) if r["iris"] in inside]
    ft = []
    for r in read_csv(extracts["france_travail.demandeurs"]):
        code = territory.locate(float(r["lon"]), float(r["lat"]))
        if code is not None:
            ft.append((code, r))
    apa = []
    for r in read_csv(extracts["departement.apa"]):
        code = territory.grid_iris(r["carreau"], pseudonym(apa_secret, r["id_beneficiaire"]))
        if code is not None:
            apa.append((code, r))
    ccas, ccas_communes = ccas_rows(extracts["ccas.aides"], territory)
    pop = [(r["iris"], r) for r in read_csv(extracts["insee.population"]) if r["iris"] in inside]
    men = [(r["iris"], r) for r in read_csv(extracts["insee.menages"]) if r["iris"] in inside]

    def every(row: Row) -> bool:
        return True

    menages = sum_by(men, every, "menages")
    cat_a = count_by(ft, lambda r: r["categorie"] == "A")
    with_children = count_by(caf, lambda r: int(r["nb_enfants"]) >= 1)
    return {
        "caf_allocataires": Expected(count_by(caf, every), None, 1, False),
        "caf_bas_revenus_part": Expected(
            count_by(caf, lambda r: r["bas_revenus"] == "1"), count_by(caf, every), 100, True
        ),
        "caf_monoparents_part": Expected(
            count_by(caf, lambda r: r["type_foyer"] == "monoparent" and int(r["nb_enfants"]) >= 1),
            with_children,
            100,
            True,
        ),
        "rsa_pour_100_menages": Expected(
            count_by(caf, lambda r: r["rsa"] == "1"), menages, 100, False
        ),
        "defm_cat_a": Expected(cat_a, None, 1, False),
        "defm_jeunes_part": Expected(
            count_by(ft, lambda r: r["categorie"] == "A" and int(r["age"]) < 26), cat_a, 100, True
        ),
        "defm_longue_duree_part": Expected(
            count_by(ft, lambda r: r["categorie"] == "A" and int(r["anciennete_mois"]) >= 12),
            cat_a,
            100,
            True,
        ),
        "apa_domicile_pour_100_75plus": Expected(
            count_by(apa, lambda r: r["lieu"] == "domicile"),
            sum_by(pop, lambda r: r["tranche_age"] == "75+", "population"),
            100,
            False,
        ),
        "ccas_aides_pour_1000_menages": Expected(
            count_by(ccas, every), menages, 1000, False, ccas_communes
        ),
    }


def primary_secret(
    numerator: float, denominator: float | None, share: bool, k: int = 11, min_denominator: int = 50
) -> bool:
    """The secret statistique's primary rule (README, "The hub"), for k and the minimum."""
    if 0 < numerator < k:
        return True
    if denominator is None:
        return False
    if denominator < min_denominator:
        return True
    return share and 0 < denominator - numerator < k
