"""The access API over an in-memory view, the demo conventions and a memory audit sink."""

from __future__ import annotations

import csv
import io
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from contracts.keys import load_signing_key
from contracts.signing import sign_file
from hub.api.app import create_app
from hub.api.auditing import MemoryAuditSink
from hub.api.governance import Governance
from hub.api.shapes import Shapes, load_shapes
from hub.api.tokens import TokenStore
from hub.api.view import IndicatorView
from hub.metrics import HubMetrics
from hub.settings import HubSettings
from tests.unit.hub.api_support import (
    CATALOG,
    CONVENTIONS,
    EXPIRED,
    IN_FORCE,
    KEYS,
    TERRITORY,
    AppClient,
    row,
)

CAF_ONLY = {"caf_allocataires", "caf_bas_revenus_part", "caf_monoparents_part"}


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Api:
    client: AppClient
    view: IndicatorView
    audit: MemoryAuditSink
    tokens: TokenStore
    clock: Clock
    conventions: Path

    def token(self, consumer: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens.issue(consumer).token}"}


@pytest.fixture(scope="module")
def shapes() -> Shapes:
    return load_shapes(TERRITORY)


def demo_view() -> IndicatorView:
    view = IndicatorView()
    for r in (
        row(period="2026-03", value=40.0),
        row(value=42.0),
        row(code="330630102", value=None, status="secret"),
        row(level="commune", code="33063", value=120.0),
        row(code="330690102", value=37.0),
        row(level="commune", code="33069", value=55.0),
        row("caf_bas_revenus_part", value=25.0, numerator=20.0, denominator=80.0),
        row("defm_cat_a", value=64.0),
    ):
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
    assert api.audit.events[-1]["reason"] == "governance_unavailable"


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
    assert lines == [
        ["indicator", "level", "code", "period", "value", "numerator", "denominator", "status"],
        ["caf_bas_revenus_part", "iris", "330630101", "2026-04", "25.0", "20.0", "80.0", "ok"],
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


@pytest.mark.parametrize(
    ("url", "params", "reason"),
    [
        ("/v1/indicators/no_such_indicator", {}, "unknown_indicator"),
        ("/v1/indicators/caf_allocataires", {"period": "2019-01"}, "unknown_period"),
        ("/v1/indicators/rsa_pour_100_menages", {}, "unknown_period"),
        ("/v1/indicators/caf_allocataires", {"code": "330631234"}, "unknown_code"),
    ],
)
def test_404s(api: Api, url: str, params: dict[str, str], reason: str) -> None:
    headers = api.token("observatoire-bordeaux")
    response = api.client.get(url, params=params, headers=headers)
    assert response.status_code == 404
    assert response.json()["detail"]["reason"] == reason


def test_malformed_parameters_are_422(api: Api) -> None:
    headers = api.token("observatoire-bordeaux")
    for params in ({"level": "canton"}, {"period": "avril"}, {"format": "xlsx"}):
        response = api.client.get("/v1/indicators/caf_allocataires", params=params, headers=headers)
        assert response.status_code == 422, params


# ---- audit, metrics, health, openapi


def test_every_decision_is_audited_without_the_token(api: Api) -> None:
    headers = api.token("agora-le-bouscat")
    token = headers["Authorization"].split()[1]
    api.client.get("/v1/indicators/caf_allocataires", headers=headers)
    api.client.get("/v1/indicators/defm_cat_a", headers=headers)
    api.client.get("/v1/indicators", headers=headers)
    granted, denied, catalog = api.audit.events
    assert granted["kind"] == "access_granted"
    assert (granted["consumer"], granted["indicator"], granted["channel"]) == (
        "agora-le-bouscat",
        "caf_allocataires",
        "api",
    )
    assert (granted["decision"], granted["reason"]) == ("granted", "granted")
    assert granted["convention_id"] == "caf33-obshub"
    assert granted["at"] == IN_FORCE
    assert (denied["kind"], denied["decision"], denied["reason"]) == (
        "access_denied",
        "denied",
        "consumer_not_named",
    )
    assert (catalog["indicator"], catalog["decision"]) == (None, "granted")
    secret = token.split(".", 1)[1]
    for event in api.audit.events:
        assert not any(secret in str(value) or token in str(value) for value in event.values())


def test_audit_events_encode_as_audit_event_messages(api: Api) -> None:
    from schemas.catalog import load_catalog
    from schemas.codec import decode_message, encode_message

    headers = api.token("observatoire-bordeaux")
    api.client.get("/v1/indicators/caf_allocataires", headers=headers)
    api.client.get("/v1/indicators", headers=headers)
    schemas = load_catalog()
    for event in api.audit.events:
        schema, decoded = decode_message(
            schemas, encode_message(schemas.protocol("audit_event"), event)
        )
        assert schema.name == "audit_event"
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
    api.view.failure = "KafkaError: gone"
    assert api.client.get("/healthz").json()["status"] == "failed"


def test_the_openapi_document_describes_the_api(api: Api) -> None:
    document = api.client.get("/openapi.json").json()
    assert document["openapi"].startswith("3.")
    assert {"/v1/indicators", "/v1/indicators/{indicator_id}", "/healthz"} <= set(document["paths"])
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
