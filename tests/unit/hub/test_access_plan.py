import pytest

from contracts.principals import HUB_APP_ID
from hub.errors import ProvisionError
from hub.stack.access_plan import (
    AccessPlan,
    AclRule,
    Operation,
    Pattern,
    Resource,
    group_prefix,
    plan_access,
)

PLAN = plan_access(("caf33", "insee"), ("observatoire-bordeaux",))


def rules_of(principal: str) -> set[AclRule]:
    return {rule for rule in PLAN.acls if rule.principal == f"User:{principal}"}


def test_partner_writes_its_own_drops_topic_only() -> None:
    topic_rules = {r for r in rules_of("caf33") if r.resource is Resource.TOPIC}
    assert topic_rules == {
        AclRule("User:caf33", Resource.TOPIC, "drops.caf33", Pattern.LITERAL, Operation.WRITE),
        AclRule("User:caf33", Resource.TOPIC, "drops.caf33", Pattern.LITERAL, Operation.DESCRIBE),
        AclRule("User:caf33", Resource.TOPIC, "receipts.caf33", Pattern.LITERAL, Operation.READ),
        AclRule(
            "User:caf33", Resource.TOPIC, "receipts.caf33", Pattern.LITERAL, Operation.DESCRIBE
        ),
    }
    reads = {r.name for r in rules_of("caf33") if r.operation is Operation.READ}
    assert reads == {"receipts.caf33"}  # its own receipts, nothing else


def test_a_partner_whose_convention_ended_keeps_its_topics_but_no_rights() -> None:
    plan = plan_access(("caf33", "insee"), (), writers=("insee",))
    assert {"drops.caf33", "receipts.caf33"} <= {t.name for t in plan.topics}
    assert not [r for r in plan.acls if r.principal == "User:caf33"]
    assert [r for r in plan.acls if r.principal == "User:insee"]


def test_consumer_reads_its_own_topic_and_groups_only() -> None:
    rules = rules_of("observatoire-bordeaux")
    assert {(r.resource, r.name, r.pattern, r.operation) for r in rules} == {
        (Resource.TOPIC, "indicators.observatoire-bordeaux", Pattern.LITERAL, Operation.READ),
        (Resource.TOPIC, "indicators.observatoire-bordeaux", Pattern.LITERAL, Operation.DESCRIBE),
        (Resource.GROUP, "observatoire-bordeaux-", Pattern.PREFIXED, Operation.READ),
    }


def test_hub_reads_drops_but_never_writes_them() -> None:
    hub = rules_of("hub")
    drops = {r.operation for r in hub if r.name == "drops."}
    assert drops == {Operation.READ, Operation.DESCRIBE}


def test_no_wildcard_or_admin_rules() -> None:
    assert all(r.name != "*" for r in PLAN.acls)
    assert not rules_of("admin")


def test_topics_and_users() -> None:
    names = {t.name for t in PLAN.topics}
    assert names == {
        "drops.caf33",
        "drops.insee",
        "receipts.caf33",
        "receipts.insee",
        "hub.quarantine",
        "hub.aggregates",
        "hub.audit",
        "hub.releases",
        "indicators",
        "indicators.observatoire-bordeaux",
    }
    assert PLAN.users == ("hub", "caf33", "insee", "observatoire-bordeaux")


def test_the_register_keeps_every_release_and_each_audit_writer_has_a_partition() -> None:
    topics = {t.name: t for t in PLAN.topics}
    assert dict(topics["hub.releases"].config) == {"retention.ms": "-1"}
    assert dict(topics["indicators"].config) == {"cleanup.policy": "compact"}
    assert topics["hub.audit"].partitions == 2


def group_acl_matches(rule: AclRule, group: str) -> bool:
    """Whether `rule` lets its principal use consumer group `group` (as Kafka matches)."""
    if rule.resource is not Resource.GROUP:
        return False
    if rule.pattern is Pattern.PREFIXED:
        return group.startswith(rule.name)
    return group == rule.name


def may_use_group(plan: AccessPlan, principal: str, group: str) -> bool:
    return any(group_acl_matches(r, group) for r in plan.acls if r.principal == f"User:{principal}")


def test_consumer_groups_are_named_consumer_dash_anything() -> None:
    assert group_prefix("observatoire-bordeaux") == "observatoire-bordeaux-"
    for group in ("observatoire-bordeaux-app", "observatoire-bordeaux-tests"):
        assert may_use_group(PLAN, "observatoire-bordeaux", group)
    for group in ("observatoire-bordeaux", "observatoire-bordeaux.app", "observatoire-bordeauxx"):
        assert not may_use_group(PLAN, "observatoire-bordeaux", group), group


@pytest.mark.parametrize(
    ("short", "long"),
    [
        ("observatoire-bordeaux", "observatoire-bordeauxmetropole"),
        ("obs", "obs2"),
        ("agora", "agora-le-bouscat"),
    ],
)
def test_a_consumer_never_gets_the_groups_of_one_whose_name_extends_its_own(
    short: str, long: str
) -> None:
    if long.startswith(f"{short}-"):  # no PREFIXED pattern can separate them
        with pytest.raises(ProvisionError, match=long):
            plan_access(("caf33",), (short, long))
        return
    plan = plan_access(("caf33",), (short, long))
    for owner, other in ((short, long), (long, short)):
        samples = [f"{owner}-app", f"{owner}-tests", f"{owner}-{other}", f"{owner}-x-y"]
        assert all(may_use_group(plan, owner, group) for group in samples), owner
        assert not any(may_use_group(plan, other, group) for group in samples), (other, owner)


def test_a_name_extending_another_with_a_dash_is_refused() -> None:
    # `observatoire-bordeaux-` is a prefix of every `observatoire-bordeaux-metropole-…`:
    # no PREFIXED pattern could give the first its groups without the second's.
    with pytest.raises(ProvisionError, match="observatoire-bordeaux-metropole"):
        plan_access(("caf33",), ("observatoire-bordeaux", "observatoire-bordeaux-metropole"))
    with pytest.raises(ProvisionError, match=HUB_APP_ID):
        plan_access(("caf33",), ("obshub",))  # `obshub-` would match the hub's groups
    with pytest.raises(ProvisionError, match=HUB_APP_ID):
        plan_access(("caf33",), ("obshub-hub-x",))  # the hub's prefix would match its groups
    assert plan_access(("caf33",), ("observatoire-bordeaux", "observatoire-gironde")).users


def test_no_consumer_may_use_the_hubs_groups() -> None:
    plan = plan_access(("caf33",), ("observatoire-bordeaux", "obshub2", "hubble"))
    for consumer in ("observatoire-bordeaux", "obshub2", "hubble"):
        assert not may_use_group(plan, consumer, HUB_APP_ID)
        assert not may_use_group(plan, consumer, f"{HUB_APP_ID}-release")
