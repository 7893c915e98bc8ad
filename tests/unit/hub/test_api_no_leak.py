"""No answer of the access API names a server path or an internal detail.

Every error answer the API gives (401, 403 for each consent reason, 404, 422,
503) is gathered over an app whose conventions, keys and tokens live under
`tmp_path`, and none may name a file, a directory, a key file or the text of
a revocation: only reason codes, convention ids, consumer and indicator ids.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from contracts.keys import load_signing_key
from contracts.revocation import Revocation, write_revocation
from hub.api.app import create_app
from hub.api.auditing import MemoryAuditSink
from hub.api.governance import Governance
from hub.api.shapes import Shapes, load_shapes
from hub.api.tokens import TOKENS_FILE, TokenStore
from hub.metrics import HubMetrics
from hub.settings import HubSettings
from tests.unit.hub.api_support import (
    CATALOG,
    CONVENTIONS,
    EXPIRED,
    IN_FORCE,
    KEYS,
    ROOT,
    TERRITORY,
    AppClient,
)
from tests.unit.hub.test_api_app import CAF_APRIL, NOT_FOUND, Clock, demo_view

# What an operator writes in a revocation: it is for the parties, not for consumers.
REVOCATION_REASON = "fin demandée par la CAF, voir /srv/obshub/courrier-2026-05.pdf"
# Fragments no answer may contain, whatever the directory the hub runs from.
FORBIDDEN = (
    "deploy/demo",
    ".pem",
    ".pub",
    ".key",
    ".yaml",
    "x25519",
    TOKENS_FILE,
    "Traceback",
    "courrier",
    "/srv/",
)


@dataclass
class Leaky:
    """An app over copies of the demo governance files, and every answer it gave;
    each answer is checked for leaks as it comes."""

    client: AppClient
    tokens: TokenStore
    audit: MemoryAuditSink
    clock: Clock
    conventions: Path
    keys: Path
    tmp_path: Path
    answers: list[tuple[str, httpx.Response]] = field(default_factory=list)

    def token(self, consumer: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens.issue(consumer).token}"}

    def get(
        self,
        url: str,
        status: int,
        *,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        reason: str | None = None,
    ) -> Answer:
        """The answer, with what is wrong with it: another status or reason than
        expected, or a fragment of a server path in its body."""
        response = self.client.get(url, params=params, headers=headers)
        what = f"{url} {params or ''}"
        problems = [f"{what}: names {f!r}" for f in leaks(response.text, self.tmp_path)]
        if response.status_code != status:
            problems.append(f"{what}: status {response.status_code}, not {status}")
        elif reason is not None and response.json()["detail"]["reason"] != reason:
            problems.append(f"{what}: reason is not {reason}: {response.text}")
        self.answers.append((what, response))
        return Answer(response.json() if response.content else None, problems)


@dataclass(frozen=True)
class Answer:
    body: Any
    problems: list[str]


@pytest.fixture(scope="module")
def shapes() -> Shapes:
    return load_shapes(TERRITORY)


@pytest.fixture
def leaky(tmp_path: Path, shapes: Shapes) -> Leaky:
    conventions = tmp_path / "conventions"
    keys = tmp_path / "keys"
    shutil.copytree(CONVENTIONS, conventions)
    shutil.copytree(KEYS, keys)
    audit = MemoryAuditSink()
    tokens = TokenStore(tmp_path / "access", scrypt_n=2**10)
    clock = Clock(IN_FORCE)
    app = create_app(
        HubSettings(state_dir=tmp_path),
        demo_view(),
        audit=audit,
        tokens=tokens,
        governance=Governance(conventions, CATALOG, keys),
        shapes=shapes,
        metrics=HubMetrics(),
        clock=clock,
    )
    return Leaky(AppClient(app), tokens, audit, clock, conventions, keys, tmp_path)


def forbidden_fragments(tmp_path: Path) -> list[str]:
    """The fragments of this run's paths, and the fixed ones, that must not leave."""
    fragments = [str(ROOT), str(tmp_path), str(KEYS), *FORBIDDEN]
    for directory in (ROOT, tmp_path):
        fragments += [f"/{part}" for part in directory.parts[1:]]
    return fragments


def leaks(body: str, tmp_path: Path) -> list[str]:
    """The fragments of server paths `body` names."""
    return [fragment for fragment in forbidden_fragments(tmp_path) if fragment in body]


def test_the_check_would_see_a_key_path(tmp_path: Path) -> None:
    assert leaks(f"no trusted public key for caf33 in {tmp_path / 'keys'}", tmp_path)
    assert leaks(f"no trusted public key for caf33 in {KEYS}", tmp_path)
    assert leaks("no trusted public key for caf33", tmp_path) == []


# ---- 401


def test_401_answers(leaky: Leaky) -> None:
    leaky.tokens.issue("observatoire-bordeaux")
    problems = leaky.get("/v1/indicators", 401, reason="missing_token").problems
    assert problems == []
    wrong = {"Authorization": "Bearer 0123456789abcdef.not-a-token"}
    problems = leaky.get(
        "/v1/indicators/caf_allocataires", 401, headers=wrong, reason="invalid_token"
    ).problems
    assert problems == []
    problems = leaky.get("/v1/releases", 401, headers={"Authorization": "Bearer"}).problems
    assert problems == []


# ---- 403, for every way consent is refused


def test_403_when_the_consumer_is_not_named(leaky: Leaky) -> None:
    cabinet = leaky.token("cabinet-etudes")
    problems = leaky.get("/v1/indicators", 403, headers=cabinet, reason="no_consent").problems
    assert problems == []
    problems = leaky.get("/v1/releases", 403, headers=cabinet, reason="no_consent").problems
    assert problems == []
    problems = leaky.get(
        "/v1/indicators/caf_allocataires", 403, headers=cabinet, reason="consumer_not_named"
    ).problems
    assert problems == []
    problems = leaky.get(
        "/v1/releases",
        403,
        params={"indicator": "defm_cat_a"},
        headers=cabinet,
        reason="consumer_not_named",
    ).problems
    assert problems == []
    agora = leaky.token("agora-le-bouscat")
    problems = leaky.get("/v1/indicators/defm_cat_a", 403, headers=agora).problems
    assert problems == []


def test_403_when_a_party_key_is_withdrawn(leaky: Leaky) -> None:
    # The CAF's key leaves the trust store: its convention is revoked by withdrawal,
    # which the hub knows by the key store it reads; the consumer learns only that.
    headers = leaky.token("observatoire-bordeaux")
    problems = leaky.get("/v1/indicators/caf_allocataires", 200, headers=headers).problems
    assert problems == []
    (leaky.keys / "caf33.pub").unlink()
    response = leaky.get(
        "/v1/indicators/caf_allocataires", 403, headers=headers, reason="convention_revoked"
    )
    assert response.problems == []
    assert "caf33-obshub v1" in response.body["detail"]["message"]
    problems = leaky.get(
        "/v1/releases",
        403,
        params={"indicator": "caf_allocataires"},
        headers=headers,
        reason="convention_revoked",
    ).problems
    assert problems == []
    agora = leaky.token("agora-le-bouscat")  # reads the CAF's indicators only
    problems = leaky.get("/v1/indicators", 403, headers=agora, reason="no_consent").problems
    assert problems == []


def test_403_when_the_operator_key_is_withdrawn(leaky: Leaky) -> None:
    headers = leaky.token("observatoire-bordeaux")
    (leaky.keys / "hub-operator.pub").unlink()
    problems = leaky.get(
        "/v1/indicators/defm_cat_a", 403, headers=headers, reason="convention_revoked"
    ).problems
    assert problems == []
    problems = leaky.get("/v1/indicators", 403, headers=headers, reason="no_consent").problems
    assert problems == []


def test_403_when_a_convention_is_revoked_by_the_operator(leaky: Leaky) -> None:
    headers = leaky.token("observatoire-bordeaux")
    revocation = Revocation("caf33-obshub", 1, IN_FORCE, REVOCATION_REASON, "hub-operator").signed(
        load_signing_key(KEYS / "hub-operator.key")
    )
    write_revocation(leaky.conventions, revocation)
    response = leaky.get(
        "/v1/indicators/caf_allocataires", 403, headers=headers, reason="convention_revoked"
    )
    assert response.problems == []
    assert "caf33-obshub v1" in response.body["detail"]["message"]


def test_403_when_a_convention_is_tampered_with(leaky: Leaky) -> None:
    headers = leaky.token("agora-le-bouscat")
    path = leaky.conventions / "caf33.yaml"
    path.write_text(path.read_text().replace("raw_retention_days: 7", "raw_retention_days: 8"))
    problems = leaky.get(
        "/v1/indicators/caf_allocataires", 403, headers=headers, reason="no_convention"
    ).problems
    assert problems == []
    problems = leaky.get("/v1/indicators", 403, headers=headers, reason="no_consent").problems
    assert problems == []


def test_403_when_a_convention_is_unsigned(leaky: Leaky) -> None:
    headers = leaky.token("observatoire-bordeaux")
    path = leaky.conventions / "francetravail33.yaml"
    text = path.read_text()
    path.write_text(text[: text.index("signatures:")] + "signatures: {}\n")
    problems = leaky.get(
        "/v1/indicators/defm_cat_a", 403, headers=headers, reason="no_convention"
    ).problems
    assert problems == []


def test_403_when_a_convention_expired(leaky: Leaky) -> None:
    headers = leaky.token("observatoire-bordeaux")
    leaky.clock.now = EXPIRED
    response = leaky.get(
        "/v1/indicators/caf_allocataires", 403, headers=headers, reason="convention_expired"
    )
    assert response.problems == []
    assert "expired" in response.body["detail"]["message"]
    problems = leaky.get("/v1/indicators", 403, headers=headers, reason="no_consent").problems
    assert problems == []


# ---- 404 and 422


@pytest.mark.parametrize(("url", "params", "reason"), NOT_FOUND)
def test_404_answers(leaky: Leaky, url: str, params: dict[str, str], reason: str) -> None:
    headers = leaky.token("observatoire-bordeaux")
    problems = leaky.get(url, 404, params=params, headers=headers, reason=reason).problems
    assert problems == []


def test_a_release_the_consumer_may_not_read_is_404(leaky: Leaky) -> None:
    headers = leaky.token("cabinet-etudes")
    problems = leaky.get(f"/v1/releases/{CAF_APRIL.release_id}", 404, headers=headers).problems
    assert problems == []


def test_an_unknown_route_is_404(leaky: Leaky) -> None:
    headers = leaky.token("observatoire-bordeaux")
    problems = leaky.get("/v1/indicators/..%2F..%2Fetc%2Fpasswd", 404, headers=headers).problems
    assert problems == []
    problems = leaky.get("/v2/indicators", 404, headers=headers).problems
    assert problems == []


def test_422_answers(leaky: Leaky) -> None:
    headers = leaky.token("observatoire-bordeaux")
    url = "/v1/indicators/caf_allocataires"
    for params in ({"level": "Canton 2"}, {"period": "avril"}, {"format": "xlsx"}, {"x": "1"}):
        problems = leaky.get(url, 422, params=params, headers=headers).problems
        assert problems == []
    problems = leaky.get("/v1/releases/NOT-HEX", 422, headers=headers).problems
    assert problems == []
    problems = leaky.get("/v1/releases", 422, params={"period": "avril"}, headers=headers).problems
    assert problems == []


# ---- 503


def test_503_when_conventions_cannot_be_read(leaky: Leaky) -> None:
    headers = leaky.token("observatoire-bordeaux")
    (leaky.conventions / "broken.yaml").write_text("id: [unterminated\n")
    problems = leaky.get(
        "/v1/indicators/caf_allocataires", 503, headers=headers, reason="governance_unavailable"
    ).problems
    assert problems == []
    problems = leaky.get(
        "/v1/indicators", 503, headers=headers, reason="governance_unavailable"
    ).problems
    assert problems == []


def test_503_when_the_keys_cannot_be_read(leaky: Leaky) -> None:
    headers = leaky.token("observatoire-bordeaux")
    (leaky.keys / "caf33.pub").write_text("not a key\n")
    problems = leaky.get(
        "/v1/indicators/caf_allocataires", 503, headers=headers, reason="governance_unavailable"
    ).problems
    assert problems == []
    shutil.rmtree(leaky.keys)
    problems = leaky.get(
        "/v1/releases", 503, headers=headers, reason="governance_unavailable"
    ).problems
    assert problems == []


def test_503_when_the_tokens_cannot_be_read(leaky: Leaky) -> None:
    headers = leaky.token("observatoire-bordeaux")
    (leaky.tmp_path / "access" / TOKENS_FILE).write_text("{not json")
    problems = leaky.get(
        "/v1/indicators", 503, headers=headers, reason="token_store_unavailable"
    ).problems
    assert problems == []


def test_503_when_the_audit_is_unavailable(leaky: Leaky) -> None:
    headers = leaky.token("observatoire-bordeaux")
    leaky.audit.fail = True
    problems = leaky.get(
        "/v1/indicators/caf_allocataires", 503, headers=headers, reason="audit_unavailable"
    ).problems
    assert problems == []
    problems = leaky.get("/v1/releases", 503, headers=headers, reason="audit_unavailable").problems
    assert problems == []


def test_every_status_is_covered(leaky: Leaky) -> None:
    """The checks above cover each status the API documents for errors."""
    headers = leaky.token("observatoire-bordeaux")
    problems = leaky.get("/v1/indicators", 401).problems
    assert problems == []
    problems = leaky.get(
        "/v1/indicators/caf_allocataires", 403, headers=leaky.token("cabinet-etudes")
    ).problems
    assert problems == []
    problems = leaky.get("/v1/indicators/nope", 404, headers=headers).problems
    assert problems == []
    problems = leaky.get(
        "/v1/indicators/caf_allocataires", 422, params={"format": "x"}, headers=headers
    ).problems
    assert problems == []
    leaky.audit.fail = True
    problems = leaky.get("/v1/indicators", 503, headers=headers).problems
    assert problems == []
    assert {r.status_code for _, r in leaky.answers} == {401, 403, 404, 422, 503}
