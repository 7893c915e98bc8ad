"""obshub schemas: what is on the wire (docs/wire.md).

- `schemas.catalog`  — `load_catalog()`, `SchemaCatalog`: the `.avsc` files, by name or fingerprint
- `schemas.model`    — `DatasetSchema`, `ProtocolSchema`, `FieldSpec`, `schema_fingerprint`
- `schemas.codec`    — single-object protocol messages, blocks of dataset records
- `schemas.sealing`  — X25519 + HKDF + AES-256-GCM per chunk
- `schemas.signing`  — the partner's Ed25519 signature over a drop's trailer
- `schemas.evolution`, `schemas.cli` — `obshub schema check`
- `schemas.errors`   — the `SchemaError` tree

Importing `schemas` itself stays cheap: submodules are imported by name.
"""

from schemas.errors import SchemaError

__all__ = ["SchemaError"]
