"""Publish the generated region's source records to any broker under a topic prefix, in the order a test chooses."""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from carehub.avro import subject_for
from carehub.broker.base import TopicPartition
from carehub.hub import Hub
from carehub.settings import Settings
from carehub.topics import catalog_topic
from consumers.offsets import consumer_offset
from consumers.store import ROUTES
from tests.consumers.conftest import Region

#: Confluent's frame: magic byte, then the 4-byte big-endian schema id.
FRAME = struct.Struct(">bI")


@dataclass(frozen=True)
class SourceRecord:
    """One record as the region's connectors published it: unprefixed topic, key and framed Avro value."""

    topic: str
    key: bytes | None
    value: bytes


def source_records(region: Region) -> list[SourceRecord]:
    """Every source record of the region, topic by topic in routing order, each partition in offset order."""
    found: list[SourceRecord] = []
    with region.hub.broker.admin() as admin:
        partitions = admin.list_topics()
        for topic in ROUTES:
            for partition in range(partitions.get(topic, 0)):
                offset = 0
                while batch := admin.read(TopicPartition(topic, partition), offset, 5000):
                    found += [SourceRecord(topic, m.key, m.value) for m in batch]
                    offset = batch[-1].offset + 1
    return found


def region_hub(region: Region, home: Path, *, broker: str, database_url: str, topic_prefix: str,
               retry_seconds: float = 30.0) -> Hub:
    """A hub on this broker and database sharing the region's secret, so that person keys and the
    decryption of resident IDs agree with the region's."""
    return Hub(Settings(home=home, broker=broker, database_url=database_url, topic_prefix=topic_prefix,
                        secret_key=region.hub.settings.secret.decode(), retry_seconds=retry_seconds))


def create_source_topics(hub: Hub) -> None:
    """The hub's prefixed source topics, with the partitions the catalog gives them."""
    with hub.broker.admin() as admin:
        admin.create_topics([catalog_topic(topic).spec(hub.settings.topic_prefix) for topic in ROUTES])


def reframed(region: Region, hub: Hub, record: SourceRecord) -> bytes:
    """The record's value framed with the id the hub's own registry gives its writer schema."""
    _, region_id = FRAME.unpack_from(record.value)
    subject = subject_for(hub.settings.topic_prefix + record.topic)
    schema_id = hub.registry.register(subject, region.hub.registry.schema_by_id(region_id))
    return FRAME.pack(0, schema_id) + record.value[FRAME.size:]


def publish(region: Region, hub: Hub, records: Iterable[SourceRecord]) -> int:
    """Publish the records through the hub in the order given; return how many."""
    create_source_topics(hub)
    sent = 0
    with hub.broker.producer() as producer:
        for record in records:
            producer.send(hub.settings.topic_prefix + record.topic, reframed(region, hub, record), key=record.key)
            sent += 1
        producer.flush()
    return sent


def stored_offset_total(engine: sa.Engine, group: str) -> int:
    """How many source records the group's stored offsets say are reconciled, over all partitions."""
    with engine.connect() as conn:
        total = conn.scalar(sa.select(sa.func.sum(consumer_offset.c.next_offset)).where(consumer_offset.c.group_id == group))
    return int(total or 0)
