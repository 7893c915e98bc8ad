"""Measure point placement and per-chunk aggregation on the demo territory.

    python -m hub.aggregation_bench [--territory deploy/demo/territory]
        [--indicators deploy/demo/indicators.yaml] [--points 200000]
        [--chunk 4000] [--repeat 20]

Prints points/s of `Territory.locate_points` and, per dataset location kind
(iris, lonlat, carreau), milliseconds per chunk for `place_records` then
`aggregate_chunk` over every selection of the demo catalog that reads the
dataset (best of `repeat`). The figures in docs/aggregation.md come from here.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from contracts.loading import load_indicator_catalog
from hub.aggregation import ChunkKey, aggregate_chunk, place_records, selections_for
from hub.geography import Territory, load_territory
from schemas.catalog import load_catalog
from schemas.codec_bench import best_seconds, sample_allocataire


def sample_points(territory: Territory, count: int, seed: int) -> tuple[Any, Any]:
    """Uniform points over the territory's bounding box (some fall outside it)."""
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = territory.bounds
    return rng.uniform(minx, maxx, count), rng.uniform(miny, maxy, count)


def sample_records(
    location: str, territory: Territory, rows: int, seed: int
) -> list[dict[str, Any]]:
    """Decoded wire records of the demo datasets, with 64-hex pseudonyms."""
    rng = random.Random(seed)
    iris = list(territory.iris)
    carreaux = list(territory.carreaux)
    lons, lats = sample_points(territory, rows, seed)
    records: list[dict[str, Any]] = []
    for i in range(rows):
        if location == "iris":
            records.append(sample_allocataire(rng, rng.choice(iris)))
            continue
        pseudonym = f"{rng.getrandbits(256):064x}"
        if location == "lonlat":
            records.append(
                {
                    "identifiant": pseudonym,
                    "lon": float(lons[i]),
                    "lat": float(lats[i]),
                    "age": rng.randrange(16, 70),
                    "sexe": rng.choice("FM"),
                    "categorie": rng.choice("AAABCDE"),
                    "anciennete_mois": rng.randrange(0, 60),
                }
            )
        else:
            records.append(
                {
                    "id_beneficiaire": pseudonym,
                    "carreau": rng.choice(carreaux),
                    "age": rng.randrange(60, 105),
                    "gir": rng.randrange(1, 7),
                    "lieu": rng.choice(("domicile", "etablissement")),
                    "vit_seul": rng.randrange(2),
                }
            )
    return records


DATASETS = (
    ("iris", "caf.allocataires"),
    ("lonlat", "france_travail.demandeurs"),
    ("carreau", "departement.apa"),
)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--territory", type=Path, default=Path("deploy/demo/territory"))
    parser.add_argument("--indicators", type=Path, default=Path("deploy/demo/indicators.yaml"))
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--chunk", type=int, default=4_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)
    territory = load_territory(args.territory)
    catalog = load_indicator_catalog(args.indicators)
    schemas = load_catalog()

    lons, lats = sample_points(territory, args.points, seed=1)
    seconds = best_seconds(lambda: territory.locate_points(lons, lats), args.repeat)
    print(f"locate_points: {args.points} points, {args.points / seconds:,.0f} points/s")

    for location, dataset_id in DATASETS:
        dataset = schemas.dataset(dataset_id)
        selections = selections_for(catalog, dataset_id)
        records = sample_records(location, territory, args.chunk, seed=2)
        key = ChunkKey("bench", 0)

        def place() -> Any:
            return place_records(records, dataset, territory, key)  # noqa: B023

        placed, _ = place()

        def aggregate() -> Any:
            return aggregate_chunk(placed, selections, dataset.measure)  # noqa: B023

        place_s = best_seconds(place, args.repeat)
        aggregate_s = best_seconds(aggregate, args.repeat)
        print(
            f"{dataset_id} ({location}, {len(selections)} selections): "
            f"{args.chunk} records, place {place_s * 1e3:.2f} ms + aggregate "
            f"{aggregate_s * 1e3:.2f} ms = {(place_s + aggregate_s) * 1e3:.2f} ms per chunk"
        )


if __name__ == "__main__":
    main()
