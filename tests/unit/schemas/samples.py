"""Valid records for the schemas under test, built from the catalog itself."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from schemas.catalog import schema_root
from schemas.model import DatasetSchema, FieldSpec
from tests.support.wire import release_record

HEADER_KEY = bytes(range(32))


def caf_record() -> dict[str, Any]:
    """One valid `caf.allocataires` v1 record, a fresh dict each call."""
    return {
        "matricule": "ab" * 32,
        "iris": "330630101",
        "age_responsable": 41,
        "type_foyer": "monoparent",
        "nb_enfants": 2,
        "bas_revenus": 1,
        "rsa": 0,
        "aah": None,
        "aide_logement": 1,
    }


def field_values(spec: FieldSpec, identifier: bool) -> st.SearchStrategy[Any]:
    """Values a connector may put in this field once field policies applied."""
    values: st.SearchStrategy[Any]
    if spec.values is not None:
        values = st.sampled_from(spec.values)
    elif identifier:
        values = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
    elif spec.pattern is not None:
        values = st.from_regex(spec.pattern, fullmatch=True)
    elif spec.logical_type == "date":
        values = st.dates(min_value=date(1970, 1, 1), max_value=date(2100, 1, 1))
    elif spec.avro_type in ("int", "long"):
        top = spec.maximum if spec.maximum is not None else 2**31 - 1
        values = st.integers(min_value=int(spec.minimum or 0), max_value=int(top))
    elif spec.avro_type == "double":
        values = st.floats(
            min_value=spec.minimum, max_value=spec.maximum, allow_nan=False, allow_infinity=False
        )
    else:
        values = st.text()
    return st.one_of(st.none(), values) if spec.nullable else values


def records(schema: DatasetSchema) -> st.SearchStrategy[dict[str, Any]]:
    """Valid wire records of a dataset schema, nulls included."""
    return st.fixed_dictionaries(
        {
            name: field_values(spec, identifier=name == schema.identifier)
            for name, spec in schema.fields.items()
        }
    )


def protocol_samples(fingerprint: bytes) -> dict[str, dict[str, Any]]:
    """One valid record per protocol message."""
    at = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
    return {
        "drop_header": {
            "drop_id": "drop-1",
            "convention_id": "caf33-obs",
            "convention_version": 2,
            "partner": "caf33",
            "dataset": "caf.allocataires",
            "schema_version": 1,
            "record_schema_fingerprint": fingerprint,
            "period": "2024-04",
            "ephemeral_public_key": HEADER_KEY,
            "created_at": at,
            "connector_version": "0.1.0",
        },
        "drop_chunk": {
            "drop_id": "drop-1",
            "sequence": 0,
            "record_count": 2,
            "nonce": bytes(12),
            "ciphertext": b"\x01\x02\x03",
        },
        "drop_trailer": {
            "drop_id": "drop-1",
            "chunk_count": 1,
            "record_count": 2,
            "plaintext_sha256": bytes(32),
            "report": {
                "rows_read": 3,
                "rows_accepted": 2,
                "rows_rejected": 1,
                "rejections": {"bad_iris": 1},
            },
            "signature": bytes(64),
        },
        "drop_aggregate": {
            "drop_id": "drop-1",
            "partner": "caf33",
            "convention_id": "caf33-obshub",
            "convention_version": 1,
            "dataset": "caf.allocataires",
            "period": "2024-04",
            "counts": {"caf.allocataires:0123456789ab": {"330630101": 12.0}},
            "records": 12,
            "rejected": {"outside_territory": 1},
            "accepted_at": at,
        },
        "indicator_release": release_record(
            "caf_bas_revenus_part",
            "2024-04",
            [("iris", "330630101", 12.5), ("iris", "330630102", None)],
            "0123456789abcdef0123",
        ),
        "receipt": {
            "drop_id": "d-1",
            "partner": "caf33",
            "convention_id": "caf33-obshub",
            "convention_version": 1,
            "dataset": "caf.allocataires",
            "period": "2026-10",
            "outcome": "rejected",
            "repeat": False,
            "reason": "bad_signature",
            "detail": "trailer signature does not verify",
            "records_aggregated": 0,
            "records_rejected": {"drop_rejected": 12},
            "at": at,
            "signer": "hub-operator",
            "signature": b"\x00" * 64,
        },
        "quarantine_event": {
            "event_id": "ev-1",
            "at": at,
            "topic": "drops.caf33",
            "partition": 0,
            "offset": 42,
            "partner": "caf33",
            "drop_id": None,
            "reason": "bad_signature",
            "detail": "trailer signature does not verify",
        },
        "audit_event": {
            "event_id": "ev-2",
            "at": at,
            "actor": "cabinet-etudes",
            "action": "access",
            "object": "indicator:caf_allocataires",
            "outcome": "denied",
            "reason": "no_consent",
            "convention_id": None,
            "dataset": None,
            "drop_id": None,
            "consumer": "cabinet-etudes",
            "indicator": "caf_allocataires",
            "channel": "api",
            "release_id": None,
            "chain": "hub-api-0123456789ab",
            "seq": 7,
            "prev": "ab" * 32,
            "signature": None,
        },
    }


def copy_schema_tree(target: Path) -> Path:
    """A writable copy of the shipped schema files, for catalogs built in tests."""
    root = target / "avro"
    shutil.copytree(Path(str(schema_root())), root)
    return root
