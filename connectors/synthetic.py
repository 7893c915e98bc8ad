"""Synthetic partner extracts for the demo territory (`obshub connector generate`).

Everything here is invented: households, job seekers, beneficiaries and
aids are drawn at random, seeded, over the demo territory's generated IRIS
(deploy/demo/territory), in each partner's export format (docs/wire.md).
Rates vary by IRIS through a seeded deprivation index so that maps show
contrast; identifiers are stable for a seed, so the same household keeps its
identifier from one month to the next.

Generation is vectorised with numpy: a million rows take a few seconds.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.random import Generator

from connectors.errors import ConnectorError
from contracts.paths import DEMO_DIR, shown
from contracts.periods import period_start

DEFAULT_TERRITORY = DEMO_DIR / "territory"
AGE_BANDS = ("0-14", "15-24", "25-39", "40-54", "55-64", "65-74", "75+")
AGE_SHARES = (0.16, 0.15, 0.22, 0.18, 0.11, 0.09, 0.09)


class GeneratorError(ConnectorError):
    reason = "cannot_generate"

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(f"cannot generate: {detail}")


@dataclass(frozen=True)
class DemoTerritory:
    iris: tuple[str, ...]
    population: np.ndarray  # persons per IRIS
    households: np.ndarray
    deprivation: np.ndarray  # seeded, in [0, 1]
    polygons: tuple[Any, ...]  # shapely polygons, same order as `iris`
    carreaux: dict[str, list[tuple[str, float]]]  # IRIS -> [(carreau, weight)]

    def within(self, communes: Sequence[str]) -> DemoTerritory:
        """The part of the territory in these communes (an IRIS code starts with its
        commune's): the extract of a partner whose convention covers only them."""
        keep = [i for i, code in enumerate(self.iris) if code[:5] in set(communes)]
        if not keep:
            raise GeneratorError(f"no IRIS of the territory in {', '.join(communes)}")
        return DemoTerritory(
            iris=tuple(self.iris[i] for i in keep),
            population=self.population[keep],
            households=self.households[keep],
            deprivation=self.deprivation[keep],
            polygons=tuple(self.polygons[i] for i in keep),
            carreaux={self.iris[i]: self.carreaux.get(self.iris[i], []) for i in keep},
        )


def load_demo_territory(directory: Path, seed: int = 33) -> DemoTerritory:
    from shapely.geometry import shape

    if not directory.is_dir():
        raise GeneratorError(f"no territory directory {shown(directory)} (give --territory)")
    try:
        with (directory / "iris.csv").open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle, delimiter=";"))
        features = json.loads((directory / "iris.geojson").read_text(encoding="utf-8"))["features"]
        with (directory / "carreaux.csv").open(encoding="utf-8", newline="") as handle:
            cells = list(csv.DictReader(handle, delimiter=";"))
    except (OSError, KeyError, ValueError) as exc:
        raise GeneratorError(f"territory files in {directory} are unreadable ({exc})") from exc
    codes = tuple(r["CODE_IRIS"] for r in rows)
    geometry = {f["properties"]["CODE_IRIS"]: shape(f["geometry"]) for f in features}
    carreaux: dict[str, list[tuple[str, float]]] = {code: [] for code in codes}
    for cell in cells:
        carreaux.setdefault(cell["CODE_IRIS"], []).append((cell["carreau"], float(cell["poids"])))
    rng = np.random.default_rng(seed)
    return DemoTerritory(
        iris=codes,
        population=np.array([int(r["P_POP"]) for r in rows], dtype=np.int64),
        households=np.array([int(r["P_MEN"]) for r in rows], dtype=np.int64),
        deprivation=rng.beta(1.6, 2.6, len(codes)),
        polygons=tuple(geometry[c] for c in codes),
        carreaux=carreaux,
    )


def _pick_iris(rng: Generator, territory: DemoTerritory, n: int, weights: np.ndarray) -> np.ndarray:
    p = weights / weights.sum()
    return rng.choice(len(territory.iris), size=n, p=p)


def _bernoulli(rng: Generator, p: np.ndarray) -> np.ndarray:
    return (rng.random(len(p)) < p).astype(np.int64)


def _identifiers(rng: Generator, n: int, width: int = 9) -> np.ndarray:
    """Distinct numeric identifiers, as text."""
    ids = rng.choice(10**width - 10 ** (width - 1), size=n, replace=False) + 10 ** (width - 1)
    text: np.ndarray = ids.astype(str)
    return text


def caf_allocataires(
    rng: Generator, ids: Generator, t: DemoTerritory, n: int, period: str
) -> dict[str, Any]:
    where = _pick_iris(rng, t, n, t.households * (0.6 + t.deprivation))
    d = t.deprivation[where]
    kind = rng.random(n)
    mono_share = 0.10 + 0.12 * d
    type_foyer = np.where(
        kind < 0.44,
        "isole",
        np.where(
            kind < 0.44 + mono_share,
            "monoparent",
            np.where(kind < 0.64 + mono_share, "couple_sans_enfant", "couple_avec_enfants"),
        ),
    )
    children = np.where(
        type_foyer == "monoparent",
        1 + rng.poisson(0.8, n),
        np.where(type_foyer == "couple_avec_enfants", 1 + rng.poisson(1.1, n), 0),
    )
    return {
        "matricule": _identifiers(ids, n, 7),
        "iris": np.array(t.iris)[where],
        "age_responsable": np.clip(rng.normal(44, 15, n).astype(np.int64), 18, 98),
        "type_foyer": type_foyer,
        "nb_enfants": np.minimum(children, 9),
        "bas_revenus": _bernoulli(rng, 0.12 + 0.55 * d),
        "rsa": _bernoulli(rng, 0.04 + 0.28 * d),
        "aah": _bernoulli(rng, np.full(n, 0.05)),
        "aide_logement": _bernoulli(rng, 0.30 + 0.40 * d),
    }


def _points_in(rng: Generator, polygon: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    import shapely

    minx, miny, maxx, maxy = polygon.bounds
    lons: list[np.ndarray] = []
    lats: list[np.ndarray] = []
    shapely.prepare(polygon)
    need = n
    while need > 0:
        x = rng.uniform(minx, maxx, need * 2 + 8)
        y = rng.uniform(miny, maxy, need * 2 + 8)
        inside = shapely.contains_xy(polygon, x, y)
        lons.append(x[inside][:need])
        lats.append(y[inside][:need])
        need -= int(min(inside.sum(), need))
    return np.concatenate(lons), np.concatenate(lats)


def france_travail_demandeurs(
    rng: Generator, ids: Generator, t: DemoTerritory, n: int, period: str
) -> dict[str, Any]:
    where = _pick_iris(rng, t, n, t.population * (0.5 + t.deprivation))
    lon = np.empty(n)
    lat = np.empty(n)
    for index in np.unique(where):
        mask = where == index
        lon[mask], lat[mask] = _points_in(rng, t.polygons[index], int(mask.sum()))
    category = rng.choice(np.array(list("ABCDE")), size=n, p=[0.55, 0.14, 0.19, 0.06, 0.06])
    return {
        "identifiant": np.char.add("FT", _identifiers(ids, n, 8)),
        "lon": np.round(lon, 6),
        "lat": np.round(lat, 6),
        "age": np.clip(rng.normal(39, 12, n).astype(np.int64), 16, 67),
        "sexe": rng.choice(np.array(["F", "M"]), size=n),
        "categorie": category,
        "anciennete_mois": np.minimum(rng.geometric(1 / 14, n) - 1, 240),
    }


def departement_apa(
    rng: Generator, ids: Generator, t: DemoTerritory, n: int, period: str
) -> dict[str, Any]:
    where = _pick_iris(rng, t, n, t.population.astype(float))
    carreau = np.empty(n, dtype=object)
    for index in np.unique(where):
        mask = where == index
        cells = t.carreaux.get(t.iris[index]) or []
        if not cells:
            raise GeneratorError(f"IRIS {t.iris[index]} has no carreau in carreaux.csv")
        names = np.array([c for c, _ in cells])
        weights = np.array([w for _, w in cells])
        carreau[mask] = rng.choice(names, size=int(mask.sum()), p=weights / weights.sum())
    lieu = np.where(rng.random(n) < 0.62, "domicile", "etablissement")
    return {
        "id_beneficiaire": _identifiers(ids, n, 8),
        "carreau": carreau,
        "age": np.clip(rng.normal(84, 7, n).astype(np.int64), 60, 104),
        "gir": rng.choice(np.array([1, 2, 3, 4]), size=n, p=[0.03, 0.17, 0.22, 0.58]),
        "lieu": lieu,
        "vit_seul": np.where(lieu == "domicile", _bernoulli(rng, np.full(n, 0.45)), 0),
    }


def ccas_aides(
    rng: Generator, ids: Generator, t: DemoTerritory, n: int, period: str
) -> dict[str, Any]:
    where = _pick_iris(rng, t, n, t.households * (0.2 + t.deprivation * 2))
    year, month = period_start(period)
    first = dt.date(year, month, 1)
    days = rng.integers(0, 28, n)
    kind = rng.choice(
        np.array(["alimentaire", "energie", "logement", "transport", "autre"]),
        size=n,
        p=[0.38, 0.24, 0.18, 0.12, 0.08],
    )
    return {
        "id_demandeur": _identifiers(ids, n, 7),
        "iris": np.array(t.iris)[where],
        "type_aide": kind,
        "montant_eur": np.round(rng.gamma(2.2, 70, n), 2),
        "date_decision": np.array([(first + dt.timedelta(days=int(d))).isoformat() for d in days]),
    }


def insee_population(
    rng: Generator, ids: Generator, t: DemoTerritory, n: int, period: str
) -> dict[str, Any]:
    iris, bands, sexes, counts = [], [], [], []
    for code, total in zip(t.iris, t.population, strict=True):
        shares = rng.dirichlet(np.array(AGE_SHARES) * 60)
        for band, share in zip(AGE_BANDS, shares, strict=True):
            people = round(float(total * share))
            women = int(rng.binomial(people, 0.53 if band == "75+" else 0.51))
            for sexe, count in (("F", women), ("M", people - women)):
                iris.append(code)
                bands.append(band)
                sexes.append(sexe)
                counts.append(count)
    return {
        "iris": np.array(iris),
        "tranche_age": np.array(bands),
        "sexe": np.array(sexes),
        "population": np.array(counts),
    }


def insee_menages(
    rng: Generator, ids: Generator, t: DemoTerritory, n: int, period: str
) -> dict[str, Any]:
    return {"iris": np.array(t.iris), "menages": t.households}


GENERATORS: dict[str, Callable[[Generator, Generator, DemoTerritory, int, str], dict[str, Any]]] = {
    "caf.allocataires": caf_allocataires,
    "france_travail.demandeurs": france_travail_demandeurs,
    "departement.apa": departement_apa,
    "ccas.aides": ccas_aides,
    "insee.population": insee_population,
    "insee.menages": insee_menages,
}
AGGREGATE_DATASETS = ("insee.population", "insee.menages")


def generate_columns(
    dataset: str, rows: int, period: str, seed: int = 1, territory: DemoTerritory | None = None
) -> dict[str, Any]:
    if dataset not in GENERATORS:
        raise GeneratorError(f"unknown dataset {dataset!r} (known: {', '.join(GENERATORS)})")
    period_start(period)  # PeriodError, in one line, for a period in no known form
    territory = territory or load_demo_territory(DEFAULT_TERRITORY)
    # Identifiers come from a stream of their own, the same for every period,
    # so a household keeps its identifier from one month to the next.
    stream = [seed, *dataset.encode()]
    ids = np.random.default_rng(stream)
    rng = np.random.default_rng([*stream, *period.encode()])
    return GENERATORS[dataset](rng, ids, territory, rows, period)


# Faulty rows a partner's export really contains, by kind. Each mutates one
# row (a list of cells, in the dataset's column order) in place.
FAULT_KINDS = (
    "missing_location",
    "bad_location",
    "outside_territory",
    "bad_number",
    "out_of_domain",
    "short_row",
)


def _fault(kind: str, names: list[str], row: list[Any], rng: Generator) -> list[Any]:
    location = next(n for n in ("iris", "lon", "carreau") if n in names)
    at = names.index(location)
    numbers = [n for n in names if n in NUMERIC_COLUMNS]
    categorical = [n for n in names if n in CATEGORICAL_COLUMNS]
    if kind == "missing_location":
        row[at] = ""
    elif kind == "bad_location":
        row[at] = {"iris": "33063-01", "lon": "lon?", "carreau": "CRS3035RES200mNXE1"}[location]
    elif kind == "outside_territory":  # another commune of Gironde, or far away
        row[at] = {
            "iris": "333180101",
            "lon": "2.351400",
            "carreau": "CRS3035RES200mN2000000E3000000",
        }[location]
        if location == "lon":
            row[names.index("lat")] = "48.856600"
    elif kind == "bad_number" and numbers:
        row[names.index(numbers[int(rng.integers(len(numbers)))])] = "n/a"
    elif kind == "out_of_domain" and categorical:
        row[names.index(categorical[int(rng.integers(len(categorical)))])] = "inconnu"
    elif kind == "short_row":
        del row[-1]
    return row


NUMERIC_COLUMNS = frozenset(
    {
        "age_responsable",
        "nb_enfants",
        "age",
        "anciennete_mois",
        "gir",
        "montant_eur",
        "population",
        "menages",
    }
)
CATEGORICAL_COLUMNS = frozenset(
    {"type_foyer", "sexe", "categorie", "lieu", "type_aide", "tranche_age"}
)


def write_csv(
    path: Path,
    columns: dict[str, Any],
    separator: str = ";",
    faults: float = 0.0,
    kinds: Sequence[str] = FAULT_KINDS,
    seed: int = 1,
) -> int:
    """Write the columns as a CSV extract (UTF-8, header row); returns the row count.

    `faults` is the fraction of rows turned faulty, each with a kind drawn
    from `kinds` (FAULT_KINDS); the generator's caller knows which, so tests
    can check the connector's and the hub's accounting of them.
    """
    unknown = sorted(set(kinds) - set(FAULT_KINDS))
    if unknown or not kinds:
        raise GeneratorError(
            f"unknown fault kind(s) {', '.join(unknown) or '(none given)'}; "
            f"known: {', '.join(FAULT_KINDS)}"
        )
    if not 0.0 <= faults <= 1.0:
        raise GeneratorError("the fraction of faulty rows must be between 0 and 1")
    names = list(columns)
    data: Sequence[Iterable[Any]] = [np.asarray(columns[name]).tolist() for name in names]
    count = len(np.asarray(columns[names[0]]))
    rows: Iterable[Sequence[Any]] = zip(*data, strict=True)
    if faults > 0:
        rng = np.random.default_rng([seed, 0xFA])
        chosen = set(rng.choice(count, size=round(count * faults), replace=False).tolist())
        picks = iter(rng.choice(np.array(kinds), size=len(chosen)).tolist())
        rows = (
            _fault(next(picks), names, list(row), rng) if i in chosen else row
            for i, row in enumerate(rows)
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=separator, lineterminator="\n")
        writer.writerow(names)
        writer.writerows(rows)
    return count
