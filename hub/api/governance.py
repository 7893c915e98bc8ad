"""Consent at request time, against the conventions as they are on disk now.

`Governance` holds the conventions directory, the indicator catalog and the
trust store, re-reading each only when its files change (names, sizes,
mtimes), so a convention that is replaced, removed or tampered with stops
the flow at the next request, and one that expires stops it at its last
day since the instant is an argument. Deciding is the pure
`contracts.consent.resolve_consent` on the `api` channel.

Fail closed: a set of files that cannot be read raises `GovernanceError`
(the API answers 503); the last good copy is never used in its place.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Generic, TypeVar

from contracts.consent import Decision, resolve_consent
from contracts.convention import Channel, Convention
from contracts.errors import ContractError
from contracts.indicators import Indicator, IndicatorCatalog
from contracts.keys import PUBLIC_SUFFIX, TrustStore, load_trust_store
from contracts.lifecycle import Survey, survey
from contracts.loading import convention_files, load_conventions, load_indicator_catalog
from contracts.revocation import load_revocations, revocation_files
from hub.api.errors import GovernanceError
from hub.settings import HubSettings

T = TypeVar("T")
Stamp = tuple[tuple[str, int, int, int], ...]


def files_stamp(paths: list[Path]) -> Stamp:
    """What changes when any of the files is replaced, edited, added or removed."""
    stamp = []
    for path in sorted(paths):
        try:
            st = os.stat(path)
        except OSError:
            stamp.append((str(path), -1, -1, -1))
            continue
        stamp.append((str(path), st.st_ino, st.st_size, st.st_mtime_ns))
    return tuple(stamp)


class Watched(Generic[T]):
    """A value loaded from files, reloaded when `files()` or their stamps change."""

    def __init__(self, what: str, files: Callable[[], list[Path]], load: Callable[[], T]) -> None:
        self.what = what
        self._files = files
        self._load = load
        self._stamp: Stamp | None = None
        self._value: T | GovernanceError | None = None

    def get(self) -> T:
        stamp = files_stamp(self._files())
        if stamp != self._stamp or self._value is None:
            try:
                self._value = self._load()
            except ContractError as exc:
                self._value = GovernanceError(self.what, str(exc))
            self._stamp = stamp
        if isinstance(self._value, GovernanceError):
            raise self._value
        return self._value


@dataclass(frozen=True)
class GovernanceState:
    conventions: tuple[Convention, ...]
    catalog: IndicatorCatalog
    keys: TrustStore


class Governance:
    """Conventions, catalog and trusted keys from files, and consent over them."""

    def __init__(self, conventions_dir: Path, catalog_file: Path, keys_dir: Path) -> None:
        self.conventions = Watched(
            f"conventions in {conventions_dir}",
            lambda: _listing(conventions_dir, convention_files),
            lambda: tuple(load_conventions([conventions_dir])),
        )
        self.catalog = Watched(
            f"indicator catalog {catalog_file}",
            lambda: [catalog_file],
            lambda: load_indicator_catalog(catalog_file),
        )
        self.keys = Watched(
            f"trusted keys in {keys_dir}",
            lambda: _listing(keys_dir, lambda d: sorted(d[0].glob(f"*{PUBLIC_SUFFIX}"))),
            lambda: load_trust_store(keys_dir),
        )
        # Only revocations that verify count (contracts.lifecycle); an unreadable file
        # revokes nothing and is listed by `obshub report`.
        self.revocations = Watched(
            f"revocations in {conventions_dir}",
            lambda: [conventions_dir, *revocation_files(conventions_dir)],
            lambda: tuple(load_revocations(conventions_dir)[0]),
        )

    @classmethod
    def from_settings(cls, settings: HubSettings) -> Governance:
        return cls(settings.conventions_dir, settings.catalog_file, settings.keys_dir)

    def current(self) -> GovernanceState:
        """The files' current content; `GovernanceError` if any cannot be read."""
        return GovernanceState(self.conventions.get(), self.catalog.get(), self.keys.get())

    def survey(self, instant: datetime) -> Survey:
        """Where every convention stands at `instant`."""
        state = self.current()
        return survey(state.conventions, state.keys, self.revocations.get(), instant)

    def decide(self, consumer: str, indicator_id: str, instant: datetime) -> Decision:
        """May `consumer` read `indicator_id` through the API at `instant`?"""
        catalog = self.catalog.get()
        return resolve_consent(consumer, indicator_id, Channel.API, self.survey(instant), catalog)

    def decide_all(self, consumer: str, instant: datetime) -> list[tuple[Indicator, Decision]]:
        """Every indicator of the catalog with the consumer's decision for it."""
        catalog = self.catalog.get()
        standing = self.survey(instant)
        return [
            (indicator, resolve_consent(consumer, indicator.id, Channel.API, standing, catalog))
            for indicator in catalog.indicators
        ]


def _listing(directory: Path, files: Callable[[list[Path]], list[Path]]) -> list[Path]:
    """The directory itself (so its absence shows) and the files in it."""
    if not directory.is_dir():
        return [directory]
    return [directory, *files([directory])]
