"""The topic catalog: every topic carehub writes, its key, schema, partitions and retention."""

from __future__ import annotations

from dataclasses import dataclass

from carehub.broker.base import TopicSpec
from carehub.errors import ConfigError

#: Person-related topics share this count so that one person's records share a partition number.
PERSON_PARTITIONS = 3
DLQ_PREFIX = "dlq."
WEEK_MS = 7 * 24 * 3600 * 1000


@dataclass(frozen=True)
class CatalogTopic:
    name: str
    key: str
    schema: str | None  # path under schemas/, None for JSON (dead-letter) topics
    partitions: int
    compact: bool
    retention_ms: int | None  # None: broker default; -1: forever
    description: str

    def spec(self, prefix: str = "", replication_factor: int = 1) -> TopicSpec:
        """What to create on the broker; `prefix` (CAREHUB_TOPIC_PREFIX) keeps environments apart."""
        return TopicSpec(prefix + self.name, self.partitions, replication_factor, self.compact, self.retention_ms)


PERSON_KEY = "person_key: HMAC-SHA256 of the normalised resident ID (hex)"

CATALOG: tuple[CatalogTopic, ...] = (
    CatalogTopic(
        "src.registry.person.v1", PERSON_KEY, "registry/person.avsc", PERSON_PARTITIONS,
        compact=False, retention_ms=-1,
        description="Persons from the population registry (人口基础信息库): identity, household registration, address.",
    ),
)


def dead_letter_topic(connector_or_group: str) -> CatalogTopic:
    """The DLQ of a connector or consumer group: rejected records as JSON, PII masked."""
    return CatalogTopic(
        f"{DLQ_PREFIX}{connector_or_group}", "source position of the rejected record", None, 1,
        compact=False, retention_ms=4 * WEEK_MS,
        description=f"Records {connector_or_group} rejected, with headers naming stage, field, rule and source position.",
    )


def catalog_topic(name: str) -> CatalogTopic:
    for topic in CATALOG:
        if topic.name == name:
            return topic
    if name.startswith(DLQ_PREFIX):
        return dead_letter_topic(name.removeprefix(DLQ_PREFIX))
    known = ", ".join(t.name for t in CATALOG)
    raise ConfigError(f"topic {name!r} is not in the catalog; known topics: {known}")
