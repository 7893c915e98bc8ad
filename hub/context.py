"""What the hub knows at run time: conventions, keys, catalogs, territory.

Loaded once by an entry point from `HubSettings` and passed down; the
conventions, the trusted keys and the revocations are reloaded when their
files change, so a new version, a revocation, a withdrawn key or a tampered
file takes effect while the worker runs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from contracts.convention import Convention
from contracts.errors import ContractError
from contracts.indicators import IndicatorCatalog, Selection
from contracts.keys import (
    PUBLIC_SUFFIX,
    TrustStore,
    load_sealing_private_key,
    load_signing_key,
    load_trust_store,
)
from contracts.lifecycle import Survey, survey
from contracts.loading import convention_files, load_convention, load_indicator_catalog
from contracts.revocation import Revocation, load_revocations, revocation_files
from hub.aggregation import selections_for
from hub.geography import Territory, load_territory
from hub.levels import check_levels
from hub.settings import HubSettings
from schemas.catalog import SchemaCatalog, load_catalog

log = logging.getLogger(__name__)


@dataclass
class ConventionBook:
    """The conventions, trusted keys and revocations on disk; unreadable files are noted.

    A file that fails to load is reported (and its convention is simply not
    known to the hub), so one bad file never stops the drops of the others.
    `reload_if_changed` re-reads everything when any file was added,
    removed or changed; `survey(now)` says where each convention stands.
    """

    directory: Path
    keys_dir: Path | None = None  # the trust store; None: a book read only to plan topics
    by_ref: dict[tuple[str, int], Convention] = field(default_factory=dict)
    problems: dict[Path, str] = field(default_factory=dict)
    trust: TrustStore = field(default_factory=TrustStore)
    revocations: tuple[Revocation, ...] = ()
    _stamp: tuple[tuple[str, float, int], ...] = ()

    def _files(self) -> list[Path]:
        files = convention_files([self.directory]) if self.directory.is_dir() else []
        files += revocation_files(self.directory)
        if self.keys_dir is not None and self.keys_dir.is_dir():
            files += sorted(self.keys_dir.glob(f"*{PUBLIC_SUFFIX}"))
        return files

    def _current_stamp(self) -> tuple[tuple[str, float, int], ...]:
        stamp = []
        for path in self._files():
            try:
                info = path.stat()
            except OSError:
                continue
            stamp.append((str(path), info.st_mtime, info.st_size))
        return tuple(stamp)

    def reload_if_changed(self) -> bool:
        """Reload every file when any changed; True if something was reloaded."""
        stamp = self._current_stamp()
        if stamp == self._stamp:
            return False
        by_ref: dict[tuple[str, int], Convention] = {}
        problems: dict[Path, str] = {}
        files = convention_files([self.directory]) if self.directory.is_dir() else []
        for path in files:
            try:
                convention = load_convention(path)
            except ContractError as exc:
                problems[path] = str(exc).splitlines()[0]
                log.warning("convention unreadable file=%s reason=%s", path, problems[path])
                continue
            by_ref[(convention.id, convention.version)] = convention
        revocations, unreadable = load_revocations(self.directory)
        problems.update(unreadable)
        trust = self.trust
        if self.keys_dir is not None:
            try:
                trust = load_trust_store(self.keys_dir)
            except ContractError as exc:  # keep the keys already trusted, say why
                problems[self.keys_dir] = str(exc).splitlines()[0]
        self.by_ref, self.problems, self._stamp = by_ref, problems, stamp
        self.trust, self.revocations = trust, tuple(revocations)
        return True

    def get(self, convention_id: str, version: int) -> Convention | None:
        return self.by_ref.get((convention_id, version))

    def all(self) -> list[Convention]:
        return list(self.by_ref.values())

    def survey(self, instant: datetime) -> Survey:
        """Where every convention stands at `instant` (contracts.lifecycle)."""
        return survey(self.all(), self.trust, self.revocations, instant)


@dataclass
class HubContext:
    catalog: SchemaCatalog
    conventions: ConventionBook
    sealing_key: X25519PrivateKey
    territory: Territory
    indicators: IndicatorCatalog
    operator_key: Ed25519PrivateKey  # signs the receipts partners get
    _selections: dict[str, dict[str, Selection]] = field(default_factory=dict)
    _covered: dict[tuple[str, int, str], frozenset[str]] = field(default_factory=dict)

    def places_covered(self, convention: Convention | None, dataset_id: str) -> frozenset[str]:
        """The places (IRIS codes and atom ids) of the communes `convention`
        covers for the dataset (cached)."""
        if convention is None or dataset_id not in convention.datasets:
            return frozenset()
        key = (convention.id, convention.version, dataset_id)
        if key not in self._covered:
            communes = convention.datasets[dataset_id].territory
            iris = [code for c in communes for code in self.territory.iris_of_commune(c)]
            atoms = {atom for code in iris for atom in self.territory.atoms_of_iris(code)}
            qpv = [
                f"qpv:{area.code}"
                for area in self.territory.areas("qpv")
                if atoms.issuperset(area.atoms)  # a QPV over two communes needs both
            ]
            self._covered[key] = frozenset(iris) | frozenset(atoms) | frozenset(qpv)
        return self._covered[key]

    @property
    def trust(self) -> TrustStore:
        """The trusted public keys as the key directory holds them now."""
        return self.conventions.trust

    def selections(self, dataset_id: str) -> dict[str, Selection]:
        """The catalog's selections that read `dataset_id`, by key (cached)."""
        if dataset_id not in self._selections:
            self._selections[dataset_id] = selections_for(self.indicators, dataset_id)
        return self._selections[dataset_id]


def load_context(settings: HubSettings) -> HubContext:
    """Everything the worker needs, from the paths in `settings`."""
    book = ConventionBook(settings.conventions_dir, keys_dir=settings.keys_dir)
    book.reload_if_changed()
    schemas = load_catalog()
    territory = load_territory(settings.territory_dir)
    indicators = load_indicator_catalog(settings.catalog_file)
    check_levels(indicators, territory, schemas)
    return HubContext(
        catalog=schemas,
        conventions=book,
        sealing_key=load_sealing_private_key(settings.sealing_key_path),
        territory=territory,
        indicators=indicators,
        operator_key=load_signing_key(settings.operator_key_path),
    )
