"""Apply an `AccessPlan` to the broker with kafka-python's admin client."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterable

from kafka import KafkaAdminClient
from kafka.admin import (
    ACL,
    ACLFilter,
    ACLOperation,
    ACLPermissionType,
    ACLResourcePatternType,
    ConfigResource,
    ConfigResourceType,
    NewPartitions,
    NewTopic,
    ResourcePattern,
    ResourcePatternFilter,
    ResourceType,
    ScramMechanism,
    UserScramCredentialUpsertion,
)
from kafka.errors import TopicAlreadyExistsError

from contracts.principals import KafkaCredentials
from hub.errors import ProvisionError
from hub.stack.access_plan import AccessPlan, AclRule, TopicSpec

log = logging.getLogger(__name__)
ACL_VISIBLE_TIMEOUT_S = 30.0
TOPICS_VISIBLE_TIMEOUT_S = 30.0


def admin_client(admin: KafkaCredentials) -> KafkaAdminClient:
    return KafkaAdminClient(
        **admin.kafka_python_config(), client_id="obshub-admin", request_timeout_ms=15000
    )


def to_kafka_acl(rule: AclRule) -> ACL:
    return ACL(
        principal=rule.principal,
        host="*",
        operation=ACLOperation[rule.operation.value],
        permission_type=ACLPermissionType.ALLOW,
        resource_pattern=ResourcePattern(
            ResourceType[rule.resource.value],
            rule.name,
            ACLResourcePatternType[rule.pattern.value],
        ),
    )


def apply_plan(
    admin: KafkaCredentials,
    plan: AccessPlan,
    password_of: Callable[[str], str],
) -> None:
    """Make the broker hold the plan: users, topics and ACLs created, and the ACLs
    the plan no longer grants (an ended convention, a removed consumer) deleted.
    Safe to run again (idempotent)."""
    client = admin_client(admin)
    try:
        _upsert_users(client, plan.users, password_of)
        _create_topics(client, plan)
        _create_acls(client, plan.acls)
        _delete_acls(client, set(plan.acls))
    finally:
        client.close()


def _upsert_users(
    client: KafkaAdminClient, users: Iterable[str], password_of: Callable[[str], str]
) -> None:
    upserts = [
        UserScramCredentialUpsertion(user, ScramMechanism.SCRAM_SHA_512, password_of(user))
        for user in users
    ]
    result = client.alter_user_scram_credentials(upserts)
    failed = {user: err for user, err in result.items() if err is not None}
    if failed:
        raise ProvisionError("SCRAM users", ", ".join(f"{u}: {e}" for u, e in failed.items()))


def _create_topics(client: KafkaAdminClient, plan: AccessPlan) -> None:
    existing = set(client.list_topics())
    _align_configs(client, [t for t in plan.topics if t.name in existing and t.config])
    _grow_partitions(client, [t for t in plan.topics if t.name in existing])
    missing = [
        NewTopic(t.name, t.partitions, 1, topic_configs=dict(t.config))
        for t in plan.topics
        if t.name not in existing
    ]
    if not missing:
        return
    # kafka-python may retry a create that already succeeded; the outcome is checked below.
    with contextlib.suppress(TopicAlreadyExistsError):
        client.create_topics(missing)
    # The controller has the topics; the broker's metadata may lag a moment.
    deadline = time.monotonic() + TOPICS_VISIBLE_TIMEOUT_S
    while absent := {t.name for t in plan.topics} - set(client.list_topics()):
        if time.monotonic() > deadline:
            raise ProvisionError("topics", "still missing: " + ", ".join(sorted(absent)))
        time.sleep(0.2)
    log.info("created topics count=%d", len(missing))


def _grow_partitions(client: KafkaAdminClient, topics: list[TopicSpec]) -> None:
    """Give topics that exist with fewer partitions than planned the missing ones
    (`hub.audit` gained a partition per audit chain writer)."""
    if not topics:
        return
    have = {
        meta["name"]: len(meta["partitions"])
        for meta in client.describe_topics([t.name for t in topics])
    }
    grow = {
        t.name: NewPartitions(t.partitions)
        for t in topics
        if 0 < have.get(t.name, t.partitions) < t.partitions
    }
    if grow:
        client.create_partitions(grow)
        log.info("added partitions topics=%s", sorted(grow))


def _align_configs(client: KafkaAdminClient, topics: list[TopicSpec]) -> None:
    """Set our configs on topics that exist already (a convention's retention may change)."""
    if not topics:
        return
    resources = [
        ConfigResource(ConfigResourceType.TOPIC, t.name, configs=dict(t.config)) for t in topics
    ]
    client.alter_configs(resources, incremental=True)


def _create_acls(client: KafkaAdminClient, rules: Iterable[AclRule]) -> None:
    acls = [to_kafka_acl(rule) for rule in rules]
    result = client.create_acls(acls)
    if result["failed"]:
        detail = "; ".join(f"{acl}: {err}" for acl, err in result["failed"])
        raise ProvisionError("ACLs", detail)
    _wait_for_acls(client, acls)


EVERY_ACL = ACLFilter(
    principal=None,
    host=None,
    operation=ACLOperation.ANY,
    permission_type=ACLPermissionType.ANY,
    resource_pattern=ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY),
)


def _delete_acls(client: KafkaAdminClient, kept: set[AclRule]) -> None:
    """Delete every ACL of the broker that the plan does not hold, and wait until gone."""
    wanted = {to_kafka_acl(rule) for rule in kept}
    present, _ = client.describe_acls(EVERY_ACL)
    stale = [acl for acl in present if acl not in wanted]
    if not stale:
        return
    filters = [
        ACLFilter(
            principal=acl.principal,
            host=acl.host,
            operation=acl.operation,
            permission_type=acl.permission_type,
            resource_pattern=ResourcePatternFilter(
                acl.resource_pattern.resource_type,
                acl.resource_pattern.resource_name,
                acl.resource_pattern.pattern_type,
            ),
        )
        for acl in stale
    ]
    client.delete_acls(filters)
    deadline = time.monotonic() + ACL_VISIBLE_TIMEOUT_S
    while True:
        present, _ = client.describe_acls(EVERY_ACL)
        left = [acl for acl in present if acl not in wanted]
        if not left:
            log.info("deleted acls count=%d", len(stale))
            return
        if time.monotonic() > deadline:
            raise ProvisionError("ACLs", f"{len(left)} still in force, e.g. {min(map(str, left))}")
        time.sleep(0.1)


def _wait_for_acls(
    client: KafkaAdminClient, acls: list[ACL], timeout_s: float = ACL_VISIBLE_TIMEOUT_S
) -> None:
    """Return once the broker's authorizer holds every ACL of the plan.

    CreateAcls returns when the controller has committed them; the broker
    applies them from the metadata log a moment later. Until then a partner
    that publishes right after `obshub up` is refused its own topic.
    """
    wanted = set(acls)
    deadline = time.monotonic() + timeout_s
    while True:
        present, _ = client.describe_acls(EVERY_ACL)
        missing = wanted - set(present)
        if not missing:
            return
        if time.monotonic() > deadline:
            example = min(str(acl) for acl in missing)
            raise ProvisionError(
                "ACLs", f"{len(missing)} not in force after {timeout_s:.0f}s, e.g. {example}"
            )
        time.sleep(0.1)
