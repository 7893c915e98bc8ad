"""`obshub connector publish` against the real broker, as a partner runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from kafka import KafkaConsumer, TopicPartition

from hub.stack import Stack
from schemas.catalog import load_catalog
from schemas.codec import decode_message

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
CAF = ROOT / "deploy" / "demo" / "conventions" / "caf33.yaml"
HEADER = "matricule;iris;age_responsable;type_foyer;nb_enfants;bas_revenus;rsa;aah;aide_logement"


def run_cli(
    stack: Stack, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = dict(os.environ, OBSHUB_STATE_DIR=str(stack.settings.state_dir), **(env or {}))
    return subprocess.run(
        # no worker on the session stack: the wire is checked here, receipts elsewhere
        [sys.executable, "-m", "hub.cli", "connector", "publish", "--no-wait", *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def drop_messages(stack: Stack, drop_id: str) -> list[str]:
    hub = stack.credentials.get("hub")
    consumer = KafkaConsumer(
        **hub.kafka_python_config(), enable_auto_commit=False, group_id="obshub-hub-test-publish"
    )
    parts = [TopicPartition("drops.caf33", p) for p in range(3)]
    consumer.assign(parts)
    consumer.seek_to_beginning(*parts)
    kinds = []
    catalog = load_catalog()
    for _ in range(20):
        for records in consumer.poll(timeout_ms=500).values():
            kinds += [
                decode_message(catalog, r.value)[0].name
                for r in records
                if r.key == drop_id.encode()
            ]
        if kinds and kinds[-1] == "drop_trailer":
            break
    consumer.close()
    return kinds


def test_publish_lands_a_whole_drop(kafka_stack: Stack, tmp_path: Path) -> None:
    source = tmp_path / "caf.csv"
    rows = [f"{i};330630101;{30 + i % 40};isole;0;1;0;0;1" for i in range(9000)]
    source.write_text("\n".join([HEADER, *rows, "x;33063;1;isole;0;0;0;0;0"]) + "\n")
    report = tmp_path / "report.json"
    result = run_cli(
        kafka_stack,
        "--convention",
        str(CAF),
        "--source",
        str(source),
        "--period",
        "2026-10",
        "--report",
        str(report),
        env={"OBSHUB_CHUNK_SIZE": "4000"},
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(report.read_text())
    assert (data["rows_read"], data["rows_accepted"], data["rows_rejected"]) == (9001, 9000, 1)
    assert data["rejections"] == {"out_of_domain:iris": 1}
    assert (
        f"drop {data['drop_id']}" in result.stdout and "published to drops.caf33" in result.stdout
    )
    kinds = drop_messages(kafka_stack, data["drop_id"])
    assert kinds == ["drop_header"] + ["drop_chunk"] * 3 + ["drop_trailer"]


def test_publishing_with_another_partners_credentials_is_refused(
    kafka_stack: Stack, tmp_path: Path
) -> None:
    source = tmp_path / "caf.csv"
    source.write_text(HEADER + "\n1;330630101;30;isole;0;1;0;0;1\n")
    other = kafka_stack.credentials.path("francetravail33")
    result = run_cli(
        kafka_stack,
        "--convention",
        str(CAF),
        "--source",
        str(source),
        "--period",
        "2026-10",
        env={"OBSHUB_KAFKA_CONFIG": str(other)},
    )
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last == (
        "obshub: error: publishing to drops.caf33 on "
        f"{kafka_stack.settings.bootstrap_servers} as francetravail33: "
        "not authorised to write this topic"
    )


def topic_bytes(stack: Stack, topic: str) -> list[bytes]:
    """Every key and value of `topic`, read as the admin (the broker's view)."""
    admin = stack.admin_credentials()
    consumer = KafkaConsumer(**admin.kafka_python_config(), enable_auto_commit=False)
    parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
    consumer.assign(parts)
    consumer.seek_to_beginning(*parts)
    ends = consumer.end_offsets(parts)
    blobs: list[bytes] = []
    while any(consumer.position(tp) < ends[tp] for tp in parts):
        for records in consumer.poll(timeout_ms=1000).values():
            blobs += [r.key or b"" for r in records] + [r.value or b"" for r in records]
    consumer.close()
    return blobs


def test_no_identifier_or_raw_value_reaches_the_topic(kafka_stack: Stack, tmp_path: Path) -> None:
    from connectors.synthetic import generate_columns, write_csv

    columns = generate_columns("ccas.aides", 3000, "2026-10", seed=11)
    source = tmp_path / "ccas.csv"
    write_csv(source, columns)
    convention = ROOT / "deploy" / "demo" / "conventions" / "ccas-bordeaux.yaml"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "hub.cli",
            "connector",
            "publish",
            "--convention",
            str(convention),
            "--source",
            str(source),
            "--period",
            "2026-10",
            "--no-wait",
        ],
        env=dict(os.environ, OBSHUB_STATE_DIR=str(kafka_stack.settings.state_dir)),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    everything = b"\n".join(topic_bytes(kafka_stack, "drops.ccas-bordeaux"))
    assert len(everything) > 3000 * 20  # the drop is there, sealed
    needles = {str(v) for v in columns["id_demandeur"]} | {str(v) for v in columns["iris"]}
    needles |= {f"{m:.2f}" for m in columns["montant_eur"][:200]}
    leaked = [n for n in needles if n.encode() in everything]
    assert leaked == []


def test_broker_down_then_retry_completes_the_same_drop(kafka_stack: Stack, tmp_path: Path) -> None:
    from tests.conftest import free_port

    source = tmp_path / "caf.csv"
    source.write_text(
        HEADER
        + "\n"
        + "\n".join(f"{i};330690101;{30 + i % 9};isole;0;1;0;0;1" for i in range(500))
        + "\n"
    )
    dead = tmp_path / "dead.properties"
    creds = kafka_stack.credentials.path("caf33").read_text()
    dead_address = f"127.0.0.1:{free_port()}"
    dead.write_text(creds.replace(kafka_stack.settings.bootstrap_servers, dead_address))
    args = [
        "--convention",
        str(CAF),
        "--source",
        str(source),
        "--period",
        "2026-09",
        "--report",
        str(tmp_path / "r.json"),
    ]
    down = run_cli(kafka_stack, *args, env={"OBSHUB_KAFKA_CONFIG": str(dead)})
    assert down.returncode == 1
    assert down.stderr.strip().splitlines() == [
        f"obshub: error: publishing to drops.caf33 on {dead_address} as caf33: connection "
        "refused: is the broker running at this address?"
    ]
    retry = run_cli(kafka_stack, *args)
    assert retry.returncode == 0, retry.stderr
    drop_id = json.loads((tmp_path / "r.json").read_text())["drop_id"]
    assert drop_messages(kafka_stack, drop_id) == ["drop_header", "drop_chunk", "drop_trailer"]
    again = run_cli(kafka_stack, *args)  # the same extract again: the same drop
    assert json.loads((tmp_path / "r.json").read_text())["drop_id"] == drop_id
    assert again.returncode == 0


def test_wrong_password_is_one_clear_line(kafka_stack: Stack, tmp_path: Path) -> None:
    source = tmp_path / "caf.csv"
    source.write_text(HEADER + "\n1;330630101;30;isole;0;1;0;0;1\n")
    wrong = tmp_path / "wrong.properties"
    wrong.write_text(
        kafka_stack.credentials.path("caf33").read_text().replace('password="', 'password="x')
    )
    result = run_cli(
        kafka_stack,
        "--convention",
        str(CAF),
        "--source",
        str(source),
        "--period",
        "2026-10",
        env={"OBSHUB_KAFKA_CONFIG": str(wrong)},
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    prefix = (
        f"obshub: error: publishing to drops.caf33 on "
        f"{kafka_stack.settings.bootstrap_servers} as caf33: "
    )
    assert len(lines) == 1 and lines[0].startswith(prefix)
    # the broker's refusal is named when kafka-python logged it before its
    # bootstrap gave up; otherwise the line still points at the password
    assert lines[0][len(prefix) :] in (
        "authentication refused (wrong user or password in the client settings)",
        "cannot reach or authenticate to the broker (check the address, the user and the "
        "password in the client settings)",
    )


@pytest.mark.parametrize(
    ("encoding", "bom", "separator", "described"),
    [
        ("cp1252", b"", ",", "CSV, separator ',', Windows-1252"),
        ("utf-8", b"\xef\xbb\xbf", ";", "CSV, separator ';', UTF-8 with BOM"),
    ],
)
def test_french_exports_are_read_as_they_are(
    kafka_stack: Stack, tmp_path: Path, encoding: str, bom: bytes, separator: str, described: str
) -> None:
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        "columns:\n  type_foyer: Type de foyer\n"
        "values:\n  type_foyer: {Isolé: isole, Monoparental: monoparent}\n",
        encoding="utf-8",
    )
    header = HEADER.replace("type_foyer", "Type de foyer").replace(";", separator)
    rows = [
        separator.join(
            [
                str(7000 + i),
                "330630101",
                "41",
                "Isolé" if i % 2 else "Monoparental",
                "1",
                "0",
                "0",
                "0",
                "1",
            ]
        )
        for i in range(300)
    ]
    source = tmp_path / "export.csv"
    source.write_bytes(bom + "\r\n".join([header, *rows]).encode(encoding) + b"\r\n")
    report = tmp_path / "report.json"
    result = run_cli(
        kafka_stack,
        "--convention",
        str(CAF),
        "--source",
        str(source),
        "--period",
        "2026-08",
        "--mapping",
        str(mapping),
        "--report",
        str(report),
    )
    assert result.returncode == 0, result.stderr
    assert f"source: {described}" in result.stdout
    data = json.loads(report.read_text())
    assert (data["rows_read"], data["rows_accepted"], data["rejections"]) == (300, 300, {})
    assert drop_messages(kafka_stack, data["drop_id"]) == [
        "drop_header",
        "drop_chunk",
        "drop_trailer",
    ]
