"""The access API over an in-memory view, the demo conventions and a memory audit sink."""

from __future__ import annotations

import csv
import io
import shutil
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from contracts.keys import load_signing_key
from contracts.signing import sign_file
from hub.api.app import create_app
from hub.api.auditing import MemoryAuditSink
from hub.api.governance import Governance
from hub.api.shapes import Shapes, load_shapes
from hub.api.tokens import TokenStore
from hub.api.view import ReleaseView
from hub.audit import Action, AuditEvent
from hub.metrics import HubMetrics
from hub.settings import HubSettings
from tests.support.wire import DEFAULT_RULES
from tests.unit.hub.api_support import (
    CATALOG,
    CONVENTIONS,
    EXPIRED,
    IN_FORCE,
    KEYS,
    PUBLISHED,
    TERRITORY,
    AppClient,
    release,
    row,
    source,
)

CAF_ONLY = {"caf_allocataires", "caf_bas_revenus_part", "caf_monoparents_part"}

CAF_MARCH = release(period="2026-03", rows=[row(value=40.0)])
CAF_APRIL = release(
    rows=[
        row(value=42.0),
        row(code="330630102", value=None, status="secret"),
        row(code="330690102", value=37.0),
        row(level="commune", code="33063", value=120.0),
        row(level="commune", code="33069", value=55.0),
    ],
    sources=[source("caf_allocataires", "2026-04", "drop-7f3a9c")],
)
BAS_REVENUS = release(
    "caf_bas_revenus_part", rows=[row(value=25.0, numerator=20.0, denominator=80.0)]
)
DEFM = release("defm_cat_a", rows=[row(value=64.0)])
DEMO_RELEASES = (CAF_MARCH, CAF_APRIL, BAS_REVENUS, DEFM)
CAF_APRIL_SOURCE = {
    "partner": "caf33",
    "dataset": "caf.allocataires",
    "period": "2026-04",
    "convention": "caf33-obshub",
    "convention_version": 1,
}
# a revision of CAF_APRIL: 330690102 is gone, 33069 turned secret
CAF_APRIL_REVISED = release(
    rows=[
        row(value=43.0),
        row(code="330630102", value=None, status="secret"),
        row(level="commune", code="33063", value=121.0),
        row(level="commune", code="33069", value=None, status="secret"),
    ],
    replaces=CAF_APRIL.release_id,
    sources=[
        source("caf_allocataires", "2026-04", "drop-7f3a9c"),
        source("caf_allocataires", "2026-04", "drop-81be02"),
    ],
    published_at=PUBLISHED + timedelta(days=3),
)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Api:
    client: AppClient
    view: ReleaseView
    audit: MemoryAuditSink
    tokens: TokenStore
    clock: Clock
    conventions: Path

    def token(self, consumer: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens.issue(consumer).token}"}


@pytest.fixture(scope="module")
def shapes() -> Shapes:
    return load_shapes(TERRITORY)


def demo_view() -> ReleaseView:
    view = ReleaseView()
    for r in DEMO_RELEASES:
        view.apply(r)
    view.ready = True
    return view


@pytest.fixture
def api(tmp_path: Path, shapes: Shapes) -> Api:
    conventions = tmp_path / "conventions"
    shutil.copytree(CONVENTIONS, conventions)
    view = demo_view()
    audit = MemoryAuditSink()
    tokens = TokenStore(tmp_path / "access", scrypt_n=2**10)
    clock = Clock(IN_FORCE)
    app = create_app(
        HubSettings(state_dir=tmp_path),
        view,
        audit=audit,
        tokens=tokens,
        governance=Governance(conventions, CATALOG, KEYS),
        shapes=shapes,
        metrics=HubMetrics(),
        clock=clock,
    )
    return Api(AppClient(app), view, audit, tokens, clock, conventions)


# ---- authentication


def test_no_token_is_401_with_a_challenge(api: Api) -> None:
    response = api.client.get("/v1/indicators")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["detail"]["reason"] == "missing_token"
    assert api.audit.events == []


def test_a_wrong_token_is_401(api: Api) -> None:
    api.tokens.issue("observatoire-bordeaux")
    headers = {"Authorization": "Bearer 0123456789abcdef.not-a-token"}
    response = api.client.get("/v1/indicators/caf_allocataires", headers=headers)
    assert response.status_code == 401
    assert response.json()["detail"]["reason"] == "invalid_token"
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_a_revoked_token_is_401(api: Api) -> None:
    headers = api.token("observatoire-bordeaux")
    assert api.client.get("/v1/indicators", headers=headers).status_code == 200
    api.tokens.revoke("observatoire-bordeaux")
    assert api.client.get("/v1/indicators", headers=headers).status_code == 401


def test_a_replaced_token_is_401(api: Api) -> None:
    old = api.token("agora-le-bouscat")
    new = api.token("agora-le-bouscat")
    assert api.client.get("/v1/indicators", headers=old).status_code == 401
    assert api.client.get("/v1/indicators", headers=new).status_code == 200


# ---- consent


def test_a_consumer_consented_to_nothing_gets_403_everywhere(api: Api) -> None:
    headers = api.token("cabinet-etudes")
    listing = api.client.get("/v1/indicators", headers=headers)
    assert listing.status_code == 403
    assert listing.json()["detail"]["reason"] == "no_consent"
    for indicator in ("caf_allocataires", "defm_cat_a", "rsa_pour_100_menages"):
        response = api.client.get(f"/v1/indicators/{indicator}", headers=headers)
        assert response.status_code == 403
        detail = response.json()["detail"]
        assert detail["reason"] == "consumer_not_named"
        assert "cabinet-etudes" in detail["message"]


def test_agora_gets_the_caf_indicators_and_nothing_else(api: Api) -> None:
    headers = api.token("agora-le-bouscat")
    listing = api.client.get("/v1/indicators", headers=headers).json()
    assert {i["id"] for i in listing["indicators"]} == CAF_ONLY
    assert api.client.get("/v1/indicators/caf_allocataires", headers=headers).status_code == 200
    for other in ("defm_cat_a", "rsa_pour_100_menages", "apa_domicile_pour_100_75plus"):
        response = api.client.get(f"/v1/indicators/{other}", headers=headers)
        assert response.status_code == 403, other
        reason = response.json()["detail"]["reason"]
        assert reason in {"consumer_not_named", "indicator_not_named"}, other


def test_the_observatory_gets_every_indicator(api: Api) -> None:
    headers = api.token("observatoire-bordeaux")
    listing = api.client.get("/v1/indicators", headers=headers).json()["indicators"]
    assert len(listing) == 9
    caf = next(i for i in listing if i["id"] == "caf_allocataires")
    assert caf == {
        "id": "caf_allocataires",
        "title": "Allocataires CAF",
        "unit": "allocataires",
        "inputs": ["caf.allocataires"],
        "levels": ["iris", "commune"],
        "periods": ["2026-03", "2026-04"],
    }
    ratio = next(i for i in listing if i["id"] == "rsa_pour_100_menages")
    assert ratio["inputs"] == ["caf.allocataires", "insee.menages"]
    assert ratio["periods"] == []
    for indicator in ("defm_cat_a", "caf_bas_revenus_part"):
        response = api.client.get(f"/v1/indicators/{indicator}", headers=headers)
        assert response.status_code == 200


def test_an_expired_convention_stops_the_flow_at_once(api: Api) -> None:
    headers = api.token("observatoire-bordeaux")
    assert api.client.get("/v1/indicators/caf_allocataires", headers=headers).status_code == 200
    api.clock.now = EXPIRED
    response = api.client.get("/v1/indicators/caf_allocataires", headers=headers)
    assert response.status_code == 403
    detail = response.json()["detail"]
    assert detail["reason"] == "convention_expired"
    assert "expired" in detail["message"]
    assert api.client.get("/v1/indicators", headers=headers).status_code == 403


def test_a_renewal_without_the_consumer_stops_the_flow(api: Api) -> None:
    headers = api.token("agora-le-bouscat")
    assert api.client.get("/v1/indicators/caf_allocataires", headers=headers).status_code == 200
    text = (api.conventions / "caf33.yaml").read_text()
    start = text.index("  agora-le-bouscat:")
    end = text.index("signatures:")
    renewed = text[:start] + "\n" + text[end:]
    path = api.conventions / "caf33-v2.yaml"
    path.write_text(renewed.replace("version: 1", "version: 2"))
    sign_file(path, load_signing_key(KEYS / "caf33.key"), "caf33")
    sign_file(path, load_signing_key(KEYS / "hub-operator.key"), "hub-operator")
    response = api.client.get("/v1/indicators/caf_allocataires", headers=headers)
    assert response.status_code == 403
    assert response.json()["detail"]["reason"] == "consumer_not_named"
    assert "caf33-obshub v2" in response.json()["detail"]["message"]


def test_a_tampered_convention_stops_the_flow(api: Api) -> None:
    headers = api.token("agora-le-bouscat")
    path = api.conventions / "caf33.yaml"
    path.write_text(path.read_text().replace("raw_retention_days: 7", "raw_retention_days: 8"))
    response = api.client.get("/v1/indicators/caf_allocataires", headers=headers)
    assert response.status_code == 403
    # a tampered file is a draft: no convention in force provides the CAF's data
    assert response.json()["detail"]["reason"] == "no_convention"
    assert "caf33-obshub v1" in response.json()["detail"]["message"]


def test_unreadable_conventions_fail_closed(api: Api) -> None:
    headers = api.token("observatoire-bordeaux")
    (api.conventions / "broken.yaml").write_text("id: [unterminated\n")
    response = api.client.get("/v1/indicators/caf_allocataires", headers=headers)
    assert response.status_code == 503
    assert response.json()["detail"]["reason"] == "governance_unavailable"
    last = api.audit.events[-1]
    assert (last.reason, last.outcome) == ("governance_unavailable", "denied")


# ---- rows and formats


def test_rows_of_the_latest_period_by_default(api: Api) -> None:
    headers = api.token("observatoire-bordeaux")
    body = api.client.get("/v1/indicators/caf_allocataires", headers=headers).json()
    assert (body["indicator"], body["period"], body["unit"]) == (
        "caf_allocataires",
        "2026-04",
        "allocataires",
    )
    assert body["rows"][0] == {
        "level": "iris",
        "code": "330630101",
        "period": "2026-04",
        "value": 42.0,
        "numerator": 42.0,
        "denominator": None,
        "status": "ok",
    }
    assert [r["code"] for r in body["rows"]] == [
        "330630101",
        "330630102",
        "330690102",
        "33063",
        "33069",
    ]


def test_period_level_and_code_select_rows(api: Api) -> None:
    headers = api.token("observatoire-bordeaux")
    url = "/v1/indicators/caf_allocataires"
    older = api.client.get(url, params={"period": "2026-03"}, headers=headers).json()
    assert [(r["code"], r["value"]) for r in older["rows"]] == [("330630101", 40.0)]
    communes = api.client.get(url, params={"level": "commune"}, headers=headers).json()
    assert [r["code"] for r in communes["rows"]] == ["33063", "33069"]
    one = api.client.get(url, params={"code": "33069"}, headers=headers).json()
    assert [(r["level"], r["value"]) for r in one["rows"]] == [("commune", 55.0)]


def test_secret_rows_have_no_figures(api: Api) -> None:
    headers = api.token("observatoire-bordeaux")
    rows = api.client.get("/v1/indicators/caf_allocataires", headers=headers).json()["rows"]
    secret = next(r for r in rows if r["status"] == "secret")
    assert (secret["value"], secret["numerator"], secret["denominator"]) == (None, None, None)


def test_csv_format(api: Api) -> None:
    headers = api.token("observatoire-bordeaux")
    response = api.client.get(
        "/v1/indicators/caf_bas_revenus_part", params={"format": "csv"}, headers=headers
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(response.text)))
    header = ["indicator", "level", "code", "period", "value", "numerator", "denominator"]
    assert lines == [
        [*header, "status", "release_id"],
        [
            "caf_bas_revenus_part",
            "iris",
            "330630101",
            "2026-04",
            "25.0",
            "20.0",
            "80.0",
            "ok",
            BAS_REVENUS.release_id,
        ],
    ]
    secret = api.client.get(
        "/v1/indicators/caf_allocataires", params={"format": "csv"}, headers=headers
    )
    secret_line = next(line for line in csv.reader(io.StringIO(secret.text)) if "secret" in line)
    assert secret_line[4:7] == ["", "", ""]


def test_geojson_format(api: Api) -> None:
    headers = api.token("observatoire-bordeaux")
    response = api.client.get(
        "/v1/indicators/caf_allocataires", params={"format": "geojson"}, headers=headers
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/geo+json")
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert len(body["features"]) == 5
    first = body["features"][0]
    assert first["type"] == "Feature"
    assert first["geometry"]["type"] in {"Polygon", "MultiPolygon"}
    assert first["properties"]["code"] == "330630101"
    assert first["properties"]["value"] == 42.0
    assert first["properties"]["status"] == "ok"
    assert first["properties"]["name"] == "Le Carré des Acacias"
    secret = next(f for f in body["features"] if f["properties"]["status"] == "secret")
    assert secret["properties"]["value"] is None
    commune = next(f for f in body["features"] if f["id"] == "commune:33069")
    assert commune["properties"]["name"] == "Le Bouscat"
    assert commune["geometry"]["type"] in {"Polygon", "MultiPolygon"}


def test_geojson_names_its_release(api: Api) -> None:
    headers = api.token("observatoire-bordeaux")
    response = api.client.get(
        "/v1/indicators/caf_allocataires", params={"format": "geojson"}, headers=headers
    )
    body = response.json()
    assert body["release_id"] == CAF_APRIL.release_id
    assert datetime.fromisoformat(body["published_at"]) == PUBLISHED
    assert body["sources"] == [CAF_APRIL_SOURCE]
    assert {f["properties"]["release_id"] for f in body["features"]} == {CAF_APRIL.release_id}
    assert "drop_id" not in response.text and "drop-7f3a9c" not in response.text


def test_an_answer_names_its_release_and_what_it_is_made_of(api: Api) -> None:
    headers = api.token("observatoire-bordeaux")
    response = api.client.get("/v1/indicators/caf_allocataires", headers=headers)
    body = response.json()
    assert set(body) == {
        "indicator",
        "period",
        "unit",
        "release_id",
        "published_at",
        "sources",
        "rows",
    }
    assert body["release_id"] == CAF_APRIL.release_id
    assert datetime.fromisoformat(body["published_at"]) == PUBLISHED
    assert body["sources"] == [CAF_APRIL_SOURCE]
    # a source says who, what, when and under which convention, never which drop
    assert "drop_id" not in response.text and "drop-7f3a9c" not in response.text
    older = api.client.get(
        "/v1/indicators/caf_allocataires", params={"period": "2026-03"}, headers=headers
    ).json()
    assert older["release_id"] == CAF_MARCH.release_id
    assert [s["period"] for s in older["sources"]] == ["2026-03"]


def test_csv_lines_name_their_release(api: Api) -> None:
    headers = api.token("observatoire-bordeaux")
    response = api.client.get(
        "/v1/indicators/caf_allocataires", params={"format": "csv"}, headers=headers
    )
    header, *lines = csv.reader(io.StringIO(response.text))
    assert header[-1] == "release_id"
    assert len(lines) == 5
    assert all(len(line) == len(header) for line in lines)
    assert {line[-1] for line in lines} == {CAF_APRIL.release_id}


def test_a_new_release_switches_the_whole_period(api: Api) -> None:
    headers = api.token("observatoire-bordeaux")
    url = "/v1/indicators/caf_allocataires"
    api.view.apply(CAF_APRIL_REVISED)
    body = api.client.get(url, headers=headers).json()
    assert body["release_id"] == CAF_APRIL_REVISED.release_id
    assert datetime.fromisoformat(body["published_at"]) == CAF_APRIL_REVISED.published_at
    assert len(body["sources"]) == 2
    assert [(r["level"], r["code"], r["value"], r["status"]) for r in body["rows"]] == [
        ("iris", "330630101", 43.0, "ok"),
        ("iris", "330630102", None, "secret"),
        ("commune", "33063", 121.0, "ok"),
        ("commune", "33069", None, "secret"),
    ]
    # 330690102 was only in the replaced release: it is gone, not left over
    gone = api.client.get(url, params={"code": "330690102"}, headers=headers)
    assert gone.status_code == 404
    assert gone.json()["detail"]["reason"] == "unknown_code"
    table = api.client.get(url, params={"format": "csv"}, headers=headers).text
    _, *lines = csv.reader(io.StringIO(table))
    assert {line[-1] for line in lines} == {CAF_APRIL_REVISED.release_id}
    assert "330690102" not in table and "42.0" not in table and "55.0" not in table
    geojson = api.client.get(url, params={"format": "geojson"}, headers=headers).json()
    assert geojson["release_id"] == CAF_APRIL_REVISED.release_id
    assert len(geojson["features"]) == 4
    # the other period keeps its own release
    march = api.client.get(url, params={"period": "2026-03"}, headers=headers).json()
    assert march["release_id"] == CAF_MARCH.release_id


# ---- the register


def test_the_register_lists_releases_oldest_first(api: Api) -> None:
    headers = api.token("observatoire-bordeaux")
    api.view.apply(CAF_APRIL_REVISED)
    response = api.client.get("/v1/releases", headers=headers)
    assert response.status_code == 200
    listed = response.json()["releases"]
    assert [e["id"] for e in listed] == [r.release_id for r in (*DEMO_RELEASES, CAF_APRIL_REVISED)]
    assert "drop_id" not in response.text and "drop-81be02" not in response.text
    april = api.client.get(
        "/v1/releases",
        params={"indicator": "caf_allocataires", "period": "2026-04"},
        headers=headers,
    ).json()["releases"]
    assert [(e["id"], e["replaces"]) for e in april] == [
        (CAF_APRIL.release_id, None),
        (CAF_APRIL_REVISED.release_id, CAF_APRIL.release_id),
    ]
    first = april[0]
    assert datetime.fromisoformat(first.pop("published_at")) == PUBLISHED
    assert first == {
        "id": CAF_APRIL.release_id,
        "indicator": "caf_allocataires",
        "period": "2026-04",
        "levels": ["iris", "commune"],
        "replaces": None,
        "rules": DEFAULT_RULES,
        "audit": {
            "passed": True,
            "secret_primary": 1,
            "secret_secondary": 0,
            "narrowest_interval": 14.0,
        },
        "sources": [CAF_APRIL_SOURCE],
    }
    assert datetime.fromisoformat(april[1]["published_at"]) == CAF_APRIL_REVISED.published_at
    march = api.client.get("/v1/releases", params={"period": "2026-03"}, headers=headers)
    assert [e["id"] for e in march.json()["releases"]] == [CAF_MARCH.release_id]


def test_a_replaced_release_still_answers_by_id(api: Api) -> None:
    headers = api.token("observatoire-bordeaux")
    api.view.apply(CAF_APRIL_REVISED)
    response = api.client.get(f"/v1/releases/{CAF_APRIL.release_id}", headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["replaces"]) == (CAF_APRIL.release_id, None)
    assert [(r["code"], r["value"]) for r in body["rows"]] == [
        ("330630101", 42.0),
        ("330630102", None),
        ("330690102", 37.0),
        ("33063", 120.0),
        ("33069", 55.0),
    ]
    assert all(r["period"] == "2026-04" for r in body["rows"])
    secret = next(r for r in body["rows"] if r["status"] == "secret")
    assert (secret["value"], secret["numerator"], secret["denominator"]) == (None, None, None)
    revised = api.client.get(f"/v1/releases/{CAF_APRIL_REVISED.release_id}", headers=headers)
    assert revised.json()["replaces"] == CAF_APRIL.release_id
    assert [r["code"] for r in revised.json()["rows"]] == [
        "330630101",
        "330630102",
        "33063",
        "33069",
    ]


def test_the_register_shows_only_what_the_consumer_may_read(api: Api) -> None:
    headers = api.token("agora-le-bouscat")
    listed = api.client.get("/v1/releases", headers=headers).json()["releases"]
    assert [e["id"] for e in listed] == [
        CAF_MARCH.release_id,
        CAF_APRIL.release_id,
        BAS_REVENUS.release_id,
    ]
    assert {e["indicator"] for e in listed} <= CAF_ONLY
    other = api.client.get("/v1/releases", params={"indicator": "defm_cat_a"}, headers=headers)
    assert other.status_code == 403
    assert other.json()["detail"]["reason"] in {"consumer_not_named", "indicator_not_named"}
    hidden = api.client.get(f"/v1/releases/{DEFM.release_id}", headers=headers)
    unknown = api.client.get("/v1/releases/0123456789abcdef0123", headers=headers)
    for response in (hidden, unknown):
        assert response.status_code == 404
        assert response.json()["detail"]["reason"] == "unknown_release"
    # nothing tells a release the consumer may not read from one that does not exist
    assert "defm" not in hidden.text and "rows" not in hidden.text
    readable = api.client.get(f"/v1/releases/{CAF_APRIL.release_id}", headers=headers)
    assert readable.status_code == 200
    cabinet = api.token("cabinet-etudes")
    nothing = api.client.get("/v1/releases", headers=cabinet)
    assert nothing.status_code == 403
    assert nothing.json()["detail"]["reason"] == "no_consent"
    refused = api.client.get(f"/v1/releases/{CAF_APRIL.release_id}", headers=cabinet)
    assert refused.status_code == 404
    assert refused.json()["detail"]["reason"] == "unknown_release"


def test_register_requests_are_audited(api: Api) -> None:
    headers = api.token("agora-le-bouscat")
    api.client.get("/v1/releases", headers=headers)
    api.client.get("/v1/releases", params={"indicator": "defm_cat_a"}, headers=headers)
    api.client.get(f"/v1/releases/{DEFM.release_id}", headers=headers)
    api.client.get(f"/v1/releases/{CAF_APRIL.release_id}", headers=headers)
    events = api.audit.events
    assert all(isinstance(e, AuditEvent) for e in events)
    assert [(e.action, e.consumer, e.channel) for e in events] == [
        (Action.ACCESS, "agora-le-bouscat", "api")
    ] * 4
    assert [(e.object, e.indicator, e.outcome) for e in events] == [
        ("catalog", None, "granted"),
        ("indicator:defm_cat_a", "defm_cat_a", "denied"),
        ("indicator:defm_cat_a", "defm_cat_a", "denied"),
        ("indicator:caf_allocataires", "caf_allocataires", "granted"),
    ]
    assert events[-1].convention_id == "caf33-obshub"
    assert all(e.at == IN_FORCE for e in events)


def test_no_register_without_an_audit_record(api: Api) -> None:
    headers = api.token("observatoire-bordeaux")
    api.audit.fail = True
    for url in ("/v1/releases", f"/v1/releases/{CAF_APRIL.release_id}"):
        response = api.client.get(url, headers=headers)
        assert response.status_code == 503, url
        assert response.json()["detail"]["reason"] == "audit_unavailable"
        assert CAF_APRIL.release_id not in response.text


NOT_FOUND = [  # url, query, reason of the 404
    ("/v1/indicators/no_such_indicator", {}, "unknown_indicator"),
    ("/v1/releases", {"indicator": "no_such_indicator"}, "unknown_indicator"),
    ("/v1/releases/0123456789abcdef", {}, "unknown_release"),
    ("/v1/indicators/caf_allocataires", {"period": "2019-01"}, "unknown_period"),
    ("/v1/indicators/rsa_pour_100_menages", {}, "unknown_period"),
    ("/v1/indicators/caf_allocataires", {"code": "330631234"}, "unknown_code"),
    ("/v1/indicators/caf_allocataires", {"level": "qpv"}, "unknown_level"),  # IRIS-coded data
]


@pytest.mark.parametrize(("url", "params", "reason"), NOT_FOUND)
def test_404s(api: Api, url: str, params: dict[str, str], reason: str) -> None:
    headers = api.token("observatoire-bordeaux")
    response = api.client.get(url, params=params, headers=headers)
    assert response.status_code == 404
    assert response.json()["detail"]["reason"] == reason


def test_malformed_parameters_are_422(api: Api) -> None:
    headers = api.token("observatoire-bordeaux")
    for params in ({"level": "Canton 2"}, {"period": "avril"}, {"format": "xlsx"}):
        response = api.client.get("/v1/indicators/caf_allocataires", params=params, headers=headers)
        assert response.status_code == 422, params
    for url in ("/v1/releases/NOT-HEX", f"/v1/releases/{'a' * 65}"):
        assert api.client.get(url, headers=headers).status_code == 422, url
    response = api.client.get("/v1/releases", params={"period": "avril"}, headers=headers)
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("/v1/releases", {"indicatr": "defm_cat_a"}),  # a misspelt filter must not list all
        ("/v1/indicators/caf_allocataires", {"periode": "2026-04"}),
        ("/v1/indicators", {"x": "1"}),
    ],
)
def test_an_unknown_query_parameter_is_422_and_named(
    api: Api, url: str, params: dict[str, str]
) -> None:
    headers = api.token("observatoire-bordeaux")
    response = api.client.get(url, params=params, headers=headers)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["query", next(iter(params))]
    assert error["msg"].startswith("unknown query parameter")
    assert api.client.get(url, params=params).status_code == 401  # no token: 401 first


# ---- audit, metrics, health, openapi


def test_every_decision_is_audited_without_the_token(api: Api) -> None:
    headers = api.token("agora-le-bouscat")
    token = headers["Authorization"].split()[1]
    api.client.get("/v1/indicators/caf_allocataires", headers=headers)
    api.client.get("/v1/indicators/defm_cat_a", headers=headers)
    api.client.get("/v1/indicators", headers=headers)
    granted, denied, catalog = api.audit.events
    assert all(isinstance(e, AuditEvent) and e.action is Action.ACCESS for e in api.audit.events)
    assert (granted.actor, granted.consumer, granted.indicator, granted.channel) == (
        "agora-le-bouscat",
        "agora-le-bouscat",
        "caf_allocataires",
        "api",
    )
    assert (granted.object, granted.outcome, granted.reason) == (
        "indicator:caf_allocataires",
        "granted",
        "granted",
    )
    assert granted.convention_id == "caf33-obshub"
    assert granted.at == IN_FORCE
    assert (denied.indicator, denied.outcome, denied.reason) == (
        "defm_cat_a",
        "denied",
        "consumer_not_named",
    )
    assert (catalog.object, catalog.indicator, catalog.outcome) == ("catalog", None, "granted")
    secret = token.split(".", 1)[1]
    for event in api.audit.events:
        values = asdict(event).values()
        assert not any(secret in str(value) or token in str(value) for value in values)


def test_audit_events_encode_as_audit_event_messages(api: Api) -> None:
    from schemas.catalog import load_catalog
    from schemas.codec import decode_message, encode_message

    headers = api.token("observatoire-bordeaux")
    api.client.get("/v1/indicators/caf_allocataires", headers=headers)
    api.client.get("/v1/indicators", headers=headers)
    schemas = load_catalog()
    for event in api.audit.events:
        schema, decoded = decode_message(
            schemas, encode_message(schemas.protocol("audit_event"), event.record())
        )
        assert schema.name == "audit_event"
        assert (decoded["action"], decoded["channel"]) == ("access", "api")
        assert decoded["consumer"] == "observatoire-bordeaux"


def test_no_answer_without_an_audit_record(api: Api) -> None:
    headers = api.token("observatoire-bordeaux")
    api.audit.fail = True
    response = api.client.get("/v1/indicators/caf_allocataires", headers=headers)
    assert response.status_code == 503
    assert response.json()["detail"]["reason"] == "audit_unavailable"
    assert "rows" not in response.text


def test_decisions_are_counted(api: Api) -> None:
    observatory = api.token("observatoire-bordeaux")
    cabinet = api.token("cabinet-etudes")
    api.client.get("/v1/indicators/caf_allocataires", headers=observatory)
    api.client.get("/v1/indicators/caf_allocataires", headers=cabinet)
    api.client.get("/v1/indicators/whatever", headers=cabinet)
    text = api.client.get("/metrics").text
    assert (
        'obshub_access_requests_total{consumer="observatoire-bordeaux",'
        'decision="granted",indicator="caf_allocataires"} 1.0'
    ) in text
    assert (
        'obshub_access_requests_total{consumer="cabinet-etudes",'
        'decision="denied",indicator="caf_allocataires"} 1.0'
    ) in text
    assert 'indicator="(unknown)"' in text and 'indicator="whatever"' not in text


def test_health_follows_the_view(api: Api) -> None:
    assert api.client.get("/healthz").status_code == 200
    api.view.ready = False
    response = api.client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "starting"
    api.view.failure = "KafkaError: 10.0.0.7:9092 unreachable, /etc/obshub/ca.pem"
    failed = api.client.get("/healthz").json()
    assert failed["status"] == "failed"
    assert "10.0.0.7" not in str(failed) and "/etc/obshub" not in str(failed)


def test_the_openapi_document_describes_the_api(api: Api) -> None:
    document = api.client.get("/openapi.json").json()
    assert document["openapi"].startswith("3.")
    assert {
        "/v1/indicators",
        "/v1/indicators/{indicator_id}",
        "/v1/releases",
        "/v1/releases/{release_id}",
        "/healthz",
    } <= set(document["paths"])
    item = document["paths"]["/v1/indicators/{indicator_id}"]["get"]
    assert {"401", "403", "404", "200"} <= set(item["responses"])
    assert {p["name"] for p in item["parameters"]} == {
        "indicator_id",
        "period",
        "level",
        "code",
        "format",
    }
    assert any(
        s.get("scheme") == "bearer" for s in document["components"]["securitySchemes"].values()
    )


def test_an_indicator_of_points_answers_at_its_qpv_and_quartier_levels(api: Api) -> None:
    rows = [
        row("commune", "33063", 120.0),
        row("qpv", "QN03303M", 31.0),
        row("commune_hors_qpv", "33069", 12.0),
        row("quartier", "Q1", None, status="secret"),
    ]
    api.view.apply(release("defm_cat_a", "2026-04", rows))
    headers = api.token("observatoire-bordeaux")
    qpv = api.client.get(
        "/v1/indicators/defm_cat_a", params={"period": "2026-04", "level": "qpv"}, headers=headers
    )
    assert qpv.status_code == 200, qpv.text
    assert [(r["level"], r["code"], r["value"]) for r in qpv.json()["rows"]] == [
        ("qpv", "QN03303M", 31.0)
    ]
    one = api.client.get(
        "/v1/indicators/defm_cat_a",
        params={"period": "2026-04", "level": "quartier", "code": "Q1", "format": "geojson"},
        headers=headers,
    )
    assert one.status_code == 200, one.text
    feature = one.json()["features"][0]
    assert feature["properties"]["status"] == "secret" and feature["geometry"] is not None
