"""Waiting for the hub's receipt of a drop, on `receipts.<partner>`.

The hub answers every drop it reads with a receipt signed by the hub
operator (`schemas.receipts`): accepted or rejected, why, and the records
it counted. The connector marks the end of its receipts topic *before* it
publishes, then reads from there until the receipt for its drop id comes
or the timeout passes, so a receipt that comes fast is never missed. It
reads by assignment (no consumer group), with the partner's own
credentials: the only topic of the hub it may read.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from connectors.errors import ConnectorError
from contracts.principals import KafkaCredentials, receipts_topic
from schemas.catalog import SchemaCatalog
from schemas.codec import decode_message
from schemas.errors import SchemaError
from schemas.receipts import verify_receipt


class ReceiptError(ConnectorError):
    """No usable receipt: the topic cannot be read, or none came in time."""

    reason = "no_receipt"


@dataclass(frozen=True)
class HubVerdict:
    """What the hub said of a drop, from its verified receipt."""

    accepted: bool
    reason: str
    detail: str
    records_aggregated: int
    records_rejected: dict[str, int] = field(default_factory=dict)
    repeat: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "outcome": "accepted" if self.accepted else "rejected",
            "repeat": self.repeat,
            "reason": self.reason,
            "detail": self.detail,
            "records_aggregated": self.records_aggregated,
            "records_rejected": dict(sorted(self.records_rejected.items())),
        }


def verdict_of(
    value: bytes, drop_id: str, catalog: SchemaCatalog, operator_key: Ed25519PublicKey
) -> HubVerdict | None:
    """The verdict in one receipts message if it is for `drop_id`; None if not.

    A receipt whose signature does not verify is an error, never a verdict.
    """
    try:
        schema, record = decode_message(catalog, value)
    except SchemaError:
        return None  # not a receipt of this protocol: not ours to read
    if schema.name != "receipt" or record["drop_id"] != drop_id:
        return None
    try:
        verify_receipt(record, operator_key, schema)
    except SchemaError as exc:
        raise ReceiptError(str(exc)) from exc
    return HubVerdict(
        accepted=record["outcome"] == "accepted",
        reason=record["reason"],
        detail=record["detail"],
        records_aggregated=int(record["records_aggregated"]),
        records_rejected={k: int(v) for k, v in record["records_rejected"].items()},
        repeat=bool(record["repeat"]),
    )


class ReceiptListener:
    """Marks where the receipts topic ends now; later, waits for one drop's receipt."""

    def __init__(
        self,
        creds: KafkaCredentials,
        partner: str,
        catalog: SchemaCatalog,
        operator_key: Ed25519PublicKey,
    ) -> None:
        from kafka import KafkaConsumer, TopicPartition
        from kafka.errors import KafkaError

        self.catalog, self.operator_key = catalog, operator_key
        self.topic = receipts_topic(partner)
        try:
            self._consumer = KafkaConsumer(
                **creds.kafka_python_config(),
                client_id=f"obshub-connector-receipts-{creds.username}",
                group_id=None,
                enable_auto_commit=False,
                consumer_timeout_ms=1000,
            )
            partitions = self._consumer.partitions_for_topic(self.topic)
            if not partitions:
                raise ReceiptError(
                    f"{self.topic} does not exist or {creds.username} may not read it "
                    "(ask the hub operator to run `obshub provision`)"
                )
            self._partitions = [TopicPartition(self.topic, p) for p in sorted(partitions)]
            self._consumer.assign(self._partitions)
            self._consumer.seek_to_end(*self._partitions)
            for tp in self._partitions:  # resolve the positions now, before publishing
                self._consumer.position(tp)
        except KafkaError as exc:
            raise ReceiptError(f"cannot read {self.topic}: {exc}") from exc

    def wait(self, drop_id: str, timeout_s: float) -> HubVerdict:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            batches = self._consumer.poll(timeout_ms=500)
            for messages in batches.values():
                for message in messages:
                    if message.key != drop_id.encode():
                        continue
                    verdict = verdict_of(message.value, drop_id, self.catalog, self.operator_key)
                    if verdict is not None:
                        return verdict
        raise ReceiptError(
            f"no receipt for drop {drop_id} on {self.topic} within {timeout_s:.0f}s: the drop "
            "was published; is the hub worker running? (publishing it again is harmless)"
        )

    def close(self) -> None:
        self._consumer.close()
