"""Confidentiality after a demo run: nothing identifying, no secret, where it should not be.

The module fixture runs the demo for real on the session's broker: tokens
issued with `obshub access token`, the demo partners' synthetic extracts
(with some faulty rows) published with `obshub connector publish`, the
worker and the API running (package fixtures), the indicators released and
read through the API and the consumer's Kafka topic. Then it reads every
topic as the admin, every log and every file of the state dir, and looks for:

- raw identifiers of the extracts (`matricule`, `identifiant`, ...): nowhere;
- grid cells (`carreau`) and coordinates of person-level records: nowhere;
- IRIS codes of person-level records: not on the drops topics, `hub.quarantine`,
  `hub.audit`, nor in the logs (indicator rows carry IRIS codes by design);
- the principals' SCRAM passwords and the broker's: only in
  `credentials/<principal>*.properties` (each its own), `kafka/server.properties`
  and `kafka/broker.password` (the broker's);
- API bearer tokens, or their secret part: nowhere (`access/tokens.json` keeps
  a scrypt hash).

The generator's identifiers get a per-run tag (`2771201` becomes
`2771201ZQKMWX`): bare 7- or 8-digit numbers also occur by chance in logs and
Kafka's files (buffer sizes, timeouts), and the suite must not flake on them.

Every needle set is checked to be found where it is expected (the
extracts, the credentials files), so a broken scanner cannot pass.
"""

from __future__ import annotations

import base64
import csv
import json
import os
import re
import secrets
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from kafka import KafkaConsumer

from connectors.synthetic import generate_columns, write_csv
from contracts.principals import AUDIT_TOPIC, INDICATORS_TOPIC, QUARANTINE_TOPIC, parse_properties
from hub.api.tokens import hash_secret
from hub.stack import Stack
from tests.security.support import DEMO, TopicTail, read_topics

pytestmark = pytest.mark.integration

MONTH, QUARTER, YEAR = "2026-10", "2026-Q4", "2025"
EXTRACTS = {  # dataset: (partner, rows, period)
    "insee.menages": ("insee", 1, YEAR),
    "insee.population": ("insee", 1, YEAR),
    "caf.allocataires": ("caf33", 3000, MONTH),
    "france_travail.demandeurs": ("francetravail33", 2000, MONTH),
    "departement.apa": ("cd33", 1500, QUARTER),
    "ccas.aides": ("ccas-bordeaux", 1000, MONTH),
}
IDENTIFIER_COLUMNS = ("matricule", "identifiant", "id_beneficiaire", "id_demandeur")
INDICATOR_PERIODS = {
    "caf_allocataires": MONTH,
    "caf_bas_revenus_part": MONTH,
    "caf_monoparents_part": MONTH,
    "rsa_pour_100_menages": MONTH,
    "defm_cat_a": MONTH,
    "defm_jeunes_part": MONTH,
    "defm_longue_duree_part": MONTH,
    "apa_domicile_pour_100_75plus": QUARTER,
    "ccas_aides_pour_1000_menages": MONTH,
}
CONSUMERS = ("observatoire-bordeaux", "agora-le-bouscat", "cabinet-etudes")
KAFKA_CONSUMER = "observatoire-bordeaux"
PASSWORD_HOMES = ("credentials/*.properties", "kafka/server.properties", "kafka/broker.password")
LOCATION_TOPICS = re.compile(r"^(drops\..*|hub\.quarantine|hub\.audit)$")
# offset indexes: preallocated, sparse, positions only (the data is in the .log beside them)
SKIPPED_SUFFIXES = (".index", ".timeindex")

TAG = "Z" + "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXY") for _ in range(5))
DIGITS = re.compile(rb"(?<![0-9])[0-9]{9}(?![0-9])")  # IRIS codes
DECIMAL = re.compile(rb"(?<![0-9.])-?[0-9]{1,3}\.[0-9]{1,9}(?![0-9])")
CARREAU = re.compile(rb"CRS3035RES200mN[0-9]+E[0-9]+")


# -- needles --------------------------------------------------------------------------


@dataclass
class Needles:
    identifiers: set[bytes] = field(default_factory=set)
    carreaux: set[bytes] = field(default_factory=set)
    coordinates: set[bytes] = field(default_factory=set)  # as written in the extract
    doubles: set[int] = field(default_factory=set)  # the same, as IEEE-754 bit patterns
    iris: set[bytes] = field(default_factory=set)  # of person-level records
    passwords: dict[bytes, str] = field(default_factory=dict)  # password: whose
    tokens: dict[bytes, str] = field(default_factory=dict)  # token or its secret: whose

    def add_extract(self, path: Path) -> None:
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle, delimiter=";"):
                for column in IDENTIFIER_COLUMNS:
                    if row.get(column):
                        self.identifiers.add(row[column].encode())
                if CARREAU.fullmatch((row.get("carreau") or "").encode()):
                    self.carreaux.add(row["carreau"].encode())
                for column in ("lon", "lat"):
                    value = row.get(column) or ""
                    if DECIMAL.fullmatch(value.encode()):
                        self.coordinates.add(value.encode())
                        self.doubles.add(struct.unpack("<Q", struct.pack("<d", float(value)))[0])
                person_level = any(row.get(c) for c in IDENTIFIER_COLUMNS)
                if person_level and DIGITS.fullmatch((row.get("iris") or "").encode()):
                    self.iris.add(row["iris"].encode())

    def raw_values_in(self, data: bytes) -> set[bytes]:
        """Identifiers, grid cells and coordinate strings of person-level records."""
        found = {
            data[max(0, at - width) : at + len(TAG)]
            for at in (m.start() for m in re.finditer(TAG.encode(), data))
            for width in range(7, 11)
        } & self.identifiers
        found |= set(CARREAU.findall(data)) & self.carreaux
        found |= set(DECIMAL.findall(data)) & self.coordinates
        return found

    def iris_in(self, data: bytes) -> set[bytes]:
        return set(DIGITS.findall(data)) & self.iris

    def doubles_in(self, data: bytes) -> int:
        """How many 8-byte windows of `data` hold a coordinate's double."""
        wanted = np.fromiter(self.doubles, dtype=np.uint64)
        hits = 0
        for start in range(min(8, len(data))):
            usable = (len(data) - start) // 8 * 8
            words = np.frombuffer(data, dtype="<u8", count=usable // 8, offset=start)
            hits += int(np.isin(words, wanted).sum())
        return hits

    def passwords_in(self, data: bytes) -> set[str]:
        return {whose for password, whose in self.passwords.items() if password in data}

    def tokens_in(self, data: bytes) -> set[str]:
        return {whose for token, whose in self.tokens.items() if token in data}


# -- the demo run -----------------------------------------------------------------------


def cli_env(stack: Stack) -> dict[str, str]:
    return dict(
        os.environ,
        OBSHUB_STATE_DIR=str(stack.settings.state_dir),
        OBSHUB_KAFKA_PORT=str(stack.settings.kafka_port),
        OBSHUB_CHUNK_SIZE="500",
        OBSHUB_LOG_LEVEL="INFO",
    )


def run_all(stack: Stack, commands: list[list[str]]) -> list[subprocess.CompletedProcess[str]]:
    """`python -m hub.cli` commands, run side by side."""
    running = [
        subprocess.Popen(
            [sys.executable, "-m", "hub.cli", *args],
            env=cli_env(stack),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for args in commands
    ]
    done = []
    for args, process in zip(commands, running, strict=True):
        out, err = process.communicate(timeout=180)
        done.append(subprocess.CompletedProcess(args, process.returncode, out, err))
    return done


@dataclass
class Run:
    stack: Stack
    needles: Needles
    extracts_dir: Path
    outputs: dict[str, str]  # CLI runs' stdout + stderr and the reports they wrote
    released: dict[str, set[str]]  # topic: the indicators seen for our periods
    served: dict[tuple[str, str, str], int]  # (consumer, indicator, format): status


RELEASE_TOPICS = [INDICATORS_TOPIC, f"indicators.{KAFKA_CONSUMER}"]


def released(events: list[tuple[str, dict[str, Any]]]) -> dict[str, set[str]]:
    """The indicators seen for our periods, by topic."""
    seen: dict[str, set[str]] = {topic: set() for topic in RELEASE_TOPICS}
    for topic, row in events:
        if INDICATOR_PERIODS.get(row["indicator"]) == row["period"]:
            seen[topic].add(row["indicator"])
    return seen


@pytest.fixture(scope="module")
def demo(worker: Stack, api: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    stack = worker
    directory = tmp_path_factory.mktemp("extracts")
    needles = Needles()
    seed = secrets.randbelow(1000) + 100
    commands: list[list[str]] = [["access", "token", consumer] for consumer in CONSUMERS]
    for dataset, (partner, rows, period) in EXTRACTS.items():
        path = directory / f"{dataset}.csv"
        generated = generate_columns(dataset, rows, MONTH if period == QUARTER else period, seed)
        for column in IDENTIFIER_COLUMNS:
            if column in generated:
                generated[column] = np.char.add(generated[column].astype(str), TAG)
        write_csv(path, generated, faults=0.0 if dataset.startswith("insee") else 0.03, seed=seed)
        needles.add_extract(path)
        commands.append(
            [
                "connector",
                "publish",
                "--convention",
                str(DEMO / "conventions" / f"{partner}.yaml"),
                "--source",
                str(path),
                "--period",
                period,
                "--dataset",
                dataset,
                "--report",
                str(directory / f"{dataset}.report.json"),
                "--quiet",
            ]
        )
    tail = TopicTail(stack.credentials.get("hub"), RELEASE_TOPICS)
    try:
        results = run_all(stack, commands)
        for result in results:
            assert result.returncode == 0, (result.args, result.stderr[-2000:])
        every = set(INDICATOR_PERIODS)
        events = tail.wait_for(
            lambda events: all(s == every for s in released(events).values()), timeout_s=120
        )
    finally:
        tail.close()
    tokens = {
        c: r.stdout.strip().splitlines()[-1] for c, r in zip(CONSUMERS, results[:3], strict=True)
    }
    outputs = {f"publish {r.args[-4]}": r.stdout + r.stderr for r in results[3:]}
    for report in directory.glob("*.report.json"):
        outputs[report.name] = report.read_text(encoding="utf-8")
    for consumer, token in tokens.items():
        needles.tokens[token.encode()] = f"{consumer}'s token"
        needles.tokens[token.split(".", 1)[1].encode()] = f"{consumer}'s token secret"
    for path in sorted(stack.settings.credentials_dir.glob("*.properties")):
        if path.name.endswith(".librdkafka.properties"):
            continue
        password = parse_properties(path.read_text(encoding="utf-8"))["sasl.jaas.config"]
        match = re.search(r'password="([^"]+)"', password)
        assert match, path
        needles.passwords[match.group(1).encode()] = path.stem
    broker = (stack.settings.kafka_dir / "broker.password").read_text(encoding="utf-8").strip()
    needles.passwords[broker.encode()] = "broker"

    served: dict[tuple[str, str, str], int] = {}
    with httpx.Client(base_url=api, timeout=30) as http:
        observatory = {"Authorization": f"Bearer {tokens['observatoire-bordeaux']}"}
        deadline = time.monotonic() + 30
        for indicator, period in INDICATOR_PERIODS.items():  # the API's view catches up
            url, params = f"/v1/indicators/{indicator}", {"period": period}
            while http.get(url, params=params, headers=observatory).status_code != 200:
                assert time.monotonic() < deadline, f"the API never served {indicator} {period}"
                time.sleep(0.2)
        for consumer, token in tokens.items():
            headers = {"Authorization": f"Bearer {token}"}
            served[(consumer, "(catalog)", "json")] = http.get(
                "/v1/indicators", headers=headers
            ).status_code
            for indicator, period in INDICATOR_PERIODS.items():
                for fmt in ("json", "csv", "geojson"):
                    response = http.get(
                        f"/v1/indicators/{indicator}",
                        params={"period": period, "format": fmt},
                        headers=headers,
                    )
                    served[(consumer, indicator, fmt)] = response.status_code
        wrong = tokens["agora-le-bouscat"][:-2] + "xx"
        assert (
            http.get("/v1/indicators", headers={"Authorization": f"Bearer {wrong}"}).status_code
            == 401
        )
    consumer = KafkaConsumer(
        f"indicators.{KAFKA_CONSUMER}",
        **stack.credentials.get(KAFKA_CONSUMER).kafka_python_config(),
        group_id=f"{KAFKA_CONSUMER}-confidentiality-{secrets.token_hex(3)}",
        auto_offset_reset="earliest",
        consumer_timeout_ms=3000,
    )
    assert next(iter(consumer)).value
    consumer.close()
    yield Run(stack, needles, directory, outputs, released(events), served)


# -- the scan ---------------------------------------------------------------------------


@dataclass
class Findings:
    raw_values: list[str] = field(default_factory=list)
    iris: list[str] = field(default_factory=list)
    doubles: list[str] = field(default_factory=list)
    passwords: list[str] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    scanned: dict[str, int] = field(default_factory=dict)  # what: bytes


def sample(found: set[bytes]) -> str:
    return ", ".join(sorted(v.decode(errors="replace") for v in found)[:3])


def scan(needles: Needles, findings: Findings, where: str, data: bytes, *, locations: bool) -> None:
    if found := needles.raw_values_in(data):
        findings.raw_values.append(f"{where}: {len(found)} value(s), e.g. {sample(found)}")
    if locations and (found := needles.iris_in(data)):
        findings.iris.append(f"{where}: {len(found)} IRIS code(s), e.g. {sample(found)}")
    if locations and (hits := needles.doubles_in(data)):
        findings.doubles.append(f"{where}: {hits} coordinate(s) as doubles")
    if whose := needles.passwords_in(data):
        findings.passwords.append(f"{where}: password of {', '.join(sorted(whose))}")
    if whose := needles.tokens_in(data):
        findings.tokens.append(f"{where}: {', '.join(sorted(whose))}")


def password_owner(state: Path, path: Path) -> str | None:
    """Whose password `path` is designed to hold, if it is one of their homes."""
    if not any(path in state.glob(pattern) for pattern in PASSWORD_HOMES):
        return None
    if path.parent.name == "credentials":
        return path.name.split(".", 1)[0]
    return "broker"


@pytest.fixture(scope="module")
def findings(demo: Run) -> Findings:
    needles, stack = demo.needles, demo.stack
    result = Findings()
    topics = read_topics(stack.admin_credentials(), include_internal=True)
    for topic, records in sorted(topics.items()):
        data = b"\n".join((r.key or b"") + b"\n" + (r.value or b"") for r in records)
        result.scanned[f"topic {topic}"] = len(data)
        scan(needles, result, f"topic {topic}", data, locations=bool(LOCATION_TOPICS.match(topic)))
    state = stack.settings.state_dir.resolve()
    for path in sorted(p for p in state.rglob("*") if p.is_file()):
        if path.suffix in SKIPPED_SUFFIXES:
            continue
        relative = path.relative_to(state)
        data = path.read_bytes()
        result.scanned[f"file {relative}"] = len(data)
        owner = password_owner(state, path)
        if owner is not None:  # its owner's password, no one else's
            if (whose := needles.passwords_in(data)) != {owner}:
                result.passwords.append(f"file {relative}: holds {sorted(whose)}, not {owner}'s")
            for password in needles.passwords:
                data = data.replace(password, b"")
        is_log = relative.parts[0] == "logs"
        scan(needles, result, f"file {relative}", data, locations=is_log)
    for name, text in demo.outputs.items():
        scan(needles, result, f"output of {name}", text.encode(), locations=True)
    return result


# -- the tests ---------------------------------------------------------------------------


def test_the_demo_ran_and_the_scanner_finds_what_is_there(demo: Run) -> None:
    assert demo.released[INDICATORS_TOPIC] == set(INDICATOR_PERIODS)
    assert demo.released[f"indicators.{KAFKA_CONSUMER}"] == set(INDICATOR_PERIODS)
    granted = {k for k, status in demo.served.items() if status == 200}
    assert len([k for k in granted if k[0] == "observatoire-bordeaux"]) == 1 + 9 * 3
    assert len([k for k in granted if k[0] == "agora-le-bouscat"]) == 1 + 3 * 3
    assert not [k for k in granted if k[0] == "cabinet-etudes"]
    needles = demo.needles
    assert len(needles.identifiers) > 7000 and needles.carreaux and needles.coordinates
    assert len(needles.passwords) >= 8 and len(needles.tokens) == 6
    extracts = b"".join(p.read_bytes() for p in demo.extracts_dir.glob("*.csv"))
    everything = needles.identifiers | needles.carreaux | needles.coordinates
    assert needles.raw_values_in(extracts) == everything
    assert needles.iris_in(extracts) == needles.iris
    coordinate = float(sorted(needles.coordinates)[0])
    assert needles.doubles_in(b"\x01\x02\x03" + struct.pack("<d", coordinate) + b"\x04") == 1


def test_no_raw_value_of_a_person_level_record_anywhere(findings: Findings) -> None:
    """Identifiers, grid cells, coordinates: not on any topic, in any log or state file."""
    assert findings.scanned, "nothing was scanned"
    assert findings.raw_values == []


def test_no_iris_code_of_a_person_level_record_outside_the_seal(findings: Findings) -> None:
    """Drops, quarantine, audit and logs carry no IRIS code or coordinate of a record."""
    assert any(w.startswith("topic drops.") for w in findings.scanned)
    assert findings.iris == []
    assert findings.doubles == []


def test_passwords_only_in_their_homes(demo: Run, findings: Findings) -> None:
    assert findings.passwords == []
    state = demo.stack.settings.state_dir
    homes = [p for pattern in PASSWORD_HOMES for p in state.glob(pattern)]
    assert homes
    for path in homes:
        assert path.stat().st_mode & 0o077 == 0, f"{path} is readable by others"
    assert demo.stack.settings.credentials_dir.stat().st_mode & 0o077 == 0


def test_tokens_nowhere_their_hashes_in_tokens_json(demo: Run, findings: Findings) -> None:
    assert findings.tokens == []
    path = demo.stack.settings.access_dir / "tokens.json"
    assert path.stat().st_mode & 0o077 == 0
    stored = json.loads(path.read_text(encoding="utf-8"))["tokens"]
    for token, whose in demo.needles.tokens.items():
        if not whose.endswith("token"):
            continue
        consumer = whose.removesuffix("'s token")
        token_id, secret = token.decode().split(".", 1)
        record = stored[consumer]
        assert record["id"] == token_id
        params = record["scrypt"]
        digest = hash_secret(
            secret, base64.b64decode(record["salt"]), params["n"], params["r"], params["p"]
        )
        assert base64.b64decode(record["hash"]) == digest
        assert set(record) == {"id", "salt", "hash", "scrypt", "issued_at"}


def test_the_scan_covered_topics_logs_and_state(findings: Findings) -> None:
    names = set(findings.scanned)
    for expected in (
        f"topic {QUARANTINE_TOPIC}",
        f"topic {AUDIT_TOPIC}",
        f"topic {INDICATORS_TOPIC}",
        "topic hub.aggregates",
        "file logs/kafka.log",
        "file logs/worker.log",
        "file logs/api.log",
        "file access/tokens.json",
    ):
        assert expected in names, sorted(names)[:50]
    assert any(n.startswith("topic obshub-hub-") for n in names)
    assert any(n.startswith("file kafka/data/") for n in names)
