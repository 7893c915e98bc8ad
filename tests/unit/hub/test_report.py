import datetime as dt

from prometheus_client import CollectorRegistry, generate_latest

from hub.metrics import HubMetrics
from hub.report import Samples, format_report

NOW = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)


def test_the_report_shows_status_cadence_rejections_and_cells() -> None:
    m = HubMetrics(CollectorRegistry())
    day = 86400.0
    m.publish_convention(
        "caf33-obshub",
        valid_from=0,
        valid_until=NOW.timestamp() + 10 * day,
        applicable=True,
        cadences={"caf.allocataires": "monthly"},
    )
    m.publish_convention(
        "insee-obshub",
        valid_from=0,
        valid_until=NOW.timestamp() - day,
        applicable=False,
        cadences={"insee.menages": "yearly"},
        standing="expired",
        cause="expired",
    )
    m.publish_convention(
        "ccas-pessac-obshub",
        valid_from=0,
        valid_until=NOW.timestamp() + 300 * day,
        applicable=False,
        cadences={"ccas.aides": "monthly"},
        standing="draft",
        cause="unsigned",
    )
    m.publish_indicator_sources("caf_allocataires", [("caf33-obshub", "caf.allocataires")])
    m.convention_last_drop.labels("caf33-obshub", "caf.allocataires").set(
        NOW.timestamp() - 40 * day
    )
    m.drops.labels("caf33", "caf33-obshub", "caf.allocataires", "accepted").inc(3)
    m.drops.labels("caf33", "caf33-obshub", "caf.allocataires", "rejected").inc()
    m.drop_rejections.labels("caf33", "caf33-obshub", "bad_signature").inc()
    m.records.labels("caf33", "caf33-obshub", "caf.allocataires", "aggregated").inc(900)
    m.records.labels("caf33", "caf33-obshub", "caf.allocataires", "rejected").inc(12)
    m.record_rejections.labels("caf33", "caf.allocataires", "outside_territory").inc(12)
    m.cells.labels("caf_allocataires", "published").inc(60)
    m.cells.labels("caf_allocataires", "secret_primary").inc(4)
    text = format_report(Samples.parse(generate_latest(m.registry).decode()), NOW)
    assert "caf33-obshub: in force, 10.0 d of validity left" in text
    assert "insee-obshub: EXPIRED: expired, validity ended" in text
    assert "ccas-pessac-obshub: DRAFT (not applied): unsigned, 300.0 d of validity left" in text
    assert (
        "caf.allocataires: last drop 40.0 d ago, cadence 31.0 d LATE; drops 3 accepted, "
        "1 rejected; records 900 aggregated, 12 rejected"
    ) in text
    assert "records rejected 12: outside_territory" in text
    assert "drops rejected 1: bad_signature" in text
    assert "feeds caf_allocataires: 60 cells published, 4 secret" in text


def test_no_convention_is_said_plainly() -> None:
    assert format_report(Samples(), NOW) == "no convention known to the worker"
