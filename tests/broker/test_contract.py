"""The broker contract, run against the embedded SQLite log and against Apache Kafka alike."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from kafka.admin import KafkaAdminClient
from kafka.partitioner.default import murmur2

from carehub.broker import (
    Broker,
    Consumer,
    ConsumerOptions,
    Message,
    TopicPartition,
    TopicSpec,
    open_broker,
)
from carehub.errors import ConfigError, PublishError, ServiceUnavailable

# Short timeouts keep group joins and rebalances to about a second on the test Kafka
# (group.initial.rebalance.delay.ms=0).
FAST = ConsumerOptions(session_timeout_ms=6000, heartbeat_interval_ms=1000)
WAIT_S = 30.0


def kafka_partition(key: bytes, partitions: int) -> int:
    """Where the Java client's default partitioner puts a keyed record."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


@pytest.fixture
def broker(broker_url: str) -> Broker:
    return open_broker(broker_url, retry_seconds=10)


def create_topic(broker: Broker, name: str, partitions: int) -> str:
    with broker.admin() as admin:
        admin.create_topics([TopicSpec(name, partitions=partitions)])
    return name


def produce(broker: Broker, topic: str, records: list[tuple[bytes | None, bytes | None]]) -> None:
    with broker.producer() as producer:
        for key, value in records:
            producer.send(topic, value, key=key)
        producer.flush()


def poll_until(consumer: Consumer, count: int) -> list[Message]:
    """Poll until `count` records arrived (or WAIT_S passed); return what arrived."""
    messages: list[Message] = []
    deadline = time.monotonic() + WAIT_S
    while len(messages) < count and time.monotonic() < deadline:
        messages += consumer.poll(max_records=500, timeout_s=0.5)
    return messages


def test_a_record_comes_back_with_its_key_value_headers_and_timestamp(broker: Broker, unique: str) -> None:
    topic = create_topic(broker, f"test.roundtrip.{unique}", partitions=1)
    sent = [
        (b"person-1", b"\x00\xff avro bytes", (("stage", b"map"), ("trace", b"\x00\x01\xfe")), 1_700_000_000_123),
        (b"person-2", b"", (("名称", "民政".encode()), ("stage", b"validate"), ("stage", b"")), 1_700_000_000_456),
        (b"person-1", None, (), 1_700_000_000_789),  # a tombstone
        (None, b"unkeyed", (), 0),
    ]
    with broker.producer() as producer:
        for key, value, headers, timestamp_ms in sent:
            producer.send(topic, value, key=key, headers=headers, timestamp_ms=timestamp_ms)
        producer.flush()

    with broker.consumer(f"g.{unique}", [topic], FAST) as consumer:
        received = poll_until(consumer, len(sent))

    assert [(m.key, m.value, m.headers, m.timestamp_ms) for m in received] == sent
    assert received[0].header("trace") == b"\x00\x01\xfe"


def test_offsets_start_at_zero_and_are_dense_and_in_send_order_per_partition(broker: Broker, unique: str) -> None:
    topic = create_topic(broker, f"test.offsets.{unique}", partitions=3)
    records = [(b"key-%d" % (i % 7), b"value-%d" % i) for i in range(90)]
    produce(broker, topic, records[:40])
    produce(broker, topic, records[40:])  # a second producer continues each partition's offsets

    with broker.consumer(f"g.{unique}", [topic], FAST) as consumer:
        received = poll_until(consumer, len(records))

    assert len(received) == len(records)
    for partition in range(3):
        in_partition = [m for m in received if m.partition == partition]
        assert [m.offset for m in in_partition] == list(range(len(in_partition)))
        sent_here = [value for key, value in records if kafka_partition(key, 3) == partition]
        assert [m.value for m in in_partition] == sent_here


def test_a_key_lands_in_the_partition_kafkas_default_partitioner_picks(broker: Broker, unique: str) -> None:
    topic = create_topic(broker, f"test.partitioner.{unique}", partitions=5)
    keys = [b"", b"a", b"21", b"foobar", "110101********123X".encode()] + [b"person-%d" % i for i in range(195)]
    produce(broker, topic, [(key, key) for key in keys])

    with broker.consumer(f"g.{unique}", [topic], FAST) as consumer:
        received = poll_until(consumer, len(keys))

    assert sorted(m.key for m in received) == sorted(keys)
    assert {m.key: m.partition for m in received} == {key: kafka_partition(key, 5) for key in keys}


def test_create_topics_is_idempotent_and_keeps_partitions_and_compaction(broker: Broker, unique: str) -> None:
    dataset, source = f"test.ds.{unique}", f"test.src.{unique}"
    with broker.admin() as admin:
        admin.create_topics([TopicSpec(dataset, partitions=4, compact=True, retention_ms=3_600_000)])
        admin.create_topics([
            TopicSpec(dataset, partitions=2, compact=False),  # exists: left as it is
            TopicSpec(source, partitions=2),
        ])
        topics = admin.list_topics()
        described = admin.describe_topic(dataset), admin.describe_topic(source)
        missing = admin.describe_topic(f"test.missing.{unique}")

    assert (topics[dataset], topics[source]) == (4, 2)
    assert not [name for name in topics if name.startswith("__")]
    assert described == (
        TopicSpec(dataset, partitions=4, compact=True, retention_ms=3_600_000),
        TopicSpec(source, partitions=2, compact=False, retention_ms=None),
    )
    assert missing is None


def test_producing_to_an_unknown_topic_creates_it_with_three_partitions(broker: Broker, unique: str) -> None:
    topic = f"test.auto.{unique}"
    produce(broker, topic, [(b"k", b"v")])

    with broker.admin() as admin:
        assert admin.list_topics()[topic] == 3


def test_a_new_member_of_the_group_resumes_after_the_last_commit(broker: Broker, unique: str) -> None:
    topic = create_topic(broker, f"test.resume.{unique}", partitions=1)
    produce(broker, topic, [(None, b"%d" % i) for i in range(10)])
    tp = TopicPartition(topic, 0)

    with broker.consumer(f"g.{unique}", [topic], FAST) as first:
        assert len(poll_until(first, 10)) == 10
        first.commit({tp: 3})
        first.commit({tp: 6})
    with broker.consumer(f"g.{unique}", [topic], FAST) as second:
        resumed = poll_until(second, 4)

    assert [m.offset for m in resumed] == [6, 7, 8, 9]


def test_seek_reads_records_again(broker: Broker, unique: str) -> None:
    topic = create_topic(broker, f"test.seek.{unique}", partitions=1)
    produce(broker, topic, [(None, b"%d" % i) for i in range(5)])
    tp = TopicPartition(topic, 0)

    with broker.consumer(f"g.{unique}", [topic], FAST) as consumer:
        assert len(poll_until(consumer, 5)) == 5
        assert consumer.position(tp) == 5
        consumer.seek(tp, 2)
        again = poll_until(consumer, 3)
        assert consumer.position(tp) == 5

    assert [(m.offset, m.value) for m in again] == [(2, b"2"), (3, b"3"), (4, b"4")]


def test_lag_is_reported_for_a_group_with_no_active_member(broker: Broker, unique: str) -> None:
    topic = create_topic(broker, f"test.lag.{unique}", partitions=2)
    produce(broker, topic, [(b"key-%d" % i, b"v") for i in range(40)])
    group = f"g.{unique}"
    first, second = TopicPartition(topic, 0), TopicPartition(topic, 1)
    with broker.consumer(group, [topic], FAST) as consumer:
        assert len(poll_until(consumer, 40)) == 40
        consumer.commit({first: 3, second: 5})

    with broker.admin() as admin:
        ends = admin.end_offsets([first, second])
        groups = admin.list_groups()
        committed = admin.committed_offsets(group)
        lags = {TopicPartition(g.topic, g.partition): g.lag for g in admin.group_offsets(group)}

    sent_to_first = sum(kafka_partition(b"key-%d" % i, 2) == 0 for i in range(40))
    assert ends == {first: sent_to_first, second: 40 - sent_to_first}
    assert group in groups
    assert committed == {first: 3, second: 5}
    assert lags == {first: ends[first] - 3, second: ends[second] - 5}


def test_admin_reads_records_from_an_offset_without_a_group_or_a_commit(broker: Broker, unique: str) -> None:
    topic = create_topic(broker, f"test.read.{unique}", partitions=2)
    first, second = TopicPartition(topic, 0), TopicPartition(topic, 1)
    sent_ms = int(time.time() * 1000)  # recent: Kafka's retention would delete records of 2023 at once
    with broker.producer() as producer:
        for i in range(10):
            producer.send(topic, b"v%d" % i, key=b"same-key", headers=(("stage", b"map"),), timestamp_ms=sent_ms + i)
        producer.flush()
    (tp,) = [t for t in (first, second) if t.partition == kafka_partition(b"same-key", 2)]
    group = f"g.{unique}"
    with broker.consumer(group, [topic], FAST) as consumer:
        assert len(poll_until(consumer, 10)) == 10
        consumer.commit({tp: 4})

    with broker.admin() as admin:
        middle = admin.read(tp, 3, max_records=4)
        tail = admin.read(tp, 8)
        started = time.monotonic()
        past_end = admin.read(tp, 10, timeout_s=3)
        past_end_s = time.monotonic() - started
        empty_partition = admin.read(TopicPartition(topic, 1 - tp.partition), 0)
        groups = admin.list_groups()
        committed = admin.committed_offsets(group)

    assert [(m.offset, m.value, m.timestamp_ms) for m in middle] == [
        (offset, b"v%d" % offset, sent_ms + offset) for offset in (3, 4, 5, 6)
    ]
    assert all(m.key == b"same-key" and m.header("stage") == b"map" and m.tp == tp for m in middle)
    assert [m.offset for m in tail] == [8, 9]
    assert past_end == [] and past_end_s < 2
    assert empty_partition == []
    assert committed == {tp: 4}  # reading neither committed nor moved the group
    assert [g for g in groups if g.startswith("g.") and g.endswith(unique)] == [group]


def test_admin_reads_the_timestamp_of_the_first_record_at_each_offset(broker: Broker, unique: str) -> None:
    sent_ms = int(time.time() * 1000)
    topics = [f"test.stamps.{name}.{unique}" for name in ("a", "b", "c")]
    for topic in topics:
        create_topic(broker, topic, partitions=1)
    with broker.producer() as producer:
        for topic_index, topic in enumerate(topics):
            for i in range(5):
                producer.send(topic, b"v", timestamp_ms=sent_ms + 1000 * topic_index + i)
        producer.flush()
    a, b, c = (TopicPartition(topic, 0) for topic in topics)

    with broker.admin() as admin:
        stamps = admin.record_timestamps({a: 0, b: 3, c: 5})

    assert stamps == {a: sent_ms, b: sent_ms + 1003}  # c: nothing at or after its end


def test_two_members_split_the_partitions_and_read_each_record_once(broker: Broker, unique: str) -> None:
    topic = create_topic(broker, f"test.split.{unique}", partitions=4)
    everything = {TopicPartition(topic, p) for p in range(4)}
    group = f"g.{unique}"
    with broker.consumer(group, [topic], FAST) as first, broker.consumer(group, [topic], FAST) as second:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline and not (
            first.assignment() and second.assignment()
            and first.assignment() | second.assignment() == everything
            and not first.assignment() & second.assignment()
        ):
            assert first.poll(timeout_s=0.2) == second.poll(timeout_s=0.2) == []
        assignments = first.assignment(), second.assignment()
        assert assignments[0] and assignments[1]
        assert assignments[0] | assignments[1] == everything and not assignments[0] & assignments[1]

        produce(broker, topic, [(b"person-%d" % i, b"%d" % i) for i in range(200)])
        read: dict[int, list[Message]] = {0: [], 1: []}
        deadline = time.monotonic() + WAIT_S
        while len(read[0]) + len(read[1]) < 200 and time.monotonic() < deadline:
            read[0] += first.poll(timeout_s=0.2)
            read[1] += second.poll(timeout_s=0.2)

    for member, messages in read.items():
        assert {m.tp for m in messages} <= assignments[member]
    values = [m.value for m in read[0] + read[1]]
    assert sorted(values) == sorted(b"%d" % i for i in range(200))


def test_on_assign_runs_before_records_arrive_and_may_seek(broker: Broker, unique: str) -> None:
    topic = create_topic(broker, f"test.assign.{unique}", partitions=1)
    produce(broker, topic, [(None, b"%d" % i) for i in range(10)])
    tp = TopicPartition(topic, 0)
    events: list[tuple[str, object]] = []
    consumers: list[Consumer] = []

    def on_assign(partitions: set[TopicPartition]) -> None:
        events.append(("assigned", partitions))
        consumers[0].seek(tp, 7)  # where a reconciler's own offset store says to resume

    def on_revoke(partitions: set[TopicPartition]) -> None:
        events.append(("revoked", partitions))

    options = dataclasses.replace(FAST, on_assign=on_assign, on_revoke=on_revoke)
    with broker.consumer(f"g.{unique}", [topic], options) as consumer:
        consumers.append(consumer)
        received = poll_until(consumer, 3)
        events.append(("records", [m.offset for m in received]))

    assert events == [("assigned", {tp}), ("records", [7, 8, 9]), ("revoked", {tp})]


_PRODUCER_PROCESS = textwrap.dedent("""
    import sys, time
    from carehub.broker import open_broker
    url, topic, name, start_at = sys.argv[1:]
    with open_broker(url, retry_seconds=10).producer() as producer:
        time.sleep(max(0.0, float(start_at) - time.time()))  # all processes write at once
        for batch in range(200):
            for i in range(10):
                producer.send(topic, f"{name}-{batch * 10 + i}".encode(), key=b"one-partition")
            producer.flush()
""")


def test_producers_in_several_processes_append_densely(broker: Broker, broker_url: str, unique: str) -> None:
    topic = create_topic(broker, f"test.processes.{unique}", partitions=2)
    start_at = str(time.time() + 3)
    processes = [
        subprocess.Popen([sys.executable, "-c", _PRODUCER_PROCESS, broker_url, topic, f"p{n}", start_at])
        for n in range(3)
    ]
    assert [process.wait(timeout=120) for process in processes] == [0, 0, 0]

    with broker.consumer(f"g.{unique}", [topic], FAST) as consumer:
        received = poll_until(consumer, 6000)

    assert [m.offset for m in received] == list(range(6000))
    assert {m.partition for m in received} == {kafka_partition(b"one-partition", 2)}
    for name in ("p0", "p1", "p2"):
        assert [m.value for m in received if m.value.startswith(name.encode() + b"-")] == [
            f"{name}-{i}".encode() for i in range(2000)
        ]


def test_a_member_busy_for_longer_than_the_session_timeout_keeps_its_partitions(broker: Broker, unique: str) -> None:
    topic = create_topic(broker, f"test.busy.{unique}", partitions=2)
    group = f"g.{unique}"
    options = dataclasses.replace(FAST, session_timeout_ms=3000, heartbeat_interval_ms=500)
    with broker.consumer(group, [topic], options) as idle, broker.consumer(group, [topic], options) as busy:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline and not (len(idle.assignment()) == len(busy.assignment()) == 1):
            idle.poll(timeout_s=0.2)
            busy.poll(timeout_s=0.2)
        settled = idle.assignment(), busy.assignment()
        assert len(settled[0]) == len(settled[1]) == 1

        busy_until = time.monotonic() + 5  # `busy` works on a batch and does not poll
        while time.monotonic() < busy_until:
            idle.poll(timeout_s=0.2)
        assert idle.assignment() == settled[0]
        busy.poll(timeout_s=0.5)  # back from its batch: still a member, nothing moved
        assert busy.assignment() == settled[1]


_MEMBER_PROCESS = textwrap.dedent("""
    import sys
    from carehub.broker import ConsumerOptions, open_broker
    url, topic, group = sys.argv[1:]
    options = ConsumerOptions(session_timeout_ms=3000, heartbeat_interval_ms=500)
    consumer = open_broker(url, retry_seconds=10).consumer(group, [topic], options)
    print("started", flush=True)
    while True:  # a healthy member keeps polling until it is killed
        consumer.poll(timeout_s=0.2)
""")


def test_the_partitions_of_a_killed_member_go_to_the_others_after_the_session_timeout(
    broker: Broker, broker_url: str, unique: str
) -> None:
    topic = create_topic(broker, f"test.failover.{unique}", partitions=2)
    group = f"g.{unique}"
    member = subprocess.Popen(
        [sys.executable, "-c", _MEMBER_PROCESS, broker_url, topic, group], stdout=subprocess.PIPE, text=True
    )
    try:
        assert member.stdout is not None and member.stdout.readline() == "started\n"
        options = dataclasses.replace(FAST, session_timeout_ms=3000, heartbeat_interval_ms=500)
        with broker.consumer(group, [topic], options) as survivor:
            deadline = time.monotonic() + WAIT_S
            while len(survivor.assignment()) != 1 and time.monotonic() < deadline:
                survivor.poll(timeout_s=0.2)  # until the group settles with one partition each
            assert len(survivor.assignment()) == 1
            member.kill()
            member.wait()
            produce(broker, topic, [(b"person-%d" % i, b"%d" % i) for i in range(50)])

            received = poll_until(survivor, 50)

            assert len(survivor.assignment()) == 2
    finally:
        member.kill()
        member.wait()
    assert sorted(m.value for m in received) == sorted(b"%d" % i for i in range(50))


@pytest.mark.kafka
def test_flush_reports_records_kafka_refused_naming_the_topic(kafka_url: str, unique: str) -> None:
    topic = f"test.refused.{unique}"
    bootstrap = kafka_url.removeprefix("kafka://").split(",")
    with KafkaAdminClient(bootstrap_servers=bootstrap) as kafka_admin:  # a limit TopicSpec cannot set
        kafka_admin.create_topics({topic: {"num_partitions": 1, "configs": {"max.message.bytes": "1000"}}})
    producer = open_broker(kafka_url, retry_seconds=10).producer()
    producer.send(topic, b"x" * 5000)

    with pytest.raises(PublishError) as raised:
        producer.flush()
    producer.close()

    assert topic in str(raised.value) and "MessageSizeTooLarge" in str(raised.value)


@pytest.mark.parametrize("reach", ["ping", "producer", "consumer", "admin"])
def test_an_unreachable_kafka_fails_fast_naming_the_url_and_the_setting(reach: str) -> None:
    url = "kafka://127.0.0.1:1"
    broker = open_broker(url, retry_seconds=1)
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable) as raised:
        if reach == "consumer":
            broker.consumer("g", ["t"])
        else:
            getattr(broker, reach)()

    assert time.monotonic() - started < 8
    assert url in str(raised.value) and "CAREHUB_BROKER" in str(raised.value)


def test_an_embedded_broker_in_a_place_that_cannot_hold_it_names_the_setting(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    url = f"embedded://{tmp_path}/a-file/broker/broker.db"

    with pytest.raises(ConfigError) as raised:
        open_broker(url)

    assert "CAREHUB_BROKER" in str(raised.value) and f"{tmp_path}/a-file/broker" in str(raised.value)
