from hub.stack.access_plan import AclRule, Operation, Pattern, Resource, plan_access

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
        (Resource.GROUP, "observatoire-bordeaux", Pattern.PREFIXED, Operation.READ),
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
