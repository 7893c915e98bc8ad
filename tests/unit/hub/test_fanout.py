import datetime as dt

from hub.context import load_context
from hub.fanout import fanout_decisions, kafka_consumers
from hub.settings import HubSettings

CTX = load_context(HubSettings())


def test_only_consumers_with_the_kafka_channel_are_candidates() -> None:
    assert kafka_consumers(CTX.conventions.all()) == ["observatoire-bordeaux"]


def test_consent_is_resolved_at_the_instant_of_the_release() -> None:
    now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    granted = fanout_decisions("rsa_pour_100_menages", CTX.conventions.survey(now), CTX.indicators)
    assert granted["observatoire-bordeaux"].granted
    later = dt.datetime(2028, 1, 2, tzinfo=dt.UTC)  # every demo convention has expired
    denied = fanout_decisions("rsa_pour_100_menages", CTX.conventions.survey(later), CTX.indicators)
    assert not denied["observatoire-bordeaux"].granted
    assert denied["observatoire-bordeaux"].reason.value == "convention_expired"
