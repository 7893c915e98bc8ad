"""The hub's read-only Kafka admin queries: topics by prefix, consumer lag.

The worker measures its own lag with these, and `obshub status` reports it;
they need no part of the stack runner (`hub.stack`), which the worker and
the access API never import.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from contracts.principals import KafkaCredentials

if TYPE_CHECKING:
    from kafka import KafkaAdminClient


def admin_client(admin: KafkaCredentials) -> KafkaAdminClient:
    from kafka import KafkaAdminClient  # kafka-python; imported late, it is slow to import

    return KafkaAdminClient(
        **admin.kafka_python_config(), client_id="obshub-admin", request_timeout_ms=15000
    )


def compute_lag(
    end_offsets: Mapping[tuple[str, int], int], committed: Mapping[tuple[str, int], int]
) -> dict[str, int]:
    """Messages not yet committed, per topic (pure).

    A partition with no committed offset counts from 0: nothing of it has
    been consumed.
    """
    lag: dict[str, int] = {}
    for (topic, partition), end in end_offsets.items():
        done = committed.get((topic, partition), 0)
        lag[topic] = lag.get(topic, 0) + max(0, end - done)
    return dict(sorted(lag.items()))


def group_lag(admin: KafkaCredentials, group: str, topic_prefix: str) -> dict[str, int]:
    """Lag of `group` on every topic starting with `topic_prefix`."""
    from kafka import TopicPartition
    from kafka.admin import OffsetSpec
    from kafka.errors import CoordinatorNotAvailableError

    client = admin_client(admin)
    try:
        topics = [t for t in client.list_topics() if t.startswith(topic_prefix)]
        partitions = [
            TopicPartition(meta["name"], p["partition_index"])
            for meta in client.describe_topics(topics)
            for p in meta["partitions"]
        ]
        if not partitions:
            return {}
        ends = client.list_partition_offsets({tp: OffsetSpec.LATEST for tp in partitions})
        try:
            committed = client.list_group_offsets({group: partitions}).get(group, {})
        except CoordinatorNotAvailableError:  # no group has committed on this broker yet
            committed = {}
    finally:
        client.close()
    return compute_lag(
        {(tp.topic, tp.partition): meta.offset for tp, meta in ends.items()},
        {
            (tp.topic, tp.partition): meta.offset
            for tp, meta in committed.items()
            if meta.offset >= 0
        },
    )


def topics_with_prefix(creds: KafkaCredentials, prefix: str) -> list[str]:
    """The topics starting with `prefix` that `creds` may describe."""
    client = admin_client(creds)
    try:
        return sorted(t for t in client.list_topics() if t.startswith(prefix))
    finally:
        client.close()
