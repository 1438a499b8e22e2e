"""Consumer groups in a known position, on either transport, for the lag and dashboard tests."""

from __future__ import annotations

import time

from carehub.broker import Broker, ConsumerOptions, TopicPartition, TopicSpec

FAST = ConsumerOptions(session_timeout_ms=6000, heartbeat_interval_ms=1000)
WAIT_S = 30.0


def produce(broker: Broker, topic: str, count: int, timestamp_ms: int | None = None, partitions: int = 1) -> None:
    """`count` records into `topic` (created with `partitions`), one millisecond apart from `timestamp_ms`."""
    with broker.admin() as admin:
        admin.create_topics([TopicSpec(topic, partitions=partitions)])
    with broker.producer() as producer:
        for i in range(count):
            producer.send(topic, b"record %d" % i, timestamp_ms=None if timestamp_ms is None else timestamp_ms + i)
        producer.flush()


def commit(broker: Broker, group: str, offsets: dict[TopicPartition, int]) -> None:
    """Join `group` on the offsets' topics, commit `offsets` and leave: the group has no member after."""
    topics = sorted({tp.topic for tp in offsets})
    with broker.consumer(group, topics, FAST) as consumer:
        deadline = time.monotonic() + WAIT_S
        while not set(offsets) <= consumer.assignment():
            assert time.monotonic() < deadline, f"group {group} was not assigned {sorted(offsets)}"
            consumer.poll(max_records=1, timeout_s=0.2)
        consumer.commit(offsets)
