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
    reason = "kafka_unavailable"

    def __init__(self, creds: KafkaCredentials, topic: str, detail: str) -> None:
        self.detail = detail
        super().__init__(
            f"publishing to {topic} on {creds.bootstrap_servers} as {creds.username}: {detail}"
        )


class _BootstrapWatch(logging.Handler):
    """Remembers why kafka-python's bootstrap failed (it only logs it)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.auth_failed = False
        self.refused = False

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        self.auth_failed |= "Authentication failed" in text or "SaslAuthentication" in text
        self.refused |= "Connection refused" in text or "ECONNREFUSED" in text


def _bootstrap_failure(watch: _BootstrapWatch) -> str:
    if watch.auth_failed:
        return "authentication refused (wrong user or password in the client settings)"
    if watch.refused:
        return "connection refused: is the broker running at this address?"
    return (
        "cannot reach or authenticate to the broker (check the address, the user and the "
        "password in the client settings)"
    )


class KafkaSink:
    """Sends a drop's messages in order and waits for every acknowledgement."""

    def __init__(
        self, creds: KafkaCredentials, topic: str, bootstrap_timeout_ms: int = 15_000
    ) -> None:
        self.creds, self.topic = creds, topic
        kafka_log = logging.getLogger("kafka")
        watch = _BootstrapWatch()
        kafka_log.addHandler(watch)
        level, propagate = kafka_log.level, kafka_log.propagate
        # see the reason even when the CLI silences kafka, without printing it
        kafka_log.setLevel(logging.DEBUG)
        kafka_log.propagate = False
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
                bootstrap_timeout_ms=bootstrap_timeout_ms,
            )
        except KafkaTimeoutError as exc:
            raise KafkaPublishError(creds, topic, _bootstrap_failure(watch)) from exc
        finally:
            kafka_log.removeHandler(watch)
            kafka_log.setLevel(level)
            kafka_log.propagate = propagate
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
