"""Errors of the wire layer, and `ObshubError`, the root of every project error.

ObshubError                  root of the errors of schemas, contracts, connectors, hub, bench
 ├─ PlacedError              an error about one place (file, key, setting): `where: detail`
 └─ SchemaError              (the tree below; `ContractError`, `ConnectorError`,
                             `HubError` and `BenchError` are its siblings)

SchemaError
 ├─ CatalogError             a schema file is unreadable, not Avro, or breaks the obshub rules
 ├─ UnknownSchemaError       no dataset / protocol schema of that name or version
 ├─ UnknownFingerprintError  no schema in the catalog has that fingerprint
 ├─ InvalidRecordError       a record does not fit the schema it is encoded with
 ├─ MalformedMessageError    bytes are not a single-object encoded protocol message
 ├─ MalformedBlockError      bytes are not a block of `count` records of a dataset schema
 ├─ KeyFormatError           a key is not the raw X25519 / Ed25519 key it should be
 ├─ SealError                a chunk cannot be sealed or opened (tampered, replayed, wrong key)
 ├─ SignatureMismatchError   a drop trailer's signature does not verify
 └─ ReceiptSignatureError    a receipt is not signed by the hub operator's key

Every error carries the context a quarantine event or a one-line CLI message
needs, and a short `reason` code (`unknown_fingerprint`, `truncated`,
`bad_seal`…) for metrics labels and `quarantine_event.reason`. No error
message ever contains a record's values.

`ObshubError` lives here because `schemas` is the package every other one
imports: each package's root error derives from it, so the CLI edge
(`schemas.cli_edge`) and anything else that handles "a project error" need
not know the packages, and every project error has a `reason`.
"""

from __future__ import annotations


class ObshubError(Exception):
    """Root of every error obshub raises on purpose.

    `reason` is a short snake_case code (a class attribute, or an instance
    attribute where one class has several) for metrics labels, audit and
    quarantine events and API bodies; the message (`str(error)`) is for people.
    """

    reason: str = "obshub_error"


class PlacedError(ObshubError):
    """An error about one place (a file, a key, a setting): `where` and `detail`.

    Its text is `<label> <where>: <detail>` (`label` may be empty, `where`
    None when the place is unknown). Each package's errors of this kind
    derive from it and from their package's root, e.g.
    `class KeyFileError(PlacedError, ContractError)`, and keep their own
    `reason` code: `detail` is free text, `reason` never is.
    """

    label = ""

    def __init__(self, where: object, detail: str) -> None:
        self.where, self.detail = where, detail
        place = " ".join(str(part) for part in (self.label, where) if part)
        super().__init__(f"{place}: {detail}" if place else detail)


class SchemaError(ObshubError):
    """Root of every error raised by `schemas`."""

    reason = "schema_error"


class CatalogError(PlacedError, SchemaError):
    reason = "bad_catalog"
    label = "schema file"


class UnknownSchemaError(SchemaError):
    reason = "unknown_schema"

    def __init__(self, kind: str, name: str, version: int | None = None) -> None:
        self.kind, self.name, self.version = kind, name, version
        what = f"{kind} {name!r}" + ("" if version is None else f" version {version}")
        super().__init__(f"unknown {what}")


class UnknownFingerprintError(SchemaError):
    reason = "unknown_fingerprint"

    def __init__(self, fingerprint: bytes) -> None:
        self.fingerprint = fingerprint
        super().__init__(f"no schema in the catalog has fingerprint {fingerprint.hex()}")


class InvalidRecordError(SchemaError):
    reason = "invalid_record"

    def __init__(self, schema: str, detail: str, index: int | None = None) -> None:
        self.schema, self.detail, self.index = schema, detail, index
        where = "" if index is None else f" (record {index})"
        super().__init__(f"record does not fit {schema}{where}: {detail}")


class MalformedMessageError(SchemaError):
    """`reason` is one of `bad_marker`, `truncated`, `trailing_bytes`,
    `not_a_protocol_message`, `bad_body`, `out_of_domain`."""

    def __init__(self, reason: str, detail: str, schema: str | None = None) -> None:
        self.reason, self.detail, self.schema = reason, detail, schema
        where = "" if schema is None else f" ({schema})"
        super().__init__(f"malformed message{where}: {reason}: {detail}")


class MalformedBlockError(SchemaError):
    """`reason` is one of `truncated`, `trailing_bytes`, `count_mismatch`, `bad_body`."""

    def __init__(self, schema: str, reason: str, detail: str) -> None:
        self.schema, self.reason, self.detail = schema, reason, detail
        super().__init__(f"malformed record block ({schema}): {reason}: {detail}")


class KeyFormatError(PlacedError, SchemaError):
    reason = "bad_key"


class SealError(SchemaError):
    reason = "bad_seal"

    def __init__(self, drop_id: str, sequence: int | None, detail: str) -> None:
        self.drop_id, self.sequence, self.detail = drop_id, sequence, detail
        where = "" if sequence is None else f" chunk {sequence}"
        super().__init__(f"drop {drop_id}{where}: {detail}")


class SignatureMismatchError(SchemaError):
    reason = "bad_signature"

    def __init__(self, drop_id: str, detail: str) -> None:
        self.drop_id, self.detail = drop_id, detail
        super().__init__(f"drop {drop_id}: trailer signature does not verify: {detail}")


class ReceiptSignatureError(SchemaError):
    reason = "bad_receipt_signature"

    def __init__(self, drop_id: str, detail: str) -> None:
        self.drop_id, self.detail = drop_id, detail
        super().__init__(f"receipt for drop {drop_id}: {detail}")
