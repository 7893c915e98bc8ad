"""What the hub knows at run time: conventions, keys, catalogs, territory.

Loaded once by an entry point from `HubSettings` and passed down; the
conventions are reloaded when their files change, so a new version, a
revocation or a tampered file takes effect while the worker runs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from contracts.convention import Convention
from contracts.errors import ContractError
from contracts.indicators import IndicatorCatalog, Selection
from contracts.keys import TrustStore, load_sealing_private_key, load_trust_store
from contracts.loading import convention_files, load_convention, load_indicator_catalog
from contracts.status import signature_problems
from hub.aggregation import selections_for
from hub.geography import Territory, load_territory
from hub.settings import HubSettings
from schemas.catalog import SchemaCatalog, load_catalog

log = logging.getLogger(__name__)


@dataclass
class ConventionBook:
    """The conventions on disk, by id and version; unreadable files are noted, not fatal.

    A file that fails to load is reported (and its convention is simply not
    known to the hub), so one bad file never stops the drops of the others.
    """

    directory: Path
    by_ref: dict[tuple[str, int], Convention] = field(default_factory=dict)
    problems: dict[Path, str] = field(default_factory=dict)
    _stamp: tuple[tuple[str, float], ...] = ()
    trust: TrustStore | None = None  # the keys `signed` verifies with

    def _current_stamp(self) -> tuple[tuple[str, float], ...]:
        files = convention_files([self.directory]) if self.directory.exists() else []
        return tuple((str(path), path.stat().st_mtime) for path in files)

    def reload_if_changed(self) -> bool:
        """Reload every file when any changed; True if something was reloaded."""
        stamp = self._current_stamp()
        if stamp == self._stamp:
            return False
        by_ref: dict[tuple[str, int], Convention] = {}
        problems: dict[Path, str] = {}
        for name, _ in stamp:
            path = Path(name)
            try:
                convention = load_convention(path)
            except ContractError as exc:
                problems[path] = str(exc).splitlines()[0]
                log.warning("convention unreadable file=%s reason=%s", path, problems[path])
                continue
            by_ref[(convention.id, convention.version)] = convention
        self.by_ref, self.problems, self._stamp = by_ref, problems, stamp
        return True

    def get(self, convention_id: str, version: int) -> Convention | None:
        return self.by_ref.get((convention_id, version))

    def signed(self, convention_id: str, version: int) -> Convention | None:
        """The convention as its file says now, if its signatures still verify.

        A file edited after signing is not applied: none of its terms (the
        disclosure rules above all) may be taken from it. Without `trust`
        (a book read only to plan topics) nothing is verified.
        """
        convention = self.get(convention_id, version)
        if convention is None or self.trust is None:
            return convention
        return None if signature_problems(convention, self.trust) else convention

    def all(self) -> list[Convention]:
        return list(self.by_ref.values())


@dataclass
class HubContext:
    catalog: SchemaCatalog
    conventions: ConventionBook
    trust: TrustStore
    sealing_key: X25519PrivateKey
    territory: Territory
    indicators: IndicatorCatalog
    _selections: dict[str, dict[str, Selection]] = field(default_factory=dict)

    def selections(self, dataset_id: str) -> dict[str, Selection]:
        """The catalog's selections that read `dataset_id`, by key (cached)."""
        if dataset_id not in self._selections:
            self._selections[dataset_id] = selections_for(self.indicators, dataset_id)
        return self._selections[dataset_id]


def load_context(settings: HubSettings) -> HubContext:
    """Everything the worker needs, from the paths in `settings`."""
    trust = load_trust_store(settings.keys_dir)
    book = ConventionBook(settings.conventions_dir, trust=trust)
    book.reload_if_changed()
    return HubContext(
        catalog=load_catalog(),
        conventions=book,
        trust=trust,
        sealing_key=load_sealing_private_key(settings.sealing_key_path),
        territory=load_territory(settings.territory_dir),
        indicators=load_indicator_catalog(settings.catalog_file),
    )
