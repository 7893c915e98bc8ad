"""Shared material for the contracts tests: the demo files and signed variants."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts.convention import Convention
from contracts.keys import TrustStore, load_signing_key, load_trust_store
from contracts.loading import load_conventions, load_indicator_catalog, parse_convention
from contracts.signing import sign_as

ROOT = Path(__file__).resolve().parents[3]
DEMO = ROOT / "deploy" / "demo"
KEYS_DIR = DEMO / "keys"
CONVENTIONS_DIR = DEMO / "conventions"
INDICATORS_FILE = DEMO / "indicators.yaml"
PARTNERS = ("caf33", "francetravail33", "cd33", "ccas-bordeaux", "ccas-le-bouscat", "insee")
HUB_OPERATOR = "hub-operator"

IN_FORCE = datetime(2026, 6, 1, 12, tzinfo=UTC)
BEFORE = datetime(2024, 12, 31, 12, tzinfo=UTC)
AFTER = datetime(2028, 1, 1, 12, tzinfo=UTC)


def trust() -> TrustStore:
    return load_trust_store(KEYS_DIR)


def demo_key(party: str) -> Ed25519PrivateKey:
    return load_signing_key(KEYS_DIR / f"{party}.key")


def demo_conventions() -> list[Convention]:
    return load_conventions([CONVENTIONS_DIR])


def demo_catalog() -> Any:
    return load_indicator_catalog(INDICATORS_FILE)


def demo_data(partner: str = "caf33") -> dict[str, Any]:
    """The demo convention of `partner` as plain YAML data (signatures included)."""
    data: dict[str, Any] = yaml.safe_load((CONVENTIONS_DIR / f"{partner}.yaml").read_text())
    return data


def build(data: dict[str, Any], file: str = "test.yaml") -> Convention:
    return parse_convention(yaml.safe_dump(data, allow_unicode=True), file)


def signed(data: dict[str, Any], file: str = "test.yaml") -> Convention:
    """`data` as a convention signed by both its parties with the demo keys."""
    convention = build({**data, "signatures": {}}, file)
    for party in convention.signers:
        convention = sign_as(convention, party, demo_key(party))
    return convention


def with_changes(data: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """A deep copy of `data` with `path` set to `value` (None removes it)."""
    copy: dict[str, Any] = yaml.safe_load(yaml.safe_dump(data))
    node = copy
    for key in path[:-1]:
        node = node[key]
    if value is None:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value
    return copy
