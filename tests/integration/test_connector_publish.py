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
        [sys.executable, "-m", "hub.cli", "connector", "publish", *args],
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
