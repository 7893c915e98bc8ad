from hub.stack.access_plan import AclRule, Operation, Pattern, Resource, plan_access

PLAN = plan_access(("caf33", "insee"), ("observatoire-bordeaux",))


def rules_of(principal: str) -> set[AclRule]:
    return {rule for rule in PLAN.acls if rule.principal == f"User:{principal}"}


def test_partner_writes_its_own_drops_topic_only() -> None:
    topic_rules = {r for r in rules_of("caf33") if r.resource is Resource.TOPIC}
    assert topic_rules == {
        AclRule("User:caf33", Resource.TOPIC, "drops.caf33", Pattern.LITERAL, Operation.WRITE),
        AclRule("User:caf33", Resource.TOPIC, "drops.caf33", Pattern.LITERAL, Operation.DESCRIBE),
    }
    assert not any(r.operation is Operation.READ for r in rules_of("caf33"))


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
        "hub.quarantine",
        "hub.aggregates",
        "hub.audit",
        "indicators",
        "indicators.observatoire-bordeaux",
    }
    assert PLAN.users == ("hub", "caf33", "insee", "observatoire-bordeaux")
