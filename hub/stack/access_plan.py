"""What the broker must hold for a set of partners and consumers (pure).

Users, topics and ACL bindings are computed here as plain data; `provision`
applies them with an admin client. Least privilege: a partner writes its own
drops topic only; a consumer reads its own indicators topic only, with
consumer groups named `<consumer>-<anything>`; the hub reads drops and owns
the hub's topics and its faust app's internal topics, groups and
transactional ids.

A consumer's groups are the PREFIXED pattern `<consumer>-`, never the bare
name: `observatoire-bordeaux` as a prefix would also match the groups of a
consumer `observatoire-bordeauxmetropole`. Since '-' may occur in a name, the
separator alone cannot keep `observatoire-bordeaux-` from matching the groups
of `observatoire-bordeaux-metropole`: a set of consumers where one name is
another's followed by '-' (or that would share the hub's group prefix) is
refused (`ProvisionError`) rather than provisioned with overlapping rights.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from contracts.principals import (
    AGGREGATES_TOPIC,
    AUDIT_PARTITIONS,
    AUDIT_TOPIC,
    HUB_APP_ID,
    HUB_PRINCIPAL,
    INDICATORS_TOPIC,
    QUARANTINE_TOPIC,
    RELEASES_TOPIC,
    check_principal_name,
    consumer_topic,
    drops_topic,
    receipts_topic,
)
from hub.errors import ProvisionError

RECEIPTS_PREFIX = "receipts."
GROUP_SEPARATOR = "-"  # a consumer's groups are named `<consumer>-<anything>`


class Resource(StrEnum):
    TOPIC = "TOPIC"
    GROUP = "GROUP"
    CLUSTER = "CLUSTER"
    TRANSACTIONAL_ID = "TRANSACTIONAL_ID"


class Pattern(StrEnum):
    LITERAL = "LITERAL"
    PREFIXED = "PREFIXED"


class Operation(StrEnum):
    READ = "READ"
    WRITE = "WRITE"
    DESCRIBE = "DESCRIBE"
    CREATE = "CREATE"
    ALL = "ALL"
    IDEMPOTENT_WRITE = "IDEMPOTENT_WRITE"


CLUSTER_NAME = "kafka-cluster"


@dataclass(frozen=True, order=True)
class AclRule:
    principal: str
    resource: Resource
    name: str
    pattern: Pattern
    operation: Operation


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    config: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class AccessPlan:
    users: tuple[str, ...]
    topics: tuple[TopicSpec, ...]
    acls: tuple[AclRule, ...]


HUB_TOPICS = (QUARANTINE_TOPIC, AGGREGATES_TOPIC, AUDIT_TOPIC, INDICATORS_TOPIC, RELEASES_TOPIC)
# the compacted view holds the latest release per indicator and period; the
# register keeps every release ever published, and the audit trail its events
HUB_TOPIC_CONFIG: dict[str, tuple[tuple[str, str], ...]] = {
    INDICATORS_TOPIC: (("cleanup.policy", "compact"),),
    RELEASES_TOPIC: (("retention.ms", "-1"),),
}
HUB_TOPIC_PARTITIONS = {AUDIT_TOPIC: AUDIT_PARTITIONS}  # one per chain writer (hub.audit)
DROP_PARTITIONS = 3


def _rules(
    principal: str, resource: Resource, name: str, pattern: Pattern, *operations: Operation
) -> list[AclRule]:
    return [AclRule(f"User:{principal}", resource, name, pattern, op) for op in operations]


DAY_MS = 86_400_000


def group_prefix(consumer: str) -> str:
    """The prefix every consumer group of `consumer` starts with."""
    return f"{check_principal_name(consumer)}{GROUP_SEPARATOR}"


def check_group_prefixes(consumers: tuple[str, ...]) -> None:
    """`ProvisionError` if a consumer's group prefix would match groups another
    consumer (or the hub's faust app) may use: one prefix starting with another."""
    owners = [(group_prefix(c), f"consumer {c}") for c in sorted(set(consumers))]
    owners.append((HUB_APP_ID, f"the hub's app ({HUB_APP_ID})"))
    clashes = [
        f"{wide_owner} may use groups {wide}*, which include {narrow}* of {narrow_owner}"
        for wide, wide_owner in owners
        for narrow, narrow_owner in owners
        if wide_owner != narrow_owner and narrow.startswith(wide)
    ]
    if clashes:
        raise ProvisionError(
            "consumer groups",
            "; ".join(clashes) + " (rename a consumer: no name may be another's followed by '-')",
        )


def plan_access(
    partners: tuple[str, ...],
    consumers: tuple[str, ...],
    retention_days: dict[str, int] | None = None,
    writers: tuple[str, ...] | None = None,
) -> AccessPlan:
    """Users, topics and ACLs for these partners and Kafka-channel consumers.

    Every partner has its `drops.<partner>` and `receipts.<partner>` topics;
    only `writers` (default: every partner) may write drops and read their
    receipts: a partner whose convention ended keeps its topics (their
    retention runs out) but loses its rights. `retention_days` sets each
    partner's drops topic retention (its conventions' raw retention):
    sealed raw data does not linger.
    """
    for name in (*partners, *consumers):
        check_principal_name(name)
    check_group_prefixes(consumers)
    R, W, D = Operation.READ, Operation.WRITE, Operation.DESCRIBE
    acls: list[AclRule] = []
    acls += _rules(HUB_PRINCIPAL, Resource.TOPIC, "drops.", Pattern.PREFIXED, R, D)
    acls += _rules(HUB_PRINCIPAL, Resource.TOPIC, "hub.", Pattern.PREFIXED, R, W, D)
    acls += _rules(HUB_PRINCIPAL, Resource.TOPIC, RECEIPTS_PREFIX, Pattern.PREFIXED, W, D)
    acls += _rules(HUB_PRINCIPAL, Resource.TOPIC, INDICATORS_TOPIC, Pattern.PREFIXED, R, W, D)
    acls += _rules(HUB_PRINCIPAL, Resource.TOPIC, HUB_APP_ID, Pattern.PREFIXED, Operation.ALL)
    acls += _rules(HUB_PRINCIPAL, Resource.GROUP, HUB_APP_ID, Pattern.PREFIXED, Operation.ALL)
    acls += _rules(HUB_PRINCIPAL, Resource.TRANSACTIONAL_ID, HUB_APP_ID, Pattern.PREFIXED, W, D)
    acls += _rules(
        HUB_PRINCIPAL, Resource.CLUSTER, CLUSTER_NAME, Pattern.LITERAL, Operation.IDEMPOTENT_WRITE
    )
    for partner in partners if writers is None else writers:
        acls += _rules(partner, Resource.TOPIC, drops_topic(partner), Pattern.LITERAL, W, D)
        acls += _rules(partner, Resource.TOPIC, receipts_topic(partner), Pattern.LITERAL, R, D)
        acls += _rules(
            partner, Resource.CLUSTER, CLUSTER_NAME, Pattern.LITERAL, Operation.IDEMPOTENT_WRITE
        )
    for consumer in consumers:
        acls += _rules(consumer, Resource.TOPIC, consumer_topic(consumer), Pattern.LITERAL, R, D)
        acls += _rules(consumer, Resource.GROUP, group_prefix(consumer), Pattern.PREFIXED, R)
    retention = retention_days or {}
    topics = [
        TopicSpec(
            drops_topic(p),
            DROP_PARTITIONS,
            (("retention.ms", str(retention[p] * DAY_MS)),) if p in retention else (),
        )
        for p in partners
    ]
    topics += [TopicSpec(receipts_topic(p), 1) for p in partners]
    topics += [
        TopicSpec(name, HUB_TOPIC_PARTITIONS.get(name, 1), HUB_TOPIC_CONFIG.get(name, ()))
        for name in HUB_TOPICS
    ]
    topics += [TopicSpec(consumer_topic(c), 1) for c in consumers]
    return AccessPlan(
        users=(HUB_PRINCIPAL, *partners, *consumers),
        topics=tuple(topics),
        acls=tuple(sorted(set(acls))),
    )
