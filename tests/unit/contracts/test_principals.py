from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.principals import (
    CredentialsFileError,
    KafkaCredentials,
    PrincipalNameError,
    consumer_topic,
    credentials_from_properties,
    drops_topic,
    parse_properties,
)

passwords = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters='"\\'),
    min_size=1,
    max_size=64,
)


@given(password=passwords, user=st.sampled_from(["admin", "caf33", "observatoire-bordeaux"]))
def test_properties_round_trip(password: str, user: str) -> None:
    creds = KafkaCredentials("127.0.0.1:9092", user, password)
    parsed = credentials_from_properties(parse_properties(creds.to_properties()), Path("x"))
    assert parsed == creds


def test_properties_hold_the_four_client_settings() -> None:
    props = parse_properties(KafkaCredentials("h:1", "hub", "pw").to_properties())
    assert props["bootstrap.servers"] == "h:1"
    assert props["security.protocol"] == "SASL_PLAINTEXT"
    assert props["sasl.mechanism"] == "SCRAM-SHA-512"
    assert 'username="hub"' in props["sasl.jaas.config"]


def test_librdkafka_form_has_no_jaas() -> None:
    props = parse_properties(KafkaCredentials("h:1", "hub", "pw").to_librdkafka_properties())
    assert "sasl.jaas.config" not in props
    assert (props["sasl.username"], props["sasl.password"]) == ("hub", "pw")


def test_repr_hides_the_password() -> None:
    assert "s3cret" not in repr(KafkaCredentials("h:1", "hub", "s3cret"))


def test_missing_key_names_file_and_key() -> None:
    with pytest.raises(
        CredentialsFileError, match=r"creds\.properties: missing bootstrap\.servers"
    ):
        credentials_from_properties({"sasl.jaas.config": "x"}, Path("creds.properties"))


@pytest.mark.parametrize("name", ["", "CAF", "caf_33", "-caf", "a" * 64, "caf 33"])
def test_invalid_principal_names(name: str) -> None:
    with pytest.raises(PrincipalNameError):
        drops_topic(name)


def test_topic_names() -> None:
    assert drops_topic("ccas-bordeaux") == "drops.ccas-bordeaux"
    assert consumer_topic("agora-le-bouscat") == "indicators.agora-le-bouscat"
