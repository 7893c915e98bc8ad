"""A live hub with many partners: the onboarding runbook, drafts, receipts, renewal, revocation.

One private stack (worker and API) reads a copy of the demo conventions
*without* the CCAS of Le Bouscat and a trust store without its key, and
does not create its topic in advance: the runbook (docs/onboarding.md)
onboards it while everything runs, its shell blocks run as written, and
the rest of the module changes the conventions under the running hub the
way an operator would, each change checked on every channel.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer
from kafka.errors import KafkaError

from contracts.principals import AUDIT_TOPIC, consumer_topic, receipts_topic
from hub.settings import HubSettings
from hub.stack import Stack
from hub.stack.services import child_environment
from tests.support.conventions import variant, write_signed
from tests.support.drops import build_drop, caf_record
from tests.support.published import DEMO, ROOT, write_extract
from tests.support.stacks import private_stack, publish_insee
from tests.support.wire import (
    Sent,
    build_extract_drop,
    by_drop,
    decoded,
    produce,
    scrape,
    total,
    wait_until,
)

pytestmark = pytest.mark.integration
RUNBOOK = ROOT / "docs" / "onboarding.md"
NEWCOMER = "ccas-le-bouscat"
CCAS = "ccas_aides_pour_1000_menages"
OBSERVATORY = "observatoire-bordeaux"
APPLIED_WITHIN_S = 10.0


def last_month(today: dt.date | None = None) -> str:
    first = (today or dt.datetime.now(dt.UTC).date()).replace(day=1)
    before = first - dt.timedelta(days=1)
    return f"{before.year:04d}-{before.month:02d}"


PERIOD = last_month()


def runbook_blocks() -> list[tuple[str, str]]:
    """(who, script) for each shell block of the runbook, in order."""
    text = RUNBOOK.read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.DOTALL)
    found = []
    for block in blocks:
        who, _, script = block.partition("\n")
        assert who in ("# operator", "# partner"), f"a runbook block says who runs it: {who}"
        found.append((who[2:], script))
    return found


@dataclass
class Live:
    stack: Stack
    hub_dir: Path
    keys_dir: Path
    work: Path  # where the runbook's commands run
    scratch: Path

    @property
    def env(self) -> dict[str, str]:
        """The hub operator's environment: the stack's settings, the project's `obshub`."""
        env = child_environment(self.stack.settings)
        env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
        return env

    def run(self, script: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=self.work,
            env={**self.env, **extra},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def obshub(self, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "hub.cli", *args],
            cwd=self.work,
            env={**self.env, **extra},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def get(self, path: str, token: str) -> tuple[int, Any]:
        request = urllib.request.Request(
            f"{self.stack.settings.api_url}{path}", headers={"Authorization": f"Bearer {token}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def token(self, consumer: str = OBSERVATORY) -> str:
        issued = self.obshub("access", "token", consumer)
        assert issued.returncode == 0, issued.stderr
        return issued.stdout.strip()

    def metric(self, name: str, **labels: str) -> float:
        return total(scrape(self.stack.settings.metrics_url), name, **labels)

    def standing(self, convention: str, standing: str) -> bool:
        return (
            self.metric("obshub_convention_standing", convention=convention, standing=standing) == 1
        )

    def receipt(self, partner: str, drop_id: str) -> dict[str, Any]:
        return wait_until(
            lambda: by_drop(
                decoded(self.stack.admin_credentials(), receipts_topic(partner)), drop_id
            ),
            60,
            f"the receipt of {drop_id}",
        )[-1]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    hub_dir = tmp_path_factory.mktemp("conventions")
    for path in (DEMO / "conventions").glob("*.yaml"):
        if path.stem != NEWCOMER:
            shutil.copy(path, hub_dir / path.name)
    keys_dir = tmp_path_factory.mktemp("keys")
    for path in (DEMO / "keys").iterdir():
        if not path.name.startswith(NEWCOMER):
            shutil.copy(path, keys_dir / path.name)
    partners = tuple(p for p in HubSettings().partners if p != NEWCOMER)
    state = tmp_path_factory.mktemp("live-stack")
    with private_stack(
        state,
        ("worker", "api"),
        conventions_dir=hub_dir,
        keys_dir=keys_dir,
        partners=partners,
    ) as stack:
        scratch = tmp_path_factory.mktemp("extracts")
        publish_insee(stack, scratch)
        work = tmp_path_factory.mktemp("runbook")
        yield Live(stack, hub_dir, keys_dir, work, scratch)


def communes_of(extract: Path, commune: str) -> int:
    with extract.open(encoding="utf-8", newline="") as handle:
        return sum(1 for row in csv.DictReader(handle, delimiter=";") if row["iris"][:5] == commune)


def test_the_runbook_onboards_a_second_ccas_on_a_running_hub(live: Live) -> None:
    bordeaux = write_extract(live.scratch, "ccas.aides", 1200, PERIOD, 31)
    _, sent = build_extract_drop(
        live.stack, DEMO / "conventions" / "ccas-bordeaux.yaml", bordeaux, PERIOD
    )
    produce(live.stack.credentials.get("ccas-bordeaux"), sent)
    assert not (live.stack.settings.credentials_dir / f"{NEWCOMER}.properties").exists()

    for who, script in runbook_blocks():
        done = live.run(script)
        assert done.returncode == 0, f"{who} block failed:\n{script}\n{done.stdout}\n{done.stderr}"

    receipt = json.loads((live.work / "partner" / "report.json").read_text())
    assert receipt["hub"]["outcome"] == "accepted"
    assert receipt["hub"]["records_aggregated"] == receipt["rows_accepted"] > 0
    rows = {r["code"]: r for r in json.loads((live.work / "commune.json").read_text())["rows"]}
    # each commune's figures from its own CCAS, exactly, neither erasing the other
    assert rows["33063"]["numerator"] == communes_of(bordeaux, "33063")
    assert rows["33069"]["numerator"] == communes_of(live.work / "partner" / "aides.csv", "33069")
    assert rows["33063"]["status"] == rows["33069"]["status"] == "ok"


def test_a_draft_is_never_provisioned_and_changes_nothing_for_consumers(live: Live) -> None:
    token = live.token()
    path = f"/v1/indicators/{CCAS}?level=commune&period={PERIOD}"
    status, before = live.get(path, token)
    assert status == 200
    made = live.obshub("convention", "keygen", "ccas-pessac", "--dir", str(live.work / "pessac"))
    assert made.returncode == 0, made.stderr
    text = variant(NEWCOMER, convention_id="ccas-pessac-obshub").replace(
        f"producer: {NEWCOMER}", "producer: ccas-pessac"
    )
    text = text[: text.index("signatures:")]  # a new draft: nobody has signed yet
    draft = live.work / "ccas-pessac.yaml"
    draft.write_text(text, encoding="utf-8")
    signed = live.obshub(
        "convention", "sign", str(draft), "--key", str(live.work / "pessac" / "ccas-pessac.key")
    )
    assert signed.returncode == 0, signed.stderr
    shutil.copy(live.work / "pessac" / "ccas-pessac.pub", live.keys_dir)
    shutil.copy(draft, live.hub_dir / "ccas-pessac.yaml")
    assert live.obshub("provision").returncode == 0
    wait_until(lambda: live.standing("ccas-pessac-obshub", "draft"), 20, "the draft seen")

    assert not (live.stack.settings.credentials_dir / "ccas-pessac.properties").exists()
    listed = live.obshub("status", "--json")
    assert listed.returncode == 0
    status, after = live.get(path, token)
    assert status == 200 and after["rows"] == before["rows"]
    report = live.obshub("report")
    assert "ccas-pessac-obshub: DRAFT (not applied): unsigned" in report.stdout


def partner_env(live: Live) -> dict[str, str]:
    """The connector's settings as the runbook's partner block sets them."""
    partner = live.work / "partner"
    return {
        "OBSHUB_KEYS_DIR": str(partner / "keys"),
        "OBSHUB_KAFKA_CONFIG": str(partner / f"{NEWCOMER}.properties"),
        "OBSHUB_TERRITORY_FILE": str(partner / "iris.csv"),
    }


def publish_as_newcomer(live: Live, seed: int, *args: str, **env: str) -> Any:
    extract = live.work / "partner" / f"aides-{seed}.csv"
    made = live.obshub(
        "connector", "generate", "--dataset", "ccas.aides", "--rows", "300", "--period", PERIOD,
        "--communes", "33069", "--seed", str(seed), "--out", str(extract),
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    convention = live.work / "partner" / f"{NEWCOMER}.yaml"
    return live.obshub(
        "connector", "publish", "--convention", str(convention), "--source", str(extract),
        "--period", PERIOD, *args, **{**partner_env(live), **env},
    )  # fmt: skip


def test_a_drop_the_hub_rejects_makes_publish_exit_1_with_the_hubs_reason(live: Live) -> None:
    wrong = publish_as_newcomer(live, 41, OBSHUB_SIGNING_KEY_FILE=str(DEMO / "keys" / "caf33.key"))
    assert wrong.returncode == 1, wrong.stdout + wrong.stderr
    [line] = wrong.stderr.strip().splitlines()
    assert "rejected by the hub: bad_signature" in line
    assert "REJECTED by the hub: bad_signature" in wrong.stdout


def test_a_period_that_has_not_started_is_refused_at_both_ends(live: Live) -> None:
    future = (dt.datetime.now(dt.UTC).year + 1, 6)
    period = f"{future[0]}-{future[1]:02d}"
    refused = publish_as_newcomer(live, 42)
    assert refused.returncode == 0  # the same extract for the current period is fine
    extract = live.work / "partner" / "aides-42.csv"
    convention = live.work / "partner" / f"{NEWCOMER}.yaml"
    early = live.obshub(
        "connector", "publish", "--convention", str(convention), "--source", str(extract),
        "--period", period, **partner_env(live),
    )  # fmt: skip
    assert early.returncode == 1 and f"{period}" in early.stderr
    assert "has not started" in early.stderr and len(early.stderr.strip().splitlines()) == 1
    drop = build_drop([caf_record(i) for i in range(30)], period=period, drop_id="f" * 32)
    produce(live.stack.credentials.get("caf33"), [Sent(m.topic, m.key, m.value) for m in drop])
    receipt = live.receipt("caf33", "f" * 32)
    assert (receipt["outcome"], receipt["reason"]) == ("rejected", "future_period")


def test_renewing_insees_convention_keeps_releases_flowing(live: Live) -> None:
    write_signed(live.hub_dir / "insee-v2.yaml", variant("insee", version=2))
    wait_until(
        lambda: any(
            e["action"] == "convention" and e["reason"] == "insee-obshub v2 in_force"
            for e in decoded(live.stack.admin_credentials(), AUDIT_TOPIC)
        ),
        APPLIED_WITHIN_S + 5,
        "the renewal applied",
    )
    # INSEE's households, accepted under v1, still serve the CAF's new month
    month = last_month(dt.date.fromisoformat(f"{PERIOD}-01"))
    caf = write_extract(live.scratch, "caf.allocataires", 2000, month, 43)
    _, sent = build_extract_drop(live.stack, DEMO / "conventions" / "caf33.yaml", caf, month)
    produce(live.stack.credentials.get("caf33"), sent)
    token = live.token()
    rsa = f"/v1/indicators/rsa_pour_100_menages?level=commune&period={month}"

    def released() -> Any:
        status, body = live.get(rsa, token)
        return body if status == 200 else None

    body = wait_until(released, 60, "the rsa release after the renewal")
    assert all(r["denominator"] for r in body["rows"] if r["status"] == "ok")
    # an INSEE drop made with the outdated v1 copy is refused as such
    insee = write_extract(live.scratch, "insee.menages", 1, "2026", 44)
    report, sent = build_extract_drop(
        live.stack, DEMO / "conventions" / "insee.yaml", insee, "2026", "insee.menages"
    )
    produce(live.stack.credentials.get("insee"), sent)
    receipt = live.receipt("insee", report.drop_id)
    assert (receipt["outcome"], receipt["reason"]) == ("rejected", "convention_superseded")


def test_revocation_by_command_stops_everything_within_10_s(live: Live) -> None:
    token = live.token()
    path = f"/v1/indicators/{CCAS}?level=commune&period={PERIOD}"
    assert live.get(path, token)[0] == 200
    delivered_before = len(decoded(live.stack.admin_credentials(), consumer_topic(OBSERVATORY)))
    revoked = live.obshub(
        "convention", "revoke", f"{NEWCOMER}-obshub", "--reason", "fin de la convention",
        "--key", str(live.keys_dir / "hub-operator.key"),
    )  # fmt: skip
    assert revoked.returncode == 0, revoked.stderr
    started = time.monotonic()
    status, body = live.get(path, token)
    assert (status, body["detail"]["reason"]) == (403, "convention_revoked")
    wait_until(lambda: live.standing(f"{NEWCOMER}-obshub", "revoked"), APPLIED_WITHIN_S, "revoked")
    assert live.obshub("provision").returncode == 0
    assert time.monotonic() - started < APPLIED_WITHIN_S + 20  # provisioning waits for the ACLs

    # the partner may no longer write; a drop already in flight is rejected
    with pytest.raises(KafkaError):
        creds = live.stack.credentials.get(NEWCOMER)
        producer = KafkaProducer(**creds.kafka_python_config(), acks="all")
        try:
            producer.send(f"drops.{NEWCOMER}", key=b"x", value=b"y").get(timeout=20)
        finally:
            producer.close()
    extract = write_extract(live.scratch, "ccas.aides", 300, PERIOD, 45)
    report, sent = build_extract_drop(
        live.stack, DEMO / "conventions" / f"{NEWCOMER}.yaml", extract, PERIOD
    )
    produce(live.stack.admin_credentials(), sent)
    receipt = live.receipt(NEWCOMER, report.drop_id)
    assert (receipt["outcome"], receipt["reason"]) == ("rejected", "convention_revoked")

    # no release and no delivery of what needs it: a new Bordeaux drop is held
    bordeaux = write_extract(live.scratch, "ccas.aides", 900, PERIOD, 46)
    _, sent = build_extract_drop(
        live.stack, DEMO / "conventions" / "ccas-bordeaux.yaml", bordeaux, PERIOD
    )
    produce(live.stack.credentials.get("ccas-bordeaux"), sent)
    wait_until(
        lambda: live.metric("obshub_indicator_stale", indicator=CCAS, reason="convention_revoked"),
        30,
        "the CCAS indicator held",
    )
    delivered = decoded(live.stack.admin_credentials(), consumer_topic(OBSERVATORY))
    assert not [r for r in delivered[delivered_before:] if r["indicator"] == CCAS]
    assert "REVOKED: revoked_by_operator" in live.obshub("report").stdout


def test_removing_a_partners_key_revokes_its_convention_within_10_s(live: Live) -> None:
    token = live.token()
    path = "/v1/indicators/apa_domicile_pour_100_75plus"
    assert live.get(path, token)[1].get("detail", {}).get("reason") != "convention_revoked"
    started = time.monotonic()
    os.remove(live.keys_dir / "cd33.pub")
    status, body = live.get(path, token)
    assert (status, body["detail"]["reason"]) == (403, "convention_revoked")
    wait_until(lambda: live.standing("cd33-obshub", "revoked"), APPLIED_WITHIN_S, "key removal")
    assert time.monotonic() - started < APPLIED_WITHIN_S
    apa = write_extract(live.scratch, "departement.apa", 300, "2026-08", 47)
    report, sent = build_extract_drop(
        live.stack, DEMO / "conventions" / "cd33.yaml", apa, "2026-Q3", "departement.apa"
    )
    produce(live.stack.credentials.get("cd33"), sent)
    receipt = live.receipt("cd33", report.drop_id)
    assert (receipt["outcome"], receipt["reason"]) == ("rejected", "convention_revoked")
