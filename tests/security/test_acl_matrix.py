"""The ACL matrix, against the real broker: every principal, topic family, read and write.

Expectations come from the design (README, "Principals and topics"), not
from the access plan the stack applied: admin may do everything; the hub
reads `drops.*` and owns `hub.*`, `indicators*` and its faust app's topics;
a partner writes its own `drops.<partner>` and reads its own
`receipts.<partner>` (which the hub writes, never reads), nothing else; a
consumer with the Kafka channel reads its own `indicators.<consumer>` and
nothing else.

Each principal has one producer and one consumer, reused across topics.
Writes of an allowed principal append a valid, inert record of the topic's
type (the worker and the API read these topics); reads seek partition 0 of
the topic, where the fixture put a record as admin, so an allowed read must
return a record and a denied one raises `TopicAuthorizationFailedError`.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import (
    ACL,
    ACLOperation,
    ACLPermissionType,
    ACLResourcePatternType,
    NewTopic,
    ResourcePattern,
    ResourceType,
)
from kafka.errors import (
    GroupAuthorizationFailedError,
    TopicAlreadyExistsError,
    TopicAuthorizationFailedError,
)
from kafka.structs import OffsetAndMetadata

from contracts.principals import ADMIN_PRINCIPAL, HUB_PRINCIPAL
from hub.stack import Stack
from hub.stack.provision import admin_client
from schemas.catalog import load_catalog
from schemas.codec import encode_message
from tests.security.support import API_ONLY_CONSUMERS, KAFKA_CONSUMERS, PARTNERS
from tests.support.wire import release_record

pytestmark = pytest.mark.integration

ADMIN, HUB, PARTNER, CONSUMER = "admin", "hub", "partner", "consumer"
PRINCIPALS = (ADMIN_PRINCIPAL, HUB_PRINCIPAL, *PARTNERS, *KAFKA_CONSUMERS)
OTHER_CONSUMER_TOPIC = f"indicators.{API_ONLY_CONSUMERS[0]}"  # made here: no user reads it
INTERNAL_TOPIC = "obshub-hub-acl-matrix"  # stands for the faust app's changelogs

ALLOW, DENY = True, False
# family: {kind of principal: (may read, may write)}; a kind missing: no such topic
MATRIX: dict[str, dict[str, tuple[bool, bool]]] = {
    "drops.<own>": {PARTNER: (DENY, ALLOW)},
    "receipts.<own>": {PARTNER: (ALLOW, DENY)},
    "receipts.<other>": {
        ADMIN: (ALLOW, ALLOW),
        HUB: (DENY, ALLOW),
        PARTNER: (DENY, DENY),
        CONSUMER: (DENY, DENY),
    },
    "drops.<other>": {
        ADMIN: (ALLOW, ALLOW),
        HUB: (ALLOW, DENY),
        PARTNER: (DENY, DENY),
        CONSUMER: (DENY, DENY),
    },
    "hub.quarantine": {ADMIN: (ALLOW, ALLOW), HUB: (ALLOW, ALLOW), PARTNER: (DENY, DENY)},
    "hub.aggregates": {ADMIN: (ALLOW, ALLOW), HUB: (ALLOW, ALLOW), PARTNER: (DENY, DENY)},
    "hub.audit": {ADMIN: (ALLOW, ALLOW), HUB: (ALLOW, ALLOW), PARTNER: (DENY, DENY)},
    "hub.releases": {ADMIN: (ALLOW, ALLOW), HUB: (ALLOW, ALLOW), PARTNER: (DENY, DENY)},
    "indicators": {ADMIN: (ALLOW, ALLOW), HUB: (ALLOW, ALLOW), PARTNER: (DENY, DENY)},
    "indicators.<own>": {CONSUMER: (ALLOW, DENY)},
    "indicators.<other>": {
        ADMIN: (ALLOW, ALLOW),
        HUB: (ALLOW, ALLOW),
        PARTNER: (DENY, DENY),
        CONSUMER: (DENY, DENY),
    },
    "obshub-hub-*": {ADMIN: (ALLOW, ALLOW), HUB: (ALLOW, ALLOW), PARTNER: (DENY, DENY)},
}
_HUB_FAMILIES = ("hub.quarantine", "hub.aggregates", "hub.audit", "hub.releases", "indicators")
for _family in (*_HUB_FAMILIES, "obshub-hub-*"):
    MATRIX[_family][CONSUMER] = (DENY, DENY)


def kind_of(principal: str) -> str:
    if principal in PARTNERS:
        return PARTNER
    if principal in KAFKA_CONSUMERS:
        return CONSUMER
    return {ADMIN_PRINCIPAL: ADMIN, HUB_PRINCIPAL: HUB}[principal]


def topic_for(principal: str, family: str) -> str:
    kind = kind_of(principal)
    if family == "drops.<own>":
        return f"drops.{principal}"
    if family == "drops.<other>":
        others = [p for p in PARTNERS if p != principal]
        return f"drops.{others[PRINCIPALS.index(principal) % len(others)]}"
    if family == "receipts.<own>":
        return f"receipts.{principal}"
    if family == "receipts.<other>":
        others = [p for p in PARTNERS if p != principal]
        return f"receipts.{others[PRINCIPALS.index(principal) % len(others)]}"
    if family == "indicators.<own>":
        return f"indicators.{principal}"
    if family == "indicators.<other>":
        return OTHER_CONSUMER_TOPIC if kind == CONSUMER else f"indicators.{KAFKA_CONSUMERS[0]}"
    if family == "obshub-hub-*":
        return INTERNAL_TOPIC
    return family


CASES = [
    (principal, family, operation, expected[kind_of(principal)][operation == "write"])
    for principal in PRINCIPALS
    for family, expected in MATRIX.items()
    if kind_of(principal) in expected
    for operation in ("read", "write")
]


def case_id(case: tuple[str, str, str, bool]) -> str:
    principal, family, operation, allowed = case
    return f"{principal}-{operation}-{family}-{'allow' if allowed else 'deny'}"


# -- inert records, one per topic type -----------------------------------------

SCHEMAS = load_catalog()
PROBE_PERIOD = "1900-01"  # no drop has it: the API lists it, nothing else notices


def probe(topic: str, principal: str) -> tuple[bytes, bytes]:
    """(key, value) of a record of `topic`'s type that its readers accept and ignore."""
    now = datetime.now(UTC)
    if topic.startswith("drops."):  # the worker quarantines it as malformed
        return b"acl-matrix", b"acl-matrix probe from " + principal.encode()
    if topic == "hub.quarantine":
        record: dict[str, Any] = {
            "event_id": secrets.token_hex(12),
            "at": now,
            "topic": "acl-matrix",
            "partition": -1,
            "offset": -1,
            "partner": None,
            "drop_id": None,
            "reason": "acl_matrix_probe",
            "detail": f"written by {principal}",
        }
        return b"", encode_message(SCHEMAS.protocol("quarantine_event"), record)
    if topic == "hub.audit":
        record = {
            "event_id": secrets.token_hex(12),
            "at": now,
            "actor": principal,
            "action": "access",
            "object": "acl-matrix",
            "outcome": "denied",
            "reason": "acl_matrix_probe",
        }
        return principal.encode(), encode_message(SCHEMAS.protocol("audit_event"), record)
    if topic == "hub.aggregates":  # a dataset no indicator reads: nothing is released
        record = {
            "drop_id": "acl-matrix",
            "partner": principal,
            "convention_id": "acl-matrix",
            "convention_version": 1,
            "dataset": "acl.matrix",
            "period": PROBE_PERIOD,
            "counts": {},
            "records": 0,
            "rejected": {},
            "accepted_at": now,
        }
        key = f"acl.matrix|{PROBE_PERIOD}|acl-matrix".encode()
        return key, encode_message(SCHEMAS.protocol("drop_aggregate"), record)
    if topic.startswith("indicators") or topic == "hub.releases":
        record = release_record(
            "caf_allocataires", PROBE_PERIOD, [("commune", "33063", None)], "acl-matrix"
        )
        key = f"caf_allocataires|{PROBE_PERIOD}".encode()
        return key, encode_message(SCHEMAS.protocol("indicator_release"), record)
    return b"acl-matrix", b"probe"


# -- clients --------------------------------------------------------------------


class Client:
    """One principal's producer and consumer, reused for every topic."""

    def __init__(self, stack: Stack, principal: str) -> None:
        config = stack.credentials.get(principal).kafka_python_config()
        self.principal = principal
        self.producer = KafkaProducer(
            **config,
            acks="all",
            enable_idempotence=False,  # the topic's ACL alone decides
            retries=0,
            max_block_ms=5000,
            request_timeout_ms=5000,
        )
        self.consumer = KafkaConsumer(
            **config, enable_auto_commit=False, request_timeout_ms=5000, max_poll_records=1
        )

    def write(self, topic: str) -> int:
        key, value = probe(topic, self.principal)
        sent = self.producer.send(topic, key=key, value=value, partition=0)
        offset: int = sent.get(timeout=10).offset
        return offset

    def read(self, topic: str, timeout_s: float = 5.0) -> list[Any]:
        """Records of partition 0 from its beginning; [] if none came in time."""
        partition = TopicPartition(topic, 0)
        self.consumer.assign([partition])
        try:
            begin = self.consumer.beginning_offsets([partition])[partition]
            self.consumer.seek(partition, begin)
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:
                records: list[Any] = self.consumer.poll(timeout_ms=250).get(partition, [])
                if records:
                    return records
            return []
        finally:
            self.consumer.assign([])

    def close(self) -> None:
        self.producer.close(timeout=5)
        self.consumer.close()


@pytest.fixture(scope="module")
def clients(kafka_stack: Stack) -> Iterator[dict[str, Client]]:
    """Clients per principal, after the admin put a record on partition 0 of each topic."""
    admin = admin_client(kafka_stack.admin_credentials())
    try:
        admin.create_topics([NewTopic(OTHER_CONSUMER_TOPIC, 1, 1), NewTopic(INTERNAL_TOPIC, 1, 1)])
    except TopicAlreadyExistsError:
        pass  # an earlier run on this broker made them
    finally:
        admin.close()
    made = {p: Client(kafka_stack, p) for p in PRINCIPALS}
    try:
        topics = {topic_for(p, f) for p, f, _, _ in CASES}
        for topic in sorted(topics):
            made[ADMIN_PRINCIPAL].write(topic)
        yield made
    finally:
        for client in made.values():
            client.close()


def test_the_matrix_covers_every_provisioned_principal(kafka_stack: Stack) -> None:
    """A convention that adds a partner or a Kafka consumer must add it here too."""
    assert set(kafka_stack.access_plan().users) == {HUB_PRINCIPAL, *PARTNERS, *KAFKA_CONSUMERS}
    assert not {c for c in API_ONLY_CONSUMERS if kafka_stack.credentials.path(c).exists()}


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_acl(clients: dict[str, Client], case: tuple[str, str, str, bool]) -> None:
    principal, family, operation, allowed = case
    client = clients[principal]
    topic = topic_for(principal, family)
    act = client.write if operation == "write" else client.read
    if allowed:
        result = act(topic)
        if operation == "read":
            assert result, f"{principal} may read {topic} but got no record"
        else:
            assert isinstance(result, int) and result >= 0
    else:
        with pytest.raises(TopicAuthorizationFailedError, match=topic.replace(".", r"\.")):
            act(topic)


GROUP_CASES = [
    # principal, group, a topic it may read (or its own), allowed
    (
        "observatoire-bordeaux",
        "observatoire-bordeaux-app",
        "indicators.observatoire-bordeaux",
        ALLOW,
    ),
    ("observatoire-bordeaux", "agora-le-bouscat-app", "indicators.observatoire-bordeaux", DENY),
    ("observatoire-bordeaux", "obshub-hub-release", "indicators.observatoire-bordeaux", DENY),
    # groups are `<consumer>-<anything>`: the bare name followed by anything else
    # (the groups of a consumer `observatoire-bordeauxmetropole`) is not one's own
    (
        "observatoire-bordeaux",
        "observatoire-bordeauxmetropole-app",
        "indicators.observatoire-bordeaux",
        DENY,
    ),
    (
        "observatoire-bordeaux",
        "observatoire-bordeaux.app",
        "indicators.observatoire-bordeaux",
        DENY,
    ),
    ("hub", "obshub-hub-acl-matrix", "hub.audit", ALLOW),
    ("hub", "hub", "hub.audit", DENY),
    ("hub", "observatoire-bordeaux-app", "hub.audit", DENY),
    ("caf33", "caf33", "drops.caf33", DENY),
    ("caf33", "obshub-hub-acl-matrix", "drops.caf33", DENY),
    ("admin", "any-group", "drops.caf33", ALLOW),
]


@pytest.mark.parametrize(
    ("principal", "group", "topic", "allowed"),
    GROUP_CASES,
    ids=[f"{p}-{g}-{'allow' if a else 'deny'}" for p, g, _, a in GROUP_CASES],
)
def test_consumer_groups(
    kafka_stack: Stack, principal: str, group: str, topic: str, allowed: bool
) -> None:
    """Committing an offset needs READ on the group: groups named after oneself only."""
    name = f"{group}-{secrets.token_hex(3)}"
    assert commits_in_group(kafka_stack, principal, name, topic) is allowed


def test_a_consumer_group_is_not_the_bare_consumer_name(kafka_stack: Stack) -> None:
    """`<consumer>-` is the prefix, not `<consumer>`: the group named exactly after
    the consumer is refused, as is any name that merely begins with it."""
    topic = "indicators.observatoire-bordeaux"
    for group in ("observatoire-bordeaux", "observatoire-bordeauxx"):
        assert commits_in_group(kafka_stack, "observatoire-bordeaux", group, topic) is DENY


def commits_in_group(kafka_stack: Stack, principal: str, group: str, topic: str) -> bool:
    """Whether `principal` may commit offset 0 of `topic` in consumer group `group`
    (the commit read back), or is refused for that group."""
    consumer = KafkaConsumer(
        **kafka_stack.credentials.get(principal).kafka_python_config(),
        group_id=group,
        enable_auto_commit=False,
        request_timeout_ms=5000,
    )
    partition = TopicPartition(topic, 0)
    consumer.assign([partition])
    try:
        consumer.commit({partition: OffsetAndMetadata(0, "", -1)})
        return bool(consumer.committed(partition) == 0)
    except GroupAuthorizationFailedError as exc:
        if group not in str(exc):
            raise
        return False
    finally:
        consumer.close()


@pytest.mark.parametrize("principal", [p for p in PRINCIPALS if p != ADMIN_PRINCIPAL])
def test_only_the_admin_creates_topics_and_acls(kafka_stack: Stack, principal: str) -> None:
    """Nobody but the admin can make a topic or grant itself an ACL."""
    client = KafkaAdminClient(
        **kafka_stack.credentials.get(principal).kafka_python_config(), request_timeout_ms=5000
    )
    try:
        with pytest.raises(TopicAuthorizationFailedError):
            client.create_topics([NewTopic(f"drops.{principal}-extra", 1, 1)])
        grant = ACL(
            f"User:{principal}",
            "*",
            ACLOperation.ALL,
            ACLPermissionType.ALLOW,
            ResourcePattern(ResourceType.TOPIC, "drops.", ACLResourcePatternType.PREFIXED),
        )
        result = client.create_acls([grant])
        assert not result["succeeded"]
        assert "ClusterAuthorizationFailedError" in str(result["failed"])
    finally:
        client.close()
