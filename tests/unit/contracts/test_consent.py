from datetime import UTC, datetime
from typing import Any

import pytest

from contracts.consent import ConsentReason, Decision, resolve_consent
from contracts.convention import Channel, Convention
from contracts.errors import InstantError
from contracts.indicators import IndicatorCatalog
from contracts.keys import TrustStore
from contracts.lifecycle import survey
from contracts.revocation import Revocation
from contracts.signing import sign_as
from tests.unit.contracts.support import (
    AFTER,
    BEFORE,
    IN_FORCE,
    build,
    demo_catalog,
    demo_conventions,
    demo_data,
    demo_key,
    signed,
    trust,
    with_changes,
)

R = ConsentReason
OBS, AGORA, CABINET = "observatoire-bordeaux", "agora-le-bouscat", "cabinet-etudes"
CAF_ONLY = ("caf_allocataires", "caf_bas_revenus_part", "caf_monoparents_part")


def decide(
    consumer: str,
    indicator: str,
    channel: str,
    instant: datetime,
    conventions: list[Convention],
    catalog: IndicatorCatalog,
    keys: TrustStore,
    revocations: tuple[Revocation, ...] = (),
) -> Decision:
    standing = survey(conventions, keys, revocations, instant)
    return resolve_consent(consumer, indicator, channel, standing, catalog)


def revoked(convention_id: str, party: str = "hub-operator") -> tuple[Revocation, ...]:
    revocation = Revocation(convention_id, 1, IN_FORCE, "end of the agreement", party)
    return (revocation.signed(demo_key(party)),)


def without_key(party: str) -> TrustStore:
    keys = trust()
    return TrustStore({p: k for p, k in keys.items() if p != party}, "test")


def draft_le_bouscat() -> list[Convention]:
    """A second CCAS signed by the partner only, beside the demo conventions."""
    data = {**demo_data("ccas-le-bouscat"), "id": "ccas-draft-obshub"}
    data = with_changes(data, ("parties", "producer"), "ccas-draft")
    data = with_changes(data, ("datasets", "ccas.aides", "territory"), ["33069"])
    draft = build({**data, "signatures": {}})
    return [*without("ccas-le-bouscat"), sign_as(draft, "ccas-draft", demo_key("ccas-le-bouscat"))]


def without(producer: str) -> list[Convention]:
    return [c for c in demo_conventions() if c.producer != producer]


def replacing(producer: str, convention: Convention) -> list[Convention]:
    return [*without(producer), convention]


def renewed_caf() -> list[Convention]:
    """CAF v1 (expired by AFTER) and a signed v2 in force from 2028."""
    data = with_changes(demo_data(), ("validity", "valid_from"), "2028-01-01")
    data = with_changes(data, ("validity", "valid_until"), "2030-12-31")
    return [*demo_conventions(), signed({**data, "version": 2})]


# fmt: off
CASES: list[tuple[str, str, str, str, Any, datetime, R, Any]] = [
    # (case, consumer, indicator, channel, conventions, instant, reason, (keys, revocations))
    ("observatory, CAF count, api", OBS, "caf_allocataires", "api", None, IN_FORCE, R.GRANTED,
     None),
    ("observatory, cross-partner, kafka", OBS, "rsa_pour_100_menages", "kafka", None, IN_FORCE,
     R.GRANTED, None),
    ("observatory, APA over INSEE", OBS, "apa_domicile_pour_100_75plus", "api", None, IN_FORCE,
     R.GRANTED, None),
    ("observatory, both CCAS", OBS, "ccas_aides_pour_1000_menages", "kafka", None, IN_FORCE,
     R.GRANTED, None),
    ("agora, CAF share, api", AGORA, "caf_bas_revenus_part", "api", None, IN_FORCE, R.GRANTED,
     None),
    ("agora, CAF share, kafka", AGORA, "caf_monoparents_part", "kafka", None, IN_FORCE,
     R.CHANNEL_NOT_ALLOWED, None),
    ("agora, CAF x INSEE", AGORA, "rsa_pour_100_menages", "api", None, IN_FORCE,
     R.INDICATOR_NOT_NAMED, None),
    ("agora, France Travail", AGORA, "defm_cat_a", "api", None, IN_FORCE, R.CONSUMER_NOT_NAMED,
     None),
    ("cabinet, anything", CABINET, "caf_allocataires", "api", None, IN_FORCE,
     R.CONSUMER_NOT_NAMED, None),
    ("unknown indicator", OBS, "pauvrete_enfants", "api", None, IN_FORCE, R.UNKNOWN_INDICATOR,
     None),
    ("unknown channel", OBS, "caf_allocataires", "mail", None, IN_FORCE, R.CHANNEL_NOT_ALLOWED,
     None),
    ("no France Travail convention", OBS, "defm_cat_a", "api", without("francetravail33"),
     IN_FORCE, R.NO_CONVENTION, None),
    ("no INSEE convention", OBS, "ccas_aides_pour_1000_menages", "api", without("insee"),
     IN_FORCE, R.NO_CONVENTION, None),
    ("expired", OBS, "defm_cat_a", "api", None, AFTER, R.CONVENTION_EXPIRED, None),
    ("not yet valid: drafts only", OBS, "defm_cat_a", "api", None, BEFORE, R.NO_CONVENTION,
     None),
    ("unsigned CAF is a draft", OBS, "caf_allocataires", "api",
     replacing("caf33", build({**demo_data(), "signatures": {}})), IN_FORCE,
     R.NO_CONVENTION, None),
    ("tampered CAF is a draft", OBS, "caf_allocataires", "api",
     replacing("caf33", build(with_changes(demo_data(), ("consumers", CABINET),
                                           {"indicators": "all", "channels": ["api"]}))),
     IN_FORCE, R.NO_CONVENTION, None),
    ("tampered INSEE leaves no denominator", OBS, "rsa_pour_100_menages", "api",
     replacing("insee", build(with_changes(demo_data("insee"), ("raw_retention_days",), 365)))
     , IN_FORCE, R.NO_CONVENTION, None),
    ("a partner-signed draft changes nothing", OBS, "ccas_aides_pour_1000_menages", "api",
     draft_le_bouscat(), IN_FORCE, R.GRANTED, None),
    ("revoked CCAS", OBS, "ccas_aides_pour_1000_menages", "api", None, IN_FORCE,
     R.CONVENTION_REVOKED, (None, "ccas-le-bouscat-obshub")),
    ("revocation signed by a partner counts for nothing", OBS, "ccas_aides_pour_1000_menages",
     "api", None, IN_FORCE, R.GRANTED, (None, ("ccas-le-bouscat-obshub", "caf33"))),
    ("key withdrawn from the trust store", OBS, "caf_allocataires", "api", None, IN_FORCE,
     R.CONVENTION_REVOKED, ("caf33", None)),
    ("renewed convention in force", AGORA, "caf_allocataires", "api", renewed_caf(),
     datetime(2028, 6, 1, tzinfo=UTC), R.GRANTED, None),
    ("renewal not yet in force, v1 still is", AGORA, "caf_allocataires", "api", renewed_caf(),
     IN_FORCE, R.GRANTED, None),
    ("between the two", AGORA, "caf_allocataires", "api", renewed_caf()[:-1], AFTER,
     R.CONVENTION_EXPIRED, None),
]
# fmt: on


@pytest.mark.parametrize(
    ("consumer", "indicator", "channel", "conventions", "instant", "reason", "change"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_consent_table(
    consumer: str,
    indicator: str,
    channel: str,
    conventions: list[Convention] | None,
    instant: datetime,
    reason: ConsentReason,
    change: tuple[str | None, Any] | None,
) -> None:
    keys, revocations = trust(), ()
    if change is not None:
        withdrawn, revoke = change
        keys = without_key(withdrawn) if withdrawn else keys
        if isinstance(revoke, tuple):
            revocations = revoked(*revoke)
        elif revoke:
            revocations = revoked(revoke)
    decision = decide(
        consumer,
        indicator,
        channel,
        instant,
        demo_conventions() if conventions is None else conventions,
        demo_catalog(),
        keys,
        revocations,
    )
    assert decision.reason is reason, decision.message
    assert decision.granted is (reason is ConsentReason.GRANTED)
    assert decision.message


def test_every_reason_is_covered_by_the_table() -> None:
    assert {case[-2] for case in CASES} == set(ConsentReason)


@pytest.mark.parametrize("indicator", CAF_ONLY)
def test_agora_gets_the_caf_only_indicators_by_api(indicator: str) -> None:
    decision = decide(
        AGORA, indicator, Channel.API, IN_FORCE, demo_conventions(), demo_catalog(), trust()
    )
    assert decision.granted and decision.conventions == ("caf33-obshub v1",)


def test_the_observatory_gets_every_indicator_on_both_channels() -> None:
    catalog = demo_catalog()
    for indicator in catalog.ids():
        for channel in Channel:
            decision = decide(
                OBS, indicator, channel, IN_FORCE, demo_conventions(), catalog, trust()
            )
            assert decision.granted, decision.message


def test_the_renewal_is_the_contributing_convention() -> None:
    decision = decide(
        AGORA,
        "caf_allocataires",
        "api",
        datetime(2028, 6, 1, tzinfo=UTC),
        renewed_caf(),
        demo_catalog(),
        trust(),
    )
    assert decision.conventions == ("caf33-obshub v2",)


def test_denials_say_which_convention_and_why() -> None:
    decision = decide(
        OBS, "rsa_pour_100_menages", "api", AFTER, demo_conventions(), demo_catalog(), trust()
    )
    assert "caf33-obshub v1" in decision.message and "expired" in decision.message


def test_a_naive_instant_is_refused() -> None:
    with pytest.raises(InstantError):
        decide(
            OBS,
            "defm_cat_a",
            "api",
            datetime(2026, 1, 1),
            demo_conventions(),
            demo_catalog(),
            trust(),
        )


KEY_STORE = "/srv/obshub/governance/keys"


def test_a_withdrawn_key_is_named_by_party_not_by_the_key_store() -> None:
    keys = trust()
    without = TrustStore({p: k for p, k in keys.items() if p != "caf33"}, KEY_STORE)
    decision = decide(
        OBS, "caf_allocataires", "api", IN_FORCE, demo_conventions(), demo_catalog(), without
    )
    assert decision.reason is R.CONVENTION_REVOKED
    assert "caf33-obshub v1" in decision.message and "withdrawn" in decision.message
    assert "/srv" not in decision.message and "/srv" not in decision.detail
    assert "no trusted public key for caf33" in decision.detail


def test_a_revocation_reason_stays_in_the_detail() -> None:
    revocation = Revocation(
        "caf33-obshub", 1, IN_FORCE, "see /srv/obshub/letters/caf.pdf", "hub-operator"
    ).signed(demo_key("hub-operator"))
    decision = decide(
        OBS,
        "caf_allocataires",
        "api",
        IN_FORCE,
        demo_conventions(),
        demo_catalog(),
        trust(),
        (revocation,),
    )
    assert decision.reason is R.CONVENTION_REVOKED
    assert decision.message == "convention caf33-obshub v1 was revoked by the hub operator"
    assert "letters/caf.pdf" in decision.detail


def test_an_expiry_says_until_when() -> None:
    decision = decide(
        OBS, "caf_allocataires", "api", AFTER, demo_conventions(), demo_catalog(), trust()
    )
    assert decision.reason is R.CONVENTION_EXPIRED
    assert decision.message.startswith("convention caf33-obshub v1 expired: was in force until")
    assert decision.detail.startswith("caf33-obshub v1 expired")


def test_the_detail_is_the_message_unless_given() -> None:
    decision = Decision.deny(R.NO_CONVENTION, "no convention provides dataset x")
    assert decision.detail == decision.message
    assert Decision.deny(R.NO_CONVENTION, "public", "internal").detail == "internal"
