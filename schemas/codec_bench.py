"""Measure the block codec against the alternatives it was chosen over.

    python -m schemas.codec_bench [--rows 5000] [--repeat 30]

Prints rows/s (best of `repeat`) for encoding and decoding one block of
caf.allocataires-like records three ways, and for encode + seal, the
connector's share of the work. The figures in docs/wire.md come from here.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from io import BytesIO
from typing import Any

import fastavro

from schemas.catalog import load_catalog
from schemas.codec import decode_block, encode_block
from schemas.model import DatasetSchema
from schemas.sealing import DropSealer, generate_hub_keypair

FOYERS = ("isole", "monoparent", "couple_sans_enfant", "couple_avec_enfants")


def sample_allocataire(rng: random.Random, iris: str) -> dict[str, Any]:
    """One `caf.allocataires` wire record in `iris`: a 64-hex pseudonym, random values."""
    return {
        "matricule": f"{rng.getrandbits(256):064x}",
        "iris": iris,
        "age_responsable": rng.randrange(18, 100),
        "type_foyer": rng.choice(FOYERS),
        "nb_enfants": rng.randrange(0, 6),
        "bas_revenus": rng.randrange(2),
        "rsa": rng.randrange(2),
        "aah": rng.choice((0, 1, None)),
        "aide_logement": rng.randrange(2),
    }


def sample_allocataires(rows: int, seed: int = 1) -> list[dict[str, Any]]:
    """Wire records as a connector sends them: 64-hex pseudonyms, a few nulls."""
    rng = random.Random(seed)
    records = []
    for _ in range(rows):
        records.append(sample_allocataire(rng, f"33063{rng.randrange(1, 120):04d}"))
    return records


def best_seconds(action: Callable[[], object], repeat: int) -> float:
    """The shortest of `repeat` timed runs of `action` (s): the least disturbed one."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return best


def measure(schema: DatasetSchema, records: list[dict[str, Any]], repeat: int) -> dict[str, float]:
    """Seconds per block for each approach (best of `repeat`)."""
    block = encode_block(schema, records)

    def loop_encode() -> bytes:
        out = BytesIO()
        for record in records:
            fastavro.schemaless_writer(out, schema.parsed, record, strict=True)
        return out.getvalue()

    looped = loop_encode()

    def loop_decode() -> list[Any]:
        buf = BytesIO(looped)
        return [fastavro.schemaless_reader(buf, schema.parsed, None) for _ in records]

    def container_encode() -> bytes:
        out = BytesIO()
        fastavro.writer(out, schema.parsed, records, codec="null")
        return out.getvalue()

    contained = container_encode()
    # Reference only: the same record without nullable unions, to price the union dispatch.
    required = {**schema.raw, "fields": [_without_null(f) for f in schema.raw["fields"]]}
    required_block = fastavro.parse_schema({"type": "array", "items": required})
    filled = [{k: 0 if v is None else v for k, v in record.items()} for record in records]

    def required_encode() -> bytes:
        out = BytesIO()
        fastavro.schemaless_writer(out, required_block, filled)
        return out.getvalue()

    sealer = DropSealer(generate_hub_keypair()[1], "bench-drop")
    return {
        "array encode (chosen)": best_seconds(lambda: encode_block(schema, records), repeat),
        "array decode (chosen)": best_seconds(
            lambda: decode_block(schema, block, len(records)), repeat
        ),
        "per-record loop encode": best_seconds(loop_encode, repeat),
        "per-record loop decode": best_seconds(loop_decode, repeat),
        "container null encode": best_seconds(container_encode, repeat),
        "container null decode": best_seconds(
            lambda: list(fastavro.reader(BytesIO(contained))), repeat
        ),
        "array encode, no unions": best_seconds(required_encode, repeat),
        "array encode + seal": best_seconds(
            lambda: sealer.seal(0, encode_block(schema, records)), repeat
        ),
    }


def _without_null(field: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(field["type"], list):
        return field
    return {"name": field["name"], "type": field["type"][-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    schema = load_catalog().dataset("caf.allocataires", 1)
    records = sample_allocataires(args.rows)
    size = len(encode_block(schema, records))
    print(f"{args.rows} caf.allocataires v1 records, block of {size} bytes, best of {args.repeat}")
    for name, seconds in measure(schema, records, args.repeat).items():
        print(f"{name:<26} {seconds * 1000:8.2f} ms {args.rows / seconds:>10,.0f} rows/s")


if __name__ == "__main__":
    main()
