"""`obshub connector publish`: one extract in, one data drop on Kafka out.

The pipeline is: open the extract → check the convention is in force →
compile the row validator → derive the drop id from the content → stream
batches through validation into sealed chunks → header, chunks, signed
trailer to `drops.<partner>`, every message keyed by the drop id.

The header is held back until the first chunk exists, so an extract with
no valid row publishes nothing at all. Kafka is reached only through the
`Sink` protocol; `KafkaSink` is the real one (kafka-python, idempotent,
acks=all) and tests may use an in-memory list.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from connectors import __version__
from connectors.drop import DropIdentity, DropWriter, derive_drop_id, file_digest
from connectors.errors import ConnectorError
from connectors.mapping import ColumnMapping, load_mapping
from connectors.pseudonymise import Pseudonymiser
from connectors.receipts import HubVerdict
from connectors.settings import ConnectorSettings
from connectors.sources import open_source
from connectors.validation import RowValidator, Tally
from contracts.convention import Convention, DatasetTerms
from contracts.keys import load_trust_store
from contracts.loading import load_convention
from contracts.periods import check_period_started, normalise_period
from contracts.principals import drops_topic
from contracts.status import assess
from schemas.catalog import SchemaCatalog, load_catalog
from schemas.model import DatasetSchema

BATCH_ROWS = 4000
MAX_PLAINTEXT_BYTES = 700_000  # a sealed chunk stays under Kafka's 1 MB message limit


class PublishError(ConnectorError):
    """The drop cannot be published; says why in one line."""

    reason = "not_published"


class Sink(Protocol):
    def send(self, topic: str, key: bytes, value: bytes) -> None: ...
    def flush(self) -> None: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class PublishRequest:
    convention: Path
    source: Path
    period: str
    dataset: str | None = None
    mapping: Path | None = None
    sheet: str | None = None
    dry_run: bool = False
    wait: bool = False  # wait for the hub's receipt (the CLI's default)


@dataclass
class PublishReport:
    drop_id: str
    partner: str
    dataset: str
    period: str
    topic: str
    source: str
    tally: Tally
    chunks: int = 0
    published: bool = False
    dry_run: bool = False
    seconds: float = 0.0
    examples: dict[str, list[int]] = field(default_factory=dict)
    hub: HubVerdict | None = None  # the hub's receipt, when waited for

    def to_json(self) -> dict[str, Any]:
        """The `--report` file (README, "Installing a connector"), row numbers added."""
        return {
            "drop_id": self.drop_id,
            "partner": self.partner,
            "dataset": self.dataset,
            "period": self.period,
            "rows_read": self.tally.rows_read,
            "rows_accepted": self.tally.rows_accepted,
            "rows_rejected": self.tally.rows_rejected,
            "rejections": dict(sorted(self.tally.rejections.items())),
            "rejected_rows_examples": dict(sorted(self.tally.examples.items())),
            "chunks": self.chunks,
            "published": self.published,
            "dry_run": self.dry_run,
            "seconds": round(self.seconds, 3),
            "hub": None if self.hub is None else self.hub.to_json(),
        }


def choose_dataset(convention: Convention, wanted: str | None) -> tuple[str, DatasetTerms]:
    if wanted is not None:
        terms = convention.datasets.get(wanted)
        if terms is None:
            raise PublishError(
                f"convention {convention.ref} does not cover dataset {wanted} "
                f"(it covers {', '.join(sorted(convention.datasets))})"
            )
        return wanted, terms
    if len(convention.datasets) != 1:
        raise PublishError(
            f"convention {convention.ref} covers several datasets; choose one with --dataset "
            f"({', '.join(sorted(convention.datasets))})"
        )
    return next(iter(convention.datasets.items()))


def schema_for(catalog: SchemaCatalog, dataset_id: str, terms: DatasetTerms) -> DatasetSchema:
    """The newest schema version both the catalog and the convention know."""
    known = set(catalog.versions(dataset_id))
    usable = sorted(known & set(terms.schema_versions))
    if not usable:
        raise PublishError(
            f"no schema version of {dataset_id} is both known and allowed "
            f"(convention allows {list(terms.schema_versions)})"
        )
    return catalog.dataset(dataset_id, usable[-1])


def check_in_force(convention: Convention, settings: ConnectorSettings, now: dt.datetime) -> None:
    problems = assess(convention, load_trust_store(settings.keys_dir), now)
    if problems:
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise PublishError(f"convention {convention.ref} is not in force: {first.message}{more}")


Progress = Callable[[int, int], None]  # (rows read, rows accepted) so far


class Receipts(Protocol):
    """Where the hub's receipt comes from (`connectors.receipts.ReceiptListener`)."""

    def wait(self, drop_id: str, timeout_s: float) -> HubVerdict: ...
    def close(self) -> None: ...


def publish_extract(
    request: PublishRequest,
    settings: ConnectorSettings,
    sink_factory: Callable[[str], Sink] | None = None,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
    receipts_factory: Callable[[], Receipts] | None = None,
) -> PublishReport:
    """Publish the extract as one drop; with `request.wait`, also wait for the
    hub's receipt (listening from before the first message is sent)."""
    started = time.monotonic()
    now = now or dt.datetime.now(dt.UTC)
    catalog = load_catalog()
    convention = load_convention(request.convention)
    check_in_force(convention, settings, now)
    partner = convention.producer
    dataset_id, terms = choose_dataset(convention, request.dataset)
    dataset = schema_for(catalog, dataset_id, terms)
    period = normalise_period(request.period, terms.cadence.value)
    check_period_started(period, now)
    source = open_source(request.source, request.sheet)
    mapping = load_mapping(request.mapping) if request.mapping else ColumnMapping()
    secret = settings.load_pseudonym_secret(partner)
    reference = settings.load_iris_reference() if dataset.location == "iris" else None
    validator = RowValidator.compile(
        dataset, terms, mapping, source.columns, Pseudonymiser(secret), reference
    )
    mapping_digest = file_digest(request.mapping) if request.mapping else hashlib.sha256().digest()
    drop_id = derive_drop_id(
        convention, dataset, period, file_digest(request.source), mapping_digest, secret
    )
    topic = drops_topic(partner)
    report = PublishReport(
        drop_id,
        partner,
        dataset_id,
        period,
        topic,
        source.description,
        Tally(),
        dry_run=request.dry_run,
    )
    writer = DropWriter(
        DropIdentity(drop_id, convention, dataset, period, f"obshub-connector/{__version__}"),
        catalog,
        settings.load_hub_public_key(),
        settings.load_signing_key(partner),
        now,
    )
    sink: Sink | None = None
    receipts: Receipts | None = None
    key = drop_id.encode()
    pending: list[dict[str, Any]] = []
    chunk_size = settings.chunk_size

    def emit(records: list[dict[str, Any]]) -> None:
        nonlocal sink, receipts
        if request.dry_run:
            writer.count(records)
            return
        if sink is None:
            if request.wait:
                receipts = (receipts_factory or kafka_receipts(settings, convention))()
            sink = (sink_factory or kafka_sink(settings, partner))(topic)
            sink.send(topic, key, writer.header())
        for message in writer.chunks_for(records, MAX_PLAINTEXT_BYTES):
            sink.send(topic, key, message)

    try:
        for batch in source.batches(BATCH_ROWS):
            pending.extend(validator.validate(batch, report.tally))
            while len(pending) >= chunk_size:
                emit(pending[:chunk_size])
                del pending[:chunk_size]
            if progress is not None:
                progress(report.tally.rows_read, report.tally.rows_accepted)
        if pending:
            emit(pending)
        if sink is not None:
            sink.send(topic, key, writer.trailer(report.tally))
            sink.flush()
            report.published = True
        if receipts is not None:
            report.hub = receipts.wait(drop_id, settings.receipt_timeout_s)
    finally:
        if sink is not None:
            sink.close()
        if receipts is not None:
            receipts.close()
    report.chunks = writer.chunks
    report.seconds = time.monotonic() - started
    return report


def kafka_receipts(settings: ConnectorSettings, convention: Convention) -> Callable[[], Receipts]:
    """Receipts read with the partner's credentials, verified with the key of the
    convention's hub operator from the partner's trust store."""

    def make() -> Receipts:
        from connectors.receipts import ReceiptListener

        operator = convention.parties.hub_operator
        keys = load_trust_store(settings.keys_dir)
        if operator not in keys:
            raise PublishError(
                f"no public key for the hub operator {operator} in {settings.keys_dir}: "
                "receipts cannot be verified"
            )
        creds = settings.kafka_credentials(convention.producer)
        return ReceiptListener(creds, convention.producer, load_catalog(), keys[operator])

    return make


def kafka_sink(settings: ConnectorSettings, partner: str) -> Callable[[str], Sink]:
    def make(topic: str) -> Sink:
        from connectors.kafka_sink import KafkaSink

        return KafkaSink(settings.kafka_credentials(partner), topic)

    return make
