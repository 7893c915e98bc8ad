"""Every schema on the wire, loaded once, found by name or by fingerprint.

The files ship inside this package (docs/wire.md, "Layout of the schema
files"):

    avro/datasets/<dataset_id>/v<N>.avsc
    avro/protocol/<name>.v<N>.avsc

`load_catalog()` reads and parses them once per process. A consumer that
receives a message looks its 8-byte fingerprint up with `by_fingerprint`,
so no registry server is needed.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Iterator
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

from schemas.errors import CatalogError, UnknownFingerprintError, UnknownSchemaError
from schemas.model import (
    DatasetSchema,
    ProtocolSchema,
    build_dataset_schema,
    build_protocol_schema,
)

_DATASET_FILE = re.compile(r"^v([1-9][0-9]*)\.avsc$")
_PROTOCOL_FILE = re.compile(r"^([a-z][a-z0-9_]*)\.v([1-9][0-9]*)\.avsc$")

AnySchema = DatasetSchema | ProtocolSchema


class SchemaCatalog:
    """The dataset and protocol schemas, indexed by name, version and fingerprint."""

    def __init__(self, datasets: Iterable[DatasetSchema], protocols: Iterable[ProtocolSchema]):
        self._datasets: dict[str, dict[int, DatasetSchema]] = {}
        self._protocols: dict[str, dict[int, ProtocolSchema]] = {}
        self._by_fingerprint: dict[bytes, AnySchema] = {}
        for dataset in datasets:
            self._add(self._datasets.setdefault(dataset.dataset_id, {}), dataset.version, dataset)
        for protocol in protocols:
            self._add(self._protocols.setdefault(protocol.name, {}), protocol.version, protocol)

    def _add(self, versions: dict[int, Any], version: int, schema: AnySchema) -> None:
        if version in versions:
            raise CatalogError(schema.label, "defined twice")
        clash = self._by_fingerprint.get(schema.fingerprint)
        if clash is not None:
            # Parsing Canonical Form ignores docs, defaults and obshub.* attributes:
            # a version that changes only those cannot be told apart on the wire.
            raise CatalogError(
                schema.label,
                f"same fingerprint {schema.fingerprint.hex()} as {clash.label}; "
                "a new version must change the record's structure",
            )
        versions[version] = schema
        self._by_fingerprint[schema.fingerprint] = schema

    @classmethod
    def from_directory(cls, root: Traversable) -> SchemaCatalog:
        """Load `root/datasets/*/v<N>.avsc` and `root/protocol/<name>.v<N>.avsc`."""
        datasets: list[DatasetSchema] = []
        protocols: list[ProtocolSchema] = []
        datasets_dir, protocol_dir = root / "datasets", root / "protocol"
        if not datasets_dir.is_dir() or not protocol_dir.is_dir():
            raise CatalogError(str(root), "expected datasets/ and protocol/ directories")
        for dataset_dir in _sorted(datasets_dir):
            if not dataset_dir.is_dir():
                continue
            for path in _avsc_files(dataset_dir):
                where = f"datasets/{dataset_dir.name}/{path.name}"
                match = _DATASET_FILE.match(path.name)
                if not match:
                    raise CatalogError(where, "expected a file named v<N>.avsc")
                raw = _read_json(path, where)
                version = int(match.group(1))
                datasets.append(build_dataset_schema(raw, where, dataset_dir.name, version))
        for path in _avsc_files(protocol_dir):
            where = f"protocol/{path.name}"
            match = _PROTOCOL_FILE.match(path.name)
            if not match:
                raise CatalogError(where, "expected a file named <name>.v<N>.avsc")
            raw = _read_json(path, where)
            name, version = match.group(1), int(match.group(2))
            protocols.append(build_protocol_schema(raw, where, name, version))
        return cls(datasets, protocols)

    def datasets(self) -> list[str]:
        return sorted(self._datasets)

    def versions(self, dataset_id: str) -> list[int]:
        return sorted(self._dataset_versions(dataset_id))

    def dataset(self, dataset_id: str, version: int | None = None) -> DatasetSchema:
        """One version of a dataset's schema; the latest when `version` is None."""
        versions = self._dataset_versions(dataset_id)
        chosen = max(versions) if version is None else version
        if chosen not in versions:
            raise UnknownSchemaError("dataset", dataset_id, version)
        return versions[chosen]

    def protocols(self) -> list[str]:
        return sorted(self._protocols)

    def protocol_versions(self, name: str) -> list[int]:
        return sorted(self._protocol_versions(name))

    def protocol(self, name: str, version: int | None = None) -> ProtocolSchema:
        """One version of a protocol message schema; the latest when `version` is None."""
        versions = self._protocol_versions(name)
        chosen = max(versions) if version is None else version
        if chosen not in versions:
            raise UnknownSchemaError("protocol message", name, version)
        return versions[chosen]

    def by_fingerprint(self, fingerprint: bytes) -> AnySchema:
        """The schema whose 8-byte little-endian fingerprint this is."""
        try:
            return self._by_fingerprint[bytes(fingerprint)]
        except KeyError:
            raise UnknownFingerprintError(bytes(fingerprint)) from None

    def __iter__(self) -> Iterator[AnySchema]:
        """Every schema: datasets then protocol messages, by name and version."""
        for group in (self._datasets, self._protocols):
            for name in sorted(group):
                versions = group[name]
                yield from (versions[v] for v in sorted(versions))

    def __len__(self) -> int:
        return len(self._by_fingerprint)

    def _dataset_versions(self, dataset_id: str) -> dict[int, DatasetSchema]:
        try:
            return self._datasets[dataset_id]
        except KeyError:
            raise UnknownSchemaError("dataset", dataset_id) from None

    def _protocol_versions(self, name: str) -> dict[int, ProtocolSchema]:
        try:
            return self._protocols[name]
        except KeyError:
            raise UnknownSchemaError("protocol message", name) from None


def schema_root() -> Traversable:
    """The directory of the `.avsc` files shipped with this package."""
    return files("schemas") / "avro"


@functools.cache
def load_catalog() -> SchemaCatalog:
    """The packaged catalog, loaded and parsed once per process."""
    return SchemaCatalog.from_directory(schema_root())


def _sorted(directory: Traversable) -> list[Traversable]:
    return sorted(directory.iterdir(), key=lambda entry: entry.name)


def _avsc_files(directory: Traversable) -> list[Traversable]:
    return [entry for entry in _sorted(directory) if entry.name.endswith(".avsc")]


def _read_json(path: Traversable, where: str) -> dict[str, Any]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(where, f"cannot read: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise CatalogError(where, f"not JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise CatalogError(where, "the top-level schema must be a JSON object")
    return raw
