from prometheus_client import CollectorRegistry

from contracts.convention import Cadence
from hub.metrics import CADENCE_SECONDS, HubMetrics


def value(m: HubMetrics, name: str, **labels: str) -> float | None:
    return m.registry.get_sample_value(name, labels)


def test_publish_convention_sets_validity_status_and_cadences() -> None:
    m = HubMetrics(CollectorRegistry())
    m.publish_convention(
        "cd33-obshub",
        valid_from=1735686000,
        valid_until=1830207600,
        applicable=False,
        cadences={"departement.apa": Cadence.QUARTERLY},
    )
    assert value(m, "obshub_convention_valid_from_seconds", convention="cd33-obshub") == 1735686000
    assert value(m, "obshub_convention_valid_until_seconds", convention="cd33-obshub") == 1830207600
    assert value(m, "obshub_convention_applicable", convention="cd33-obshub") == 0
    cadence = value(
        m, "obshub_convention_cadence_seconds", convention="cd33-obshub", dataset="departement.apa"
    )
    assert cadence == 92 * 86400


def test_cadences_cover_the_convention_model() -> None:
    assert set(CADENCE_SECONDS) == {c.value for c in Cadence}
    assert CADENCE_SECONDS["monthly"] < CADENCE_SECONDS["quarterly"] < CADENCE_SECONDS["yearly"]


def test_indicator_sources_and_lag() -> None:
    m = HubMetrics(CollectorRegistry())
    m.publish_indicator_sources(
        "rsa_pour_100_menages",
        [("caf33-obshub", "caf.allocataires"), ("insee-obshub", "insee.menages")],
    )
    m.publish_consumer_lag({"drops.caf33": 12, "drops.insee": 0})
    name = "obshub_indicator_source_info"
    labels = {"indicator": "rsa_pour_100_menages", "convention": "insee-obshub"}
    assert value(m, name, **labels, dataset="insee.menages") == 1
    assert value(m, "obshub_consumer_lag_messages", topic="drops.caf33") == 12
    assert value(m, "obshub_consumer_lag_messages", topic="drops.insee") == 0


def test_worker_up_starts_at_zero() -> None:
    # The API's registry exports it too: alerts read only job="obshub-worker"'s.
    assert value(HubMetrics(CollectorRegistry()), "obshub_worker_up") == 0
