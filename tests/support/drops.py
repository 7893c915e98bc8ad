"""Build real drops (the connector's own writer) for hub tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from connectors.drop import DropIdentity, DropWriter
from connectors.validation import Tally
from contracts.keys import load_sealing_public_key, load_signing_key
from contracts.loading import load_convention
from hub.ingest import DropMessage
from schemas.catalog import load_catalog

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "deploy" / "demo"
CREATED = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)


def caf_record(i: int, iris: str = "330630101", **fields: Any) -> dict[str, Any]:
    record = {
        "matricule": f"{i:064x}",
        "iris": iris,
        "age_responsable": 40,
        "type_foyer": "monoparent" if i % 3 == 0 else "isole",
        "nb_enfants": 1 if i % 3 == 0 else 0,
        "bas_revenus": i % 2,
        "rsa": int(i % 5 == 0),
        "aah": 0,
        "aide_logement": 1,
        "quotient_familial": None,
    }
    record.update(fields)
    return record


def build_drop(
    records: Sequence[dict[str, Any]],
    chunk_size: int = 100,
    *,
    partner: str = "caf33",
    dataset: str = "caf.allocataires",
    version: int = 2,
    period: str = "2026-10",
    drop_id: str = "d" * 32,
    created: dt.datetime = CREATED,
    signer: str | None = None,
    topic: str | None = None,
    convention_file: Path | None = None,
) -> list[DropMessage]:
    """Header, chunks and trailer of one drop, as messages on `drops.<partner>`
    (under `convention_file`, by default the partner's demo convention)."""
    catalog = load_catalog()
    convention = load_convention(convention_file or DEMO / "conventions" / f"{partner}.yaml")
    schema = catalog.dataset(dataset, version)
    fields = list(schema.fields)
    rows = [{name: r.get(name) for name in fields} for r in records]
    writer = DropWriter(
        DropIdentity(drop_id, convention, schema, period, "test"),
        catalog,
        load_sealing_public_key(DEMO / "keys" / "hub.x25519.pub").public_bytes_raw(),
        load_signing_key(DEMO / "keys" / f"{signer or partner}.key"),
        created,
    )
    values = [writer.header()]
    for start in range(0, len(rows), chunk_size):
        values.append(writer.chunk(rows[start : start + chunk_size]))
    tally = Tally(rows_read=len(rows), rows_accepted=len(rows))
    values.append(writer.trailer(tally))
    where = topic or f"drops.{partner}"
    return [
        DropMessage(where, 0, offset, drop_id.encode(), value)
        for offset, value in enumerate(values)
    ]
