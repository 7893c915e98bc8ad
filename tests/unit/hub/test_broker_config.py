from pathlib import Path

import pytest

from contracts.principals import parse_properties
from hub.stack.broker import BrokerLayout, logging_flavour, render_log4j, render_server_properties


def layout(version: str = "3.9.2") -> BrokerLayout:
    root = Path("/state/kafka")
    return BrokerLayout(
        root,
        Path("/state/logs"),
        Path("/state/run"),
        Path("/jars"),
        version,
        "127.0.0.1",
        19092,
        19093,
        "256m",
    )


def test_server_properties_lock_the_broker_down() -> None:
    props = parse_properties(render_server_properties(layout(), "pw"))
    assert props["listeners"] == "CLIENT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert props["listener.security.protocol.map"] == (
        "CLIENT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT"
    )
    assert props["listener.name.client.sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert props["authorizer.class.name"].endswith("StandardAuthorizer")
    assert props["allow.everyone.if.no.acl.found"] == "false"
    assert props["super.users"] == "User:broker;User:admin"
    assert props["auto.create.topics.enable"] == "false"


@pytest.mark.parametrize(
    ("version", "flavour", "marker"),
    [("3.9.2", "reload4j", "log4j.rootLogger"), ("4.1.1", "log4j2", "rootLogger.level")],
)
def test_logging_follows_the_release_line(version: str, flavour: str, marker: str) -> None:
    assert logging_flavour(version) == flavour
    text = render_log4j(layout(version))
    assert marker in text
    assert "/state/logs/kafka.log" in text
    assert flavour in layout(version).log4j_flag or "log4j2" in layout(version).log4j_flag
