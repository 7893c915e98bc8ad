"""Who gets in: SCRAM on the real broker, bearer tokens and consent on the real API.

The API is `obshub api` under uvicorn on the session's broker (package
fixture `api`), reading a private copy of the demo conventions that the
expiry test edits while it runs. Tokens are issued and revoked with the
`TokenStore` the `obshub access` commands use, on the same state dir.
"""

from __future__ import annotations

import csv
import io
import secrets
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from kafka import KafkaConsumer, KafkaProducer
from kafka.errors import KafkaTimeoutError

from contracts.principals import AUDIT_TOPIC, KafkaCredentials
from hub.api.tokens import TokenStore
from hub.stack import Stack
from tests.security.support import (
    DEMO,
    HUB_OPERATOR,
    decode_all,
    install,
    read_topics,
    rewrite_convention,
)
from tests.support.wire import publish_releases, release_record

pytestmark = pytest.mark.integration

# -- SCRAM ------------------------------------------------------------------------


def failed_authentications(stack: Stack) -> int:
    return stack.layout.log_file.read_text(encoding="utf-8").count("Failed authentication")


def connect(credentials: KafkaCredentials, as_consumer: bool) -> None:
    config = credentials.kafka_python_config()
    if as_consumer:
        client: Any = KafkaConsumer(
            f"indicators.{credentials.username}", **config, bootstrap_timeout_ms=1000
        )
    else:
        client = KafkaProducer(**config, bootstrap_timeout_ms=1000, enable_idempotence=False)
    client.close()


def scram_cases(stack: Stack) -> dict[str, tuple[KafkaCredentials, bool]]:
    """name: (credentials that must be refused, connect as a consumer)."""
    bootstrap = stack.settings.bootstrap_servers
    caf = stack.credentials.get("caf33")
    observatory = stack.credentials.get("observatoire-bordeaux")
    return {
        "partner, wrong password": (
            # the last character changed (to x, or to y when it was x)
            KafkaCredentials(bootstrap, "caf33", caf.password[:-1] + "xy"[caf.password[-1] == "x"]),
            False,
        ),
        "partner, another partner's password": (
            KafkaCredentials(bootstrap, "francetravail33", caf.password),
            False,
        ),
        "partner, unknown user": (KafkaCredentials(bootstrap, "caf34", caf.password), False),
        "consumer, wrong password": (
            KafkaCredentials(bootstrap, "observatoire-bordeaux", secrets.token_urlsafe(24)),
            True,
        ),
        "consumer, unknown user": (
            KafkaCredentials(bootstrap, "observatoire-talence", observatory.password),
            True,
        ),
        "consumer without the kafka channel": (
            KafkaCredentials(bootstrap, "agora-le-bouscat", observatory.password),
            True,
        ),
        "empty password": (KafkaCredentials(bootstrap, "caf33", ""), False),
    }


CASE_NAMES = [
    "partner, wrong password",
    "partner, another partner's password",
    "partner, unknown user",
    "consumer, wrong password",
    "consumer, unknown user",
    "consumer without the kafka channel",
    "empty password",
]


@pytest.mark.parametrize("name", CASE_NAMES)
def test_the_broker_refuses_bad_scram_credentials(kafka_stack: Stack, name: str) -> None:
    credentials, as_consumer = scram_cases(kafka_stack)[name]
    before = failed_authentications(kafka_stack)
    with pytest.raises(KafkaTimeoutError, match="Unable to bootstrap"):
        connect(credentials, as_consumer)
    deadline = time.monotonic() + 10
    while failed_authentications(kafka_stack) == before:
        assert time.monotonic() < deadline, "the broker logged no failed authentication"
        time.sleep(0.2)


# -- the API: fixtures ----------------------------------------------------------------

CAF_ONLY = ("caf_allocataires", "caf_bas_revenus_part", "caf_monoparents_part")
PERIODS = {  # indicator: the period its test rows are published for
    "caf_allocataires": "1901-01",
    "caf_bas_revenus_part": "1901-01",
    "caf_monoparents_part": "1901-01",
    "rsa_pour_100_menages": "1901-01",
    "defm_cat_a": "1901-01",
    "defm_jeunes_part": "1901-01",
    "defm_longue_duree_part": "1901-01",
    "apa_domicile_pour_100_75plus": "1901-Q1",
    "ccas_aides_pour_1000_menages": "1901-01",
}
CONSENTED = {  # the demo conventions (deploy/demo/conventions)
    "observatoire-bordeaux": set(PERIODS),
    "agora-le-bouscat": set(CAF_ONLY),
    "cabinet-etudes": set(),
}
IRIS_CODE, COMMUNE_CODE = "330630101", "33063"


@pytest.fixture(scope="module")
def rows(kafka_stack: Stack) -> None:
    """A release per indicator, an IRIS row (secret) and a commune row, published as the hub."""
    cells = [("iris", IRIS_CODE, None), ("commune", COMMUNE_CODE, 42.0)]
    publish_releases(
        kafka_stack,
        [release_record(i, p, cells, secrets.token_hex(10)) for i, p in PERIODS.items()],
    )


@pytest.fixture(scope="module")
def tokens(api_stack: Stack) -> TokenStore:
    return TokenStore(api_stack.settings.access_dir)


@pytest.fixture(scope="module")
def bearer(tokens: TokenStore) -> dict[str, dict[str, str]]:
    """A fresh token per demo consumer, as Authorization headers."""
    return {c: {"Authorization": f"Bearer {tokens.issue(c).token}"} for c in CONSENTED}


@pytest.fixture(scope="module")
def http(api: str, rows: None, bearer: dict[str, dict[str, str]]) -> Iterator[httpx.Client]:
    """A client of the live API, once its view holds the test rows."""
    with httpx.Client(base_url=api, timeout=10) as client:
        observatory = bearer["observatoire-bordeaux"]
        deadline = time.monotonic() + 30
        for indicator, period in PERIODS.items():
            params = {"period": period}
            url = f"/v1/indicators/{indicator}"
            while client.get(url, params=params, headers=observatory).status_code != 200:
                assert time.monotonic() < deadline, f"{indicator} {period} never served"
                time.sleep(0.2)
        yield client


def reason(response: httpx.Response) -> str:
    detail: str = response.json()["detail"]["reason"]
    return detail


# -- tokens ---------------------------------------------------------------------------


PROTECTED = ("/v1/indicators", "/v1/indicators/caf_allocataires", "/v1/indicators/no_such_thing")


@pytest.mark.parametrize("path", PROTECTED)
def test_no_token_no_answer(http: httpx.Client, path: str) -> None:
    """401 before anything else, even whether an indicator exists."""
    response = http.get(path)
    assert response.status_code == 401
    assert reason(response) == "missing_token"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def wrong_headers(bearer: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    observatory = bearer["observatoire-bordeaux"]["Authorization"].split()[1]
    agora = bearer["agora-le-bouscat"]["Authorization"].split()[1]
    token_id, secret = observatory.split(".", 1)
    flipped = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    forms = {
        "garbage": "not-a-token",
        "unknown id": f"{secrets.token_hex(8)}.{secret}",
        "wrong secret": f"{token_id}.{secrets.token_urlsafe(32)}",
        "one character changed": f"{token_id}.{flipped}",
        "one character more": f"{observatory}x",
        "one character less": observatory[:-1],
        "another consumer's secret": f"{token_id}.{agora.split('.', 1)[1]}",
        "secret alone": secret,
        "oversized": "a" * 5000,
    }
    headers = {name: {"Authorization": f"Bearer {token}"} for name, token in forms.items()}
    headers["basic scheme"] = {"Authorization": f"Basic {observatory}"}
    headers["no scheme"] = {"Authorization": observatory}
    headers["empty bearer"] = {"Authorization": "Bearer"}
    return headers


WRONG = [
    "garbage",
    "unknown id",
    "wrong secret",
    "one character changed",
    "one character more",
    "one character less",
    "another consumer's secret",
    "secret alone",
    "oversized",
    "basic scheme",
    "no scheme",
    "empty bearer",
]


@pytest.mark.parametrize("form", WRONG)
def test_a_wrong_token_is_refused(
    http: httpx.Client, bearer: dict[str, dict[str, str]], form: str
) -> None:
    headers = wrong_headers(bearer)[form]
    for path in PROTECTED:
        response = http.get(path, headers=headers)
        assert response.status_code == 401, (form, path, response.text)
        assert reason(response) in ("missing_token", "invalid_token")


def test_a_token_in_the_query_string_is_ignored(
    http: httpx.Client, bearer: dict[str, dict[str, str]]
) -> None:
    token = bearer["observatoire-bordeaux"]["Authorization"].split()[1]
    for name in ("token", "access_token", "authorization"):
        response = http.get("/v1/indicators", params={name: token})
        assert response.status_code == 401


def test_replaced_and_revoked_tokens_are_refused_at_once(
    http: httpx.Client, tokens: TokenStore, bearer: dict[str, dict[str, str]]
) -> None:
    first = {"Authorization": f"Bearer {tokens.issue('agora-le-bouscat').token}"}
    assert http.get("/v1/indicators", headers=first).status_code == 200
    second = {"Authorization": f"Bearer {tokens.issue('agora-le-bouscat').token}"}
    assert http.get("/v1/indicators", headers=first).status_code == 401  # replaced
    assert http.get("/v1/indicators", headers=second).status_code == 200
    assert tokens.revoke("agora-le-bouscat")
    revoked = http.get("/v1/indicators", headers=second)
    assert (revoked.status_code, reason(revoked)) == (401, "invalid_token")
    # the others' tokens are untouched
    assert http.get("/v1/indicators", headers=bearer["observatoire-bordeaux"]).status_code == 200
    bearer["agora-le-bouscat"] = {
        "Authorization": f"Bearer {tokens.issue('agora-le-bouscat').token}"
    }


# -- consent ----------------------------------------------------------------------------


def audit_since(stack: Stack, since: datetime) -> list[dict[str, Any]]:
    events = decode_all(read_topics(stack.credentials.get("hub"), [AUDIT_TOPIC])[AUDIT_TOPIC])
    return [e for e in events if e["at"] >= since and e.get("channel") == "api"]


def test_a_token_unlocks_its_own_consumers_consent_only(
    kafka_stack: Stack, http: httpx.Client, bearer: dict[str, dict[str, str]]
) -> None:
    """Each consumer and each indicator, as the conventions say; every decision audited."""
    started = datetime.now(UTC) - timedelta(seconds=1)
    expected: Counter[tuple[str, str | None, str]] = Counter()
    for consumer, consented in CONSENTED.items():
        headers = bearer[consumer]
        catalog = http.get("/v1/indicators", headers=headers)
        if consented:
            assert catalog.status_code == 200, catalog.text
            listed = {entry["id"] for entry in catalog.json()["indicators"]}
            assert listed == consented, consumer
        else:
            assert (catalog.status_code, reason(catalog)) == (403, "no_consent")
        expected[(consumer, None, "granted" if consented else "denied")] += 1
        for indicator, period in PERIODS.items():
            response = http.get(
                f"/v1/indicators/{indicator}", params={"period": period}, headers=headers
            )
            if indicator in consented:
                assert response.status_code == 200, (consumer, indicator, response.text)
                assert {r["code"] for r in response.json()["rows"]} == {IRIS_CODE, COMMUNE_CODE}
            else:
                assert response.status_code == 403, (consumer, indicator, response.text)
                assert reason(response) in ("consumer_not_named", "indicator_not_named")
                assert "rows" not in response.json()
            decision = "granted" if indicator in consented else "denied"
            expected[(consumer, indicator, decision)] += 1
    deadline = time.monotonic() + 15
    while True:
        seen = Counter(
            (e["consumer"], e["indicator"], e["outcome"]) for e in audit_since(kafka_stack, started)
        )
        if not expected - seen:
            break
        assert time.monotonic() < deadline, f"not audited: {expected - seen}"
        time.sleep(0.5)


@pytest.mark.parametrize("consumer", list(CONSENTED))
def test_unknown_indicator_period_and_code_are_404(
    http: httpx.Client, bearer: dict[str, dict[str, str]], consumer: str
) -> None:
    headers = bearer[consumer]
    unknown = http.get("/v1/indicators/no_such_indicator", headers=headers)
    assert (unknown.status_code, reason(unknown)) == (404, "unknown_indicator")
    if "caf_allocataires" not in CONSENTED[consumer]:
        return
    url = "/v1/indicators/caf_allocataires"
    period = http.get(url, params={"period": "1901-02"}, headers=headers)
    assert (period.status_code, reason(period)) == (404, "unknown_period")
    code = http.get(url, params={"period": "1901-01", "code": "330699999"}, headers=headers)
    assert (code.status_code, reason(code)) == (404, "unknown_code")


def test_csv_and_geojson_carry_the_same_rows_and_no_secret_figure(
    http: httpx.Client, bearer: dict[str, dict[str, str]]
) -> None:
    headers = bearer["agora-le-bouscat"]
    url = "/v1/indicators/caf_allocataires"
    params = {"period": "1901-01"}
    as_json = http.get(url, params=params, headers=headers).json()["rows"]
    text = http.get(url, params={**params, "format": "csv"}, headers=headers)
    assert text.headers["content-type"].startswith("text/csv")
    as_csv = list(csv.DictReader(io.StringIO(text.text)))
    geo = http.get(url, params={**params, "format": "geojson"}, headers=headers)
    assert geo.headers["content-type"].startswith("application/geo+json")
    collection = geo.json()
    assert collection["type"] == "FeatureCollection"
    features = {f["properties"]["code"]: f for f in collection["features"]}
    assert len(as_json) == len(as_csv) == len(features) == 2
    for row in as_json:
        line = next(r for r in as_csv if r["code"] == row["code"])
        feature = features[row["code"]]
        assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
        assert feature["properties"]["status"] == line["status"] == row["status"]
        if row["status"] == "secret":
            assert row["value"] is None and feature["properties"]["value"] is None
            assert line["value"] == line["numerator"] == ""
        else:
            assert float(line["value"]) == feature["properties"]["value"] == row["value"]


# -- revocation by the conventions ----------------------------------------------------


def test_expiry_and_replacement_of_a_convention_stop_the_flow_at_once(
    api_stack: Stack, http: httpx.Client, bearer: dict[str, dict[str, str]], tmp_path: Path
) -> None:
    """The CCAS convention expires, then a version 2 no longer names the consumer:
    each refuses at the next request; the other partners' flows go on."""
    headers = bearer["observatoire-bordeaux"]
    directory = api_stack.settings.conventions_dir
    installed = directory / "ccas-bordeaux.yaml"
    original = tmp_path / "ccas-bordeaux.yaml"
    original.write_bytes(installed.read_bytes())
    ccas = "/v1/indicators/ccas_aides_pour_1000_menages"
    caf = "/v1/indicators/caf_allocataires"
    params = {"period": "1901-01"}
    signers = {"ccas-bordeaux": "ccas-bordeaux", HUB_OPERATOR: HUB_OPERATOR}
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    assert http.get(ccas, params=params, headers=headers).status_code == 200
    try:
        rewrite_convention(
            original, installed, {"valid_until: 2027-12-31": f"valid_until: {yesterday}"}, signers
        )
        expired = http.get(ccas, params=params, headers=headers)
        assert (expired.status_code, reason(expired)) == (403, "convention_expired")
        assert "expired" in expired.json()["detail"]["message"]
        assert http.get(caf, params=params, headers=headers).status_code == 200

        install(original, installed)
        assert http.get(ccas, params=params, headers=headers).status_code == 200
        rewrite_convention(
            DEMO / "conventions" / "ccas-bordeaux.yaml",
            directory / "ccas-bordeaux-v2.yaml",
            {"version: 1": "version: 2", "  observatoire-bordeaux:": "  agora-le-bouscat:"},
            signers,
        )
        replaced = http.get(ccas, params=params, headers=headers)
        assert (replaced.status_code, reason(replaced)) == (403, "consumer_not_named")
        assert "v2" in replaced.json()["detail"]["message"]
        assert http.get(caf, params=params, headers=headers).status_code == 200
    finally:
        install(original, installed)
        (directory / "ccas-bordeaux-v2.yaml").unlink(missing_ok=True)
    assert http.get(ccas, params=params, headers=headers).status_code == 200
