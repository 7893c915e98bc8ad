"""The connector reads the hub's signed receipts and trusts only the operator's signature."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from connectors.publish import PublishRequest, publish_extract
from connectors.receipts import HubVerdict, ReceiptError, verdict_of
from connectors.settings import ConnectorSettings
from connectors.synthetic import generate_columns, write_csv
from contracts.keys import load_signing_key, load_trust_store
from schemas.catalog import load_catalog
from schemas.codec import encode_message
from schemas.receipts import sign_receipt
from tests.unit.schemas.samples import protocol_samples

ROOT = Path(__file__).resolve().parents[3]
KEYS = ROOT / "deploy" / "demo" / "keys"
CATALOG = load_catalog()
SCHEMA = CATALOG.protocol("receipt")
OPERATOR = load_trust_store(KEYS)["hub-operator"]
NOW = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)


def receipt(drop_id: str = "d1", signer: str = "hub-operator", **changes: Any) -> bytes:
    record = {
        **protocol_samples(b"")["receipt"],
        "drop_id": drop_id,
        "detail": "not signed by this partner's key",
        "records_rejected": {"drop_rejected": 40},
    }
    signed = sign_receipt(record, load_signing_key(KEYS / f"{signer}.key"), SCHEMA)
    return encode_message(SCHEMA, {**signed, **changes})


def test_a_receipt_signed_by_the_operator_gives_the_verdict() -> None:
    verdict = verdict_of(receipt(), "d1", CATALOG, OPERATOR)
    assert verdict == HubVerdict(
        False, "bad_signature", "not signed by this partner's key", 0, {"drop_rejected": 40}
    )
    assert verdict_of(receipt("other"), "d1", CATALOG, OPERATOR) is None


@pytest.mark.parametrize(
    "value",
    [receipt(signer="caf33"), receipt(outcome="accepted")],
    ids=["signed by another key", "verdict changed after signing"],
)
def test_a_receipt_that_does_not_verify_is_an_error_never_a_verdict(value: bytes) -> None:
    with pytest.raises(ReceiptError, match="not signed by the hub operator"):
        verdict_of(value, "d1", CATALOG, OPERATOR)


class Recorded:
    """An in-memory sink and receipts source: what was sent, and in which order."""

    def __init__(self, verdict: HubVerdict) -> None:
        self.verdict, self.events = verdict, []  # type: ignore[var-annotated]

    def send(self, topic: str, key: bytes, value: bytes) -> None:
        self.events.append("send")

    def flush(self) -> None:
        self.events.append("flush")

    def close(self) -> None:
        self.events.append("close")

    def wait(self, drop_id: str, timeout_s: float) -> HubVerdict:
        self.events.append("wait")
        return self.verdict


def test_publish_listens_before_sending_and_reports_the_hubs_verdict(tmp_path: Path) -> None:
    path = tmp_path / "caf.csv"
    write_csv(path, generate_columns("caf.allocataires", 50, "2026-10", seed=3))
    verdict = HubVerdict(False, "convention_superseded", "now at v2", 0)
    recorded = Recorded(verdict)
    order: list[str] = []

    def receipts() -> Recorded:
        order.append("listening")
        return recorded

    def sink(topic: str) -> Recorded:
        order.append("sending")
        return recorded

    request = PublishRequest(
        ROOT / "deploy/demo/conventions/caf33.yaml", path, "2026-10", wait=True
    )
    report = publish_extract(
        request, ConnectorSettings(keys_dir=KEYS), sink, now=NOW, receipts_factory=receipts
    )
    assert order == ["listening", "sending"]
    assert report.published and report.hub == verdict
    assert report.to_json()["hub"]["reason"] == "convention_superseded"
    assert recorded.events[-3:] == ["wait", "close", "close"]
