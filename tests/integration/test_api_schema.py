"""The live access API against its own OpenAPI document (schemathesis).

`obshub api` runs under uvicorn on the session's broker. Its `/openapi.json`
is checked against the OpenAPI meta-schema; then each operation is called on
the live server with property-based inputs (a valid token in the header), a
bounded number of times: no answer may be a 5xx, and every answer must
conform to the document (status, content type, headers, body schema).

The test cases are generated from the same document, built in-process from
`create_app` at collection time (`test_the_openapi_document_is_valid` checks
it is the one the server serves): schemathesis' lazy `from_fixture` loader
does not run under pytest 9 (it reads `Function._nodeid`, gone in pytest 9).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from hub.api.app import create_app
from hub.api.auditing import MemoryAuditSink
from hub.api.tokens import TokenStore
from hub.api.view import ReleaseView
from hub.settings import HubSettings
from hub.stack import Stack
from tests.security.support import running_service
from tests.support.wire import publish_releases, release_record

pytestmark = pytest.mark.integration

PERIOD = "1902-01"  # rows of this period exist, so calls may reach the 200 path
MAX_EXAMPLES = 30


def publish_rows(stack: Stack) -> None:
    cells = [("iris", "330630101", 17.0), ("iris", "330630102", None), ("commune", "33063", 120.0)]
    publish_releases(stack, [release_record("caf_allocataires", PERIOD, cells, "a91e0c0de0000000")])


@pytest.fixture(scope="module")
def live_api(kafka_stack: Stack) -> Iterator[tuple[str, dict[str, str]]]:
    """The API's URL and a valid token header, once the test rows are served."""
    publish_rows(kafka_stack)
    token = TokenStore(kafka_stack.settings.access_dir).issue("observatoire-bordeaux").token
    headers = {"Authorization": f"Bearer {token}"}
    with running_service(kafka_stack, "api"):
        url = kafka_stack.settings.api_url
        with httpx.Client(base_url=url, headers=headers, timeout=10) as http:
            for _ in range(100):
                answer = http.get("/v1/indicators/caf_allocataires", params={"period": PERIOD})
                if answer.status_code == 200:
                    break
            assert answer.status_code == 200, answer.text
        yield url, headers


DOCUMENT = create_app(HubSettings(), ReleaseView(), audit=MemoryAuditSink()).openapi()
schema = schemathesis.openapi.from_dict(DOCUMENT)


def test_the_openapi_document_is_valid(live_api: tuple[str, dict[str, str]]) -> None:
    url, _ = live_api
    served = httpx.get(f"{url}/openapi.json", timeout=10).json()
    assert served == DOCUMENT
    schemathesis.openapi.from_dict(served).validate()  # raises if it breaks the meta-schema
    assert served["openapi"].startswith("3.")
    assert {"/v1/indicators", "/v1/indicators/{indicator_id}", "/healthz"} <= set(served["paths"])


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_the_api_keeps_to_its_document(case: Any, live_api: tuple[str, dict[str, str]]) -> None:
    url, headers = live_api
    response = case.call_and_validate(base_url=url, headers=headers)  # raises on a violation
    assert response.status_code < 500


HAND_PICKED = [  # consumer (None: no token), query, expected status
    ("observatoire-bordeaux", {"period": PERIOD}, 200),
    ("observatoire-bordeaux", {"period": PERIOD, "level": "iris", "format": "csv"}, 200),
    ("observatoire-bordeaux", {"period": PERIOD, "format": "geojson"}, 200),
    ("observatoire-bordeaux", {"period": PERIOD, "code": "33063"}, 200),
    ("observatoire-bordeaux", {"period": "1902-02"}, 404),
    ("cabinet-etudes", {"period": PERIOD}, 403),
    (None, {"period": PERIOD}, 401),
]


@pytest.mark.parametrize(("consumer", "query", "status"), HAND_PICKED)
def test_answers_on_every_path_keep_to_the_document(
    kafka_stack: Stack,
    live_api: tuple[str, dict[str, str]],
    consumer: str | None,
    query: dict[str, str],
    status: int,
) -> None:
    """Hand-picked calls for what random inputs rarely reach: 200 in each format, 403, 401."""
    url, headers = live_api
    if consumer is None:
        headers = {}
    elif consumer != "observatoire-bordeaux":
        token = TokenStore(kafka_stack.settings.access_dir).issue(consumer).token
        headers = {"Authorization": f"Bearer {token}"}
    operation = schema["/v1/indicators/{indicator_id}"]["GET"]
    case = operation.Case(path_parameters={"indicator_id": "caf_allocataires"}, query=query)
    response = case.call_and_validate(base_url=url, headers=headers)
    assert response.status_code == status, response.text
