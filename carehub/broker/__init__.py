"""The broker layer: one interface, Apache Kafka or the embedded SQLite log behind it."""

from __future__ import annotations

from carehub.broker.base import (
    Admin,
    Broker,
    Consumer,
    ConsumerOptions,
    GroupOffsets,
    Headers,
    Message,
    Producer,
    TopicPartition,
    TopicSpec,
)
from carehub.broker.url import EmbeddedURL, KafkaURL, parse_broker_url


def open_broker(url: str, *, retry_seconds: float = 30.0, kafka_config: dict | None = None) -> Broker:
    """The broker a URL names (see `parse_broker_url`)."""
    target = parse_broker_url(url)
    if isinstance(target, KafkaURL):
        from carehub.broker.kafka import KafkaBroker

        return KafkaBroker(target, url=url, retry_seconds=retry_seconds, client_config=kafka_config or {})
    from carehub.broker.embedded import EmbeddedBroker

    return EmbeddedBroker(target.path, url=url)


__all__ = [
    "Admin", "Broker", "Consumer", "ConsumerOptions", "GroupOffsets", "Headers", "Message",
    "Producer", "TopicPartition", "TopicSpec", "open_broker", "parse_broker_url",
]
