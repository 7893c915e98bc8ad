"""The real `Sink`: kafka-python, idempotent producer, acks=all."""

from __future__ import annotations

import logging
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError, KafkaTimeoutError, TopicAuthorizationFailedError

from connectors.errors import ConnectorError
from contracts.principals import KafkaCredentials

log = logging.getLogger(__name__)
MAX_REQUEST_BYTES = 1_000_000


class KafkaPublishError(ConnectorError):
    def __init__(self, creds: KafkaCredentials, topic: str, reason: str) -> None:
        super().__init__(
            f"publishing to {topic} on {creds.bootstrap_servers} as {creds.username}: {reason}"
        )


class KafkaSink:
    """Sends a drop's messages in order and waits for every acknowledgement."""

    def __init__(self, creds: KafkaCredentials, topic: str) -> None:
        self.creds, self.topic = creds, topic
        try:
            self._producer = KafkaProducer(
                **creds.kafka_python_config(),
                client_id=f"obshub-connector-{creds.username}",
                acks="all",
                enable_idempotence=True,
                linger_ms=10,
                max_request_size=MAX_REQUEST_BYTES,
                retries=2**31 - 1,
                delivery_timeout_ms=120_000,
            )
        except KafkaTimeoutError as exc:
            raise KafkaPublishError(
                creds,
                topic,
                "cannot reach or authenticate to the broker "
                "(check the address, the user and the password in the client settings)",
            ) from exc
        self._futures: list[Any] = []

    def send(self, topic: str, key: bytes, value: bytes) -> None:
        self._futures.append(self._producer.send(topic, key=key, value=value))

    def flush(self) -> None:
        self._producer.flush()
        for future in self._futures:
            try:
                future.get(timeout=60)
            except TopicAuthorizationFailedError as exc:
                raise KafkaPublishError(
                    self.creds, self.topic, "not authorised to write this topic"
                ) from exc
            except KafkaError as exc:
                raise KafkaPublishError(self.creds, self.topic, str(exc)) from exc
        self._futures.clear()

    def close(self) -> None:
        self._producer.close(timeout=10)
