import json
import random
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.canonical import SIGNING_CONTEXT, canonical_bytes, signing_message
from contracts.loading import parse_convention
from contracts.signing import signature_verifies
from contracts.status import signature_problems
from tests.unit.contracts.support import PARTNERS, build, demo_data, trust, with_changes

SET_LISTS = {"territory", "schema_versions", "channels", "indicators"}


def shuffled(value: Any, rng: random.Random, key: str = "") -> Any:
    """The same document with every mapping's keys, and every set-like list, reordered."""
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: shuffled(v, rng, str(k)) for k, v in items}
    if isinstance(value, list):
        items = [shuffled(v, rng) for v in value]
        if key in SET_LISTS:
            rng.shuffle(items)
        return items
    return value


def expand_shorthands(data: dict[str, Any]) -> dict[str, Any]:
    """`keep` → `{policy: keep}`: the long form of the same policies."""
    for terms in data["datasets"].values():
        terms["fields"] = {
            name: {"policy": p} if isinstance(p, str) else p for name, p in terms["fields"].items()
        }
    return data


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    partner=st.sampled_from(PARTNERS),
    seed=st.integers(0, 2**32),
    flow=st.sampled_from([False, True, None]),
    indent=st.integers(2, 8),
    width=st.sampled_from([40, 80, 4096]),
    long_form=st.booleans(),
    explicit_start=st.booleans(),
)
def test_reordering_and_reformatting_keep_the_signatures_valid(
    partner: str,
    seed: int,
    flow: bool | None,
    indent: int,
    width: int,
    long_form: bool,
    explicit_start: bool,
) -> None:
    data = demo_data(partner)
    original = build(data)
    if long_form:
        data = expand_shorthands(data)
    text = yaml.safe_dump(
        shuffled(data, random.Random(seed)),
        default_flow_style=flow,
        indent=indent,
        width=width,
        allow_unicode=seed % 2 == 0,
        explicit_start=explicit_start,
        sort_keys=False,
    )
    reloaded = parse_convention(text, "reformatted.yaml")
    assert canonical_bytes(reloaded) == canonical_bytes(original)
    assert signature_problems(reloaded, trust()) == []


def test_signatures_are_outside_the_canonical_form() -> None:
    data = demo_data()
    assert canonical_bytes(build(data)) == canonical_bytes(build({**data, "signatures": {}}))


def test_signed_message_is_prefixed_with_its_context() -> None:
    convention = build(demo_data())
    assert signing_message(convention) == SIGNING_CONTEXT + canonical_bytes(convention)


def test_canonical_form_is_compact_sorted_json_with_iso_dates() -> None:
    text = canonical_bytes(build(demo_data())).decode()
    assert '"valid_from":"2025-01-01"' in text
    compact = json.dumps(
        json.loads(text), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert text == compact
    assert text.index('"consumers"') < text.index('"datasets"') < text.index('"validity"')


def test_defaults_are_part_of_what_is_signed() -> None:
    data = demo_data()
    explicit = build(data)
    implicit = build(with_changes(data, ("disclosure",), None))  # all defaults: same rules
    assert canonical_bytes(explicit) == canonical_bytes(implicit)


def test_integral_float_bands_are_the_same_bands() -> None:
    data = demo_data()
    bands = data["datasets"]["caf.allocataires"]["fields"]["nb_enfants"]["bands"]
    floats = with_changes(
        data,
        ("datasets", "caf.allocataires", "fields", "nb_enfants"),
        {"policy": "generalise", "bands": [float(b) for b in bands]},
    )
    assert canonical_bytes(build(floats)) == canonical_bytes(build(data))


def test_unicode_normalisation_does_not_change_the_form() -> None:
    data = demo_data()
    decomposed = with_changes(data, ("title",), data["title"].replace("é", "e\u0301"))
    assert canonical_bytes(build(decomposed)) == canonical_bytes(build(data))


def test_a_change_of_meaning_breaks_the_signatures() -> None:
    data = demo_data()
    weaker = build(with_changes(data, ("disclosure", "k"), 5))
    signature = data["signatures"]["caf33"]
    assert signature_verifies(build(data), signature, trust()["caf33"])
    assert not signature_verifies(weaker, signature, trust()["caf33"])


def test_a_points_crs_left_at_wgs84_keeps_every_earlier_signature() -> None:
    data = demo_data("francetravail33")
    path = ("datasets", "france_travail.demandeurs", "crs")
    explicit = build(with_changes(data, path, "EPSG:4326"))
    signature = data["signatures"]["francetravail33"]
    assert canonical_bytes(explicit) == canonical_bytes(build(data))
    assert signature_verifies(explicit, signature, trust()["francetravail33"])
    lambert = build(with_changes(data, path, "EPSG:2154"))
    assert b'"crs":"EPSG:2154"' in canonical_bytes(lambert)  # once set, it is signed
    assert not signature_verifies(lambert, signature, trust()["francetravail33"])
