"""The publishing pipeline with an in-memory sink, opened as the hub would."""

from __future__ import annotations

import datetime as dt
import functools
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from connectors import cli
from connectors.publish import PublishError, PublishRequest, publish_extract
from connectors.settings import ConnectorSettings
from connectors.territory import TerritoryFileError
from contracts.keys import load_sealing_private_key, load_verify_key
from contracts.periods import PeriodError
from schemas.catalog import load_catalog
from schemas.codec import decode_block, decode_message
from schemas.sealing import DropOpener
from schemas.signing import plaintext_sha256, verify_trailer

ROOT = Path(__file__).resolve().parents[3]
KEYS = ROOT / "deploy" / "demo" / "keys"
CAF = ROOT / "deploy" / "demo" / "conventions" / "caf33.yaml"
NOW = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)
HEADER = "matricule;iris;age_responsable;type_foyer;nb_enfants;bas_revenus;rsa;aah;aide_logement"


class ListSink:
    def __init__(self) -> None:
        self.messages: list[tuple[str, bytes, bytes]] = []
        self.flushed = self.closed = False

    def send(self, topic: str, key: bytes, value: bytes) -> None:
        self.messages.append((topic, key, value))

    def flush(self) -> None:
        self.flushed = True

    def close(self) -> None:
        self.closed = True


def extract(tmp_path: Path, rows: int, bad_every: int = 0) -> Path:
    lines = [HEADER]
    for i in range(rows):
        iris = "999990101" if bad_every and i % bad_every == 0 else "330630101"
        lines.append(f"{100000 + i};{iris};{20 + i % 60};isole;0;{i % 2};0;0;1")
    path = tmp_path / "caf.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def settings(chunk_size: int = 100) -> ConnectorSettings:
    return ConnectorSettings(keys_dir=KEYS, chunk_size=chunk_size)


def publish(tmp_path: Path, rows: int, **kw: object) -> tuple[ListSink, object]:
    sink = ListSink()
    request = PublishRequest(
        CAF, extract(tmp_path, rows, int(kw.pop("bad_every", 0))), "2026-10", **kw
    )  # type: ignore[arg-type]
    report = publish_extract(request, settings(), lambda topic: sink, now=NOW)
    return sink, report


def test_a_drop_is_header_chunks_trailer_keyed_by_drop_id(tmp_path: Path) -> None:
    sink, report = publish(tmp_path, 250, bad_every=10)
    catalog = load_catalog()
    kinds = [decode_message(catalog, value)[0].name for _, _, value in sink.messages]
    assert kinds == ["drop_header", "drop_chunk", "drop_chunk", "drop_chunk", "drop_trailer"]
    assert {topic for topic, _, _ in sink.messages} == {"drops.caf33"}
    assert {key for _, key, _ in sink.messages} == {report.drop_id.encode()}  # type: ignore[attr-defined]
    assert sink.flushed and sink.closed


def test_the_hub_opens_every_chunk_and_verifies_the_trailer(tmp_path: Path) -> None:
    sink, _ = publish(tmp_path, 250, bad_every=10)
    catalog = load_catalog()
    values = [value for _, _, value in sink.messages]
    _, header = decode_message(catalog, values[0])
    opener = DropOpener(
        load_sealing_private_key(KEYS / "hub.x25519"),
        header["ephemeral_public_key"],
        header["drop_id"],
    )
    dataset = catalog.by_fingerprint(header["record_schema_fingerprint"])
    records, plaintexts = [], []
    for value in values[1:-1]:
        _, chunk = decode_message(catalog, value)
        plaintext = opener.open(chunk["sequence"], chunk["nonce"], chunk["ciphertext"])
        plaintexts.append(plaintext)
        records += decode_block(dataset, plaintext, chunk["record_count"])  # type: ignore[arg-type]
    _, trailer = decode_message(catalog, values[-1])
    assert trailer["plaintext_sha256"] == plaintext_sha256(plaintexts)
    verify_trailer(load_verify_key(KEYS / "caf33.pub").public_bytes_raw(), values[0], trailer)
    assert len(records) == trailer["record_count"] == 225
    assert trailer["report"]["rows_read"] == 250
    assert trailer["report"]["rejections"] == {"outside_territory": 25}
    assert header["period"] == "2026-10" and header["partner"] == "caf33"
    assert all(len(r["matricule"]) == 64 for r in records)  # pseudonyms, never raw ids
    assert not any(str(100000 + i) in r["matricule"] for i, r in enumerate(records[:5]))


def test_the_same_extract_gives_the_same_drop_id(tmp_path: Path) -> None:
    _, first = publish(tmp_path, 30)
    _, second = publish(tmp_path, 30)
    assert first.drop_id == second.drop_id  # type: ignore[attr-defined]


def test_dry_run_sends_nothing(tmp_path: Path) -> None:
    sink, report = publish(tmp_path, 30, dry_run=True)
    assert sink.messages == []
    assert report.tally.rows_accepted == 30 and not report.published  # type: ignore[attr-defined]


def test_nothing_valid_publishes_nothing(tmp_path: Path) -> None:
    sink, report = publish(tmp_path, 20, bad_every=1)
    assert sink.messages == [] and not report.published  # type: ignore[attr-defined]
    assert report.to_json()["rejections"] == {"outside_territory": 20}  # type: ignore[attr-defined]


def test_a_dataset_the_convention_lacks_is_one_clear_error(tmp_path: Path) -> None:
    request = PublishRequest(CAF, extract(tmp_path, 3), "2026-10", dataset="ccas.aides")
    with pytest.raises(PublishError, match=r"does not cover dataset ccas\.aides"):
        publish_extract(request, settings(), lambda topic: ListSink(), now=NOW)


def test_an_expired_convention_is_refused(tmp_path: Path) -> None:
    request = PublishRequest(CAF, extract(tmp_path, 3), "2026-10")
    later = dt.datetime(2028, 1, 2, tzinfo=dt.UTC)
    with pytest.raises(PublishError, match="caf33-obshub v1 is not in force"):
        publish_extract(request, settings(), lambda topic: ListSink(), now=later)


# -- periods that have not started ------------------------------------------------

CONVENTIONS = ROOT / "deploy" / "demo" / "conventions"
DEC_1 = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)


def refusing_sink(topic: str) -> ListSink:
    raise AssertionError("nothing may be sent")


@pytest.mark.parametrize("dry_run", [False, True])
@pytest.mark.parametrize(
    ("convention", "dataset", "period", "message"),
    [
        ("caf33", None, "2027-06", "period '2027-06': has not started (it starts on 2027-06-01)"),
        ("cd33", None, "2027-Q1", "period '2027-Q1': has not started (it starts on 2027-01-01)"),
        ("cd33", None, "2027-02", "period '2027-Q1': has not started (it starts on 2027-01-01)"),
        (
            "insee",
            "insee.population",
            "2027",
            "period '2027': has not started (it starts on 2027-01-01)",
        ),
    ],
)
def test_a_period_that_has_not_started_is_refused_before_anything_is_sent(
    tmp_path: Path,
    convention: str,
    dataset: str | None,
    period: str,
    message: str,
    dry_run: bool,
) -> None:
    request = PublishRequest(
        CONVENTIONS / f"{convention}.yaml",
        extract(tmp_path, 3),
        period,
        dataset=dataset,
        dry_run=dry_run,
    )
    with pytest.raises(PeriodError) as refused:
        publish_extract(request, settings(), refusing_sink, now=DEC_1)
    assert str(refused.value) == message


def test_the_current_period_is_accepted(tmp_path: Path) -> None:
    sink = ListSink()
    request = PublishRequest(CAF, extract(tmp_path, 30), "2026-12")
    report = publish_extract(request, settings(), lambda topic: sink, now=DEC_1)
    assert report.published and report.period == "2026-12"
    assert len(sink.messages) == 3  # header, one chunk, trailer


def test_the_cli_says_why_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OBSHUB_KEYS_DIR", str(KEYS))
    monkeypatch.setattr(cli, "publish_extract", functools.partial(publish_extract, now=DEC_1))
    args = ["--convention", str(CAF), "--source", str(extract(tmp_path, 3))]
    result = CliRunner().invoke(cli.app, ["publish", *args, "--period", "2027-06", "--dry-run"])
    assert result.exit_code == 1
    assert result.stderr == (
        "obshub: error: period '2027-06': has not started (it starts on 2027-06-01)\n"
    )


# -- IRIS codes against the territory's reference list ----------------------------


def extract_with_iris(tmp_path: Path, codes: list[str]) -> Path:
    lines = [HEADER]
    lines += [f"{100000 + i};{code};37;isole;0;1;0;0;1" for i, code in enumerate(codes)]
    path = tmp_path / "caf.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


CODES = ["330630101", "330630199", "330690110", "332810101", "330690177", "330630102"]


def test_iris_codes_are_checked_against_the_shipped_reference(tmp_path: Path) -> None:
    request = PublishRequest(CAF, extract_with_iris(tmp_path, CODES), "2026-10", dry_run=True)
    report = publish_extract(request, settings(), refusing_sink, now=NOW)  # the demo's iris.csv
    assert report.tally.rows_accepted == 3
    assert report.to_json()["rejections"] == {"outside_territory": 1, "unknown_iris": 2}
    assert report.to_json()["rejected_rows_examples"] == {
        "outside_territory": [5],
        "unknown_iris": [3, 6],
    }


def test_without_a_reference_only_the_commune_is_checked(tmp_path: Path) -> None:
    request = PublishRequest(CAF, extract_with_iris(tmp_path, CODES), "2026-10", dry_run=True)
    no_reference = ConnectorSettings(keys_dir=KEYS, territory_file=None)
    report = publish_extract(request, no_reference, refusing_sink, now=NOW)
    assert report.to_json()["rejections"] == {"outside_territory": 1}


def test_a_bad_reference_file_is_one_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "iris.csv"
    bad.write_text("CODE_IRIS;LIB_IRIS\n330630101;Le Carré\n", encoding="utf-8")
    (tmp_path / "x").mkdir()
    request = PublishRequest(CAF, extract_with_iris(tmp_path / "x", CODES), "2026-10")
    with pytest.raises(
        TerritoryFileError, match=f"^{re.escape(f'territory file {bad}: no column DEPCOM')}"
    ):
        publish_extract(
            request, ConnectorSettings(keys_dir=KEYS, territory_file=bad), refusing_sink, now=NOW
        )
