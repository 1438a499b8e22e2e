"""The Apache Kafka transport: kafka-python's clients behind the broker contract."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TypeVar

import kafka
import kafka.errors as kafka_errors
from kafka.admin import ConfigResource, OffsetSpec
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.partitioner import DefaultPartitioner
from kafka.structs import OffsetAndMetadata

from carehub.broker.base import (
    Admin,
    AssignmentCallback,
    Broker,
    Consumer,
    ConsumerOptions,
    Headers,
    Message,
    Producer,
    TopicPartition,
    TopicSpec,
)
from carehub.broker.partitioner import key_partition
from carehub.broker.url import KafkaURL
from carehub.connectivity import call_with_backoff
from carehub.errors import CarehubError, PublishError

T = TypeVar("T")
log = logging.getLogger("carehub.broker.kafka")

SERVICE = "Apache Kafka"
SETTING = "CAREHUB_BROKER"
#: Producer batching: a few ms of linger fills large batches, which is where kafka-python's
#: per-record Python cost is amortised.
LINGER_MS = 5
BATCH_SIZE = 256 * 1024
#: None: on a 2-core machine lz4 gained no throughput (about 50k records/s either way) and gzip
#: lost a third; compression pays only where the network, not Python, is the bottleneck.
COMPRESSION: str | None = None
#: kafka-python leaves a partition out of the next fetch while its records are still buffered; if
#: the fetch in flight then holds only caught-up partitions, the broker parks it this long and
#: the drained partition waits too. 500 ms (the default) halved consume throughput in bursts.
FETCH_MAX_WAIT_MS = 100
#: `Admin.read` polls in slices this long, to notice a position reset to the log's end (when the
#: offset asked for was deleted by retention and nothing is left after it) without waiting it out.
READ_SLICE_MS = 200
#: One connection attempt lasts a third of the retry budget, within these bounds, so the budget
#: is spent on several attempts (each announced by carehub.connectivity).
ATTEMPT_S_BOUNDS = (0.5, 5.0)


def _unreachable(exc: BaseException) -> bool:
    """Errors that mean the broker is not (yet) answering, as opposed to refusing a request:
    kafka-python marks them retriable (connection refused, node not ready, request timed out)."""
    return isinstance(exc, (kafka_errors.RetriableError, kafka_errors.BrokerNotAvailableError)) or (
        isinstance(exc, kafka_errors.KafkaError) and exc.retriable
    )


def _quiet_kafka_logs() -> None:
    """kafka-python logs every connection attempt at INFO; keep its loggers at WARNING unless
    someone set their level or is debugging carehub."""
    kafka_log = logging.getLogger("kafka")
    if kafka_log.level == logging.NOTSET and not log.isEnabledFor(logging.DEBUG):
        kafka_log.setLevel(logging.WARNING)


class KeyPartitioner(DefaultPartitioner):
    """kafka-python's default partitioner (murmur2 of the key, a random partition without one),
    with the faster murmur2 and without sorting the partitions per record: 5-10% more connector
    records/s on Kafka (kafka-python's murmur2 was an eighth of a send)."""

    def partition(self, topic, key, serialized_key, value, serialized_value, cluster):  # noqa: ANN001, ANN201
        if serialized_key is None:
            return super().partition(topic, key, serialized_key, value, serialized_value, cluster)
        partitions = cluster.partitions_for_topic(topic)
        if partitions is None:
            raise ValueError(f"Topic {topic} not found in ClusterMetadata")
        # Partition ids are 0..n-1 and a topic's partition count only grows, so len() suffices.
        return key_partition(serialized_key, len(partitions))


class KafkaBrokerProducer(Producer):
    """Idempotent producer; `flush` reports every record the broker did not acknowledge."""

    def __init__(self, client: kafka.KafkaProducer, url: str):
        self._client = client
        self._url = url
        self._failures: list[tuple[str, BaseException]] = []
        self._on_failure: dict[str, Callable[[BaseException], None]] = {}  # one errback per topic
        self._sent = 0

    def send(
        self,
        topic: str,
        value: bytes | None,
        key: bytes | None = None,
        headers: Headers = (),
        timestamp_ms: int | None = None,
    ) -> None:
        try:
            future = self._client.send(
                topic, value=value, key=key, headers=list(headers) or None, timestamp_ms=timestamp_ms
            )
        except kafka_errors.KafkaError as exc:
            raise PublishError(
                f"{SERVICE} at {self._url} refused a record for topic {topic}: {exc}"
            ) from exc
        # Runs on kafka-python's sender thread (list.append is atomic). Cheaper than keeping every
        # future until flush: 100k live futures cost a sixth of the throughput in GC passes.
        on_failure = self._on_failure.get(topic)
        if on_failure is None:
            on_failure = self._on_failure[topic] = lambda exc: self._failures.append((topic, exc))
        future.add_errback(on_failure)
        self._sent += 1

    def flush(self) -> None:
        while True:
            try:
                self._client.flush()
                break
            except kafka_errors.UnknownError:
                # kafka-python 3.0.12 gives up waiting ("Future not done") on a batch it has just
                # split for being too large; its records are still in flight in the new batches.
                continue
        failures, self._failures = self._failures, []
        sent, self._sent = self._sent, 0
        if failures:
            topics = ", ".join(sorted({topic for topic, _ in failures}))
            cause = failures[0][1]
            raise PublishError(
                f"{SERVICE} at {self._url} did not acknowledge {len(failures)} of {sent} records "
                f"for topic {topics}: {type(cause).__name__}: {cause}"
            ) from cause

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self._client.close()


class _Rebalance(ConsumerRebalanceListener):
    """Hands kafka-python's rebalance events to the carehub callbacks, as carehub partitions."""

    def __init__(self, on_assign: AssignmentCallback | None, on_revoke: AssignmentCallback | None):
        self._on_assign = on_assign
        self._on_revoke = on_revoke

    def on_partitions_revoked(self, revoked: Iterable[kafka.TopicPartition]) -> None:
        if revoked and self._on_revoke:
            self._on_revoke({TopicPartition(*tp) for tp in revoked})

    def on_partitions_assigned(self, assigned: Iterable[kafka.TopicPartition]) -> None:
        if assigned and self._on_assign:
            self._on_assign({TopicPartition(*tp) for tp in assigned})


class KafkaBrokerConsumer(Consumer):
    """A kafka-python group member with auto-commit off; records come back as carehub Messages."""

    def __init__(self, client: kafka.KafkaConsumer, group_id: str, retry: Callable[[Callable[[], T]], T]):
        self._client = client
        self.group_id = group_id
        self._retry = retry  # kafka-python may raise from poll while the broker restarts: wait it out

    def poll(self, max_records: int = 500, timeout_s: float = 1.0) -> list[Message]:
        batches = self._retry(lambda: self._client.poll(timeout_ms=int(timeout_s * 1000), max_records=max_records))
        return [
            Message(r.topic, r.partition, r.offset, r.key, r.value, r.timestamp, tuple(r.headers))
            for records in batches.values()
            for r in records
        ]

    def commit(self, offsets: dict[TopicPartition, int]) -> None:
        if offsets:
            self._client.commit({
                kafka.TopicPartition(*tp): OffsetAndMetadata(offset, "", -1)
                for tp, offset in offsets.items()
            })

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self._client.seek(self._assigned(tp), offset)

    def assignment(self) -> set[TopicPartition]:
        return {TopicPartition(*tp) for tp in self._client.assignment()}

    def position(self, tp: TopicPartition) -> int:
        return self._client.position(self._assigned(tp))

    def close(self) -> None:
        self._client.close(autocommit=False)

    def _assigned(self, tp: TopicPartition) -> kafka.TopicPartition:
        kafka_tp = kafka.TopicPartition(*tp)
        if kafka_tp not in self._client.assignment():
            raise ValueError(f"{tp} is not assigned to this consumer of group {self.group_id!r}")
        return kafka_tp


class KafkaBrokerAdmin(Admin):
    """KafkaAdminClient, with topic creation made idempotent; records are read by a consumer
    outside any group, made on first use by `make_reader`."""

    def __init__(
        self,
        client: kafka.KafkaAdminClient,
        url: str,
        make_reader: Callable[[], kafka.KafkaConsumer],
        retry: Callable[[Callable[[], T]], T],
    ):
        self._client = client
        self._url = url
        self._make_reader = make_reader
        self._reader: kafka.KafkaConsumer | None = None
        self._retry = retry  # a broker restart mid-call waits with backoff, like connecting does

    def create_topics(self, specs: Iterable[TopicSpec]) -> None:
        requested = {
            spec.name: {
                "num_partitions": spec.partitions,
                "replication_factor": spec.replication_factor,
                "configs": spec.configs(),
            }
            for spec in specs
        }
        if not requested:
            return
        response = self._client.create_topics(requested, raise_errors=False)
        created = []
        for topic in response["topics"]:
            error = kafka_errors.for_code(topic["error_code"])
            if error is kafka_errors.TopicAlreadyExistsError:
                continue
            if error is not kafka_errors.NoError:
                raise CarehubError(
                    f"{SERVICE} at {self._url} refused to create topic {topic['name']}: "
                    f"{topic['error_message'] or error.__name__}"
                )
            created.append(topic["name"])
        if created:
            # Until every new partition has a leader, producing to it would fail or auto-create.
            self._client.wait_for_topics(created)

    def list_topics(self) -> dict[str, int]:
        return {
            topic["name"]: len(topic["partitions"])
            for topic in self._retry(self._client.describe_topics)
            if not topic["is_internal"] and not topic["name"].startswith("__")
        }

    def describe_topic(self, name: str) -> TopicSpec | None:
        (topic,) = self._client.describe_topics([name])
        error = kafka_errors.for_code(topic["error_code"])
        if error is kafka_errors.UnknownTopicOrPartitionError:
            return None
        if error is not kafka_errors.NoError:
            raise error(f"describing topic {name}")
        configs = self._client.describe_configs(
            [ConfigResource("TOPIC", name, ["cleanup.policy", "retention.ms"])], config_filter="all"
        )["topic"][name]
        retention = configs["retention.ms"]
        set_on_topic = retention["config_source"] == "DYNAMIC_TOPIC_CONFIG"
        return TopicSpec(
            name=name,
            partitions=len(topic["partitions"]),
            replication_factor=len(topic["partitions"][0]["replica_nodes"]),
            compact="compact" in configs["cleanup.policy"]["value"].split(","),
            retention_ms=int(retention["value"]) if set_on_topic else None,
        )

    def end_offsets(self, tps: Sequence[TopicPartition]) -> dict[TopicPartition, int]:
        if not tps:
            return {}
        latest = self._retry(lambda: self._client.list_partition_offsets(
            {kafka.TopicPartition(*tp): OffsetSpec.LATEST for tp in tps}
        ))
        return {TopicPartition(*tp): answer.offset for tp, answer in latest.items()}

    def read(
        self, tp: TopicPartition, offset: int, max_records: int = 500, timeout_s: float = 5.0
    ) -> list[Message]:
        end = self.end_offsets([tp])[tp]
        if offset >= end or max_records < 1:
            return []  # past the end Kafka would reset the position to the start
        reader = self._group_free_reader()
        kafka_tp = kafka.TopicPartition(*tp)
        reader.assign([kafka_tp])
        reader.seek(kafka_tp, max(offset, 0))
        messages: list[Message] = []
        deadline = time.monotonic() + timeout_s
        while len(messages) < max_records and reader.position(kafka_tp) < end:
            remaining_ms = int((deadline - time.monotonic()) * 1000)
            if remaining_ms <= 0:
                break
            batches = reader.poll(
                timeout_ms=min(remaining_ms, READ_SLICE_MS), max_records=max_records - len(messages)
            )
            messages += [
                Message(r.topic, r.partition, r.offset, r.key, r.value, r.timestamp, tuple(r.headers))
                for r in batches.get(kafka_tp, [])
            ]
        return messages

    def record_timestamps(
        self, offsets: Mapping[TopicPartition, int], timeout_s: float = 5.0
    ) -> dict[TopicPartition, int]:
        """All partitions in one fetch loop: a partition's first fetch costs a metadata round trip."""
        ends = self.end_offsets(list(offsets))
        wanted = {kafka.TopicPartition(*tp): offset for tp, offset in offsets.items() if offset < ends[tp]}
        if not wanted:
            return {}
        reader = self._group_free_reader()
        reader.assign(list(wanted))
        for kafka_tp, offset in wanted.items():
            reader.seek(kafka_tp, max(offset, 0))
        found: dict[TopicPartition, int] = {}
        pending = set(wanted)
        deadline = time.monotonic() + timeout_s
        while pending:
            remaining_ms = int((deadline - time.monotonic()) * 1000)
            if remaining_ms <= 0:
                break
            for kafka_tp, records in reader.poll(timeout_ms=min(remaining_ms, READ_SLICE_MS)).items():
                if kafka_tp in pending and records:
                    found[TopicPartition(*kafka_tp)] = records[0].timestamp
                    pending.discard(kafka_tp)
            pending = {tp for tp in pending if reader.position(tp) < ends[TopicPartition(*tp)]}
        return found

    def _group_free_reader(self) -> kafka.KafkaConsumer:
        if self._reader is None:
            self._reader = self._make_reader()
        return self._reader

    def list_groups(self) -> list[str]:
        return sorted(group["group_id"] for group in self._retry(self._client.list_groups))

    def committed_offsets(self, group: str) -> dict[TopicPartition, int]:
        committed = self._retry(lambda: self._client.list_group_offsets({group: None})).get(group, {})
        return {  # -1: the group has no offset for that partition
            TopicPartition(*tp): answer.offset for tp, answer in committed.items() if answer.offset >= 0
        }

    def close(self) -> None:
        try:
            if self._reader is not None:
                self._reader.close(autocommit=False)
        finally:
            self._client.close()


class KafkaBroker(Broker):
    """kafka-python clients, each created once the cluster answers (retried with backoff)."""

    def __init__(self, target: KafkaURL, *, url: str, retry_seconds: float, client_config: dict):
        _quiet_kafka_logs()
        self.url = url
        self._retry_seconds = retry_seconds
        shortest, longest = ATTEMPT_S_BOUNDS
        attempt_ms = int(1000 * min(max(retry_seconds / 3, shortest), longest))
        self._client_config = {
            "bootstrap_servers": list(target.bootstrap_servers),
            "bootstrap_timeout_ms": attempt_ms,
            **client_config,
        }

    def producer(self) -> Producer:
        client = self._connect(lambda: kafka.KafkaProducer(
            acks="all",
            enable_idempotence=True,
            max_in_flight_requests_per_connection=5,  # the most idempotence keeps in order
            linger_ms=LINGER_MS,
            batch_size=BATCH_SIZE,
            compression_type=COMPRESSION,
            partitioner=KeyPartitioner(),
            **self._client_config,
        ))
        return KafkaBrokerProducer(client, self.url)

    def consumer(
        self, group_id: str, topics: Sequence[str], options: ConsumerOptions = ConsumerOptions()
    ) -> Consumer:
        client = self._connect(lambda: kafka.KafkaConsumer(
            group_id=group_id,
            enable_auto_commit=False,
            auto_offset_reset=options.auto_offset_reset,
            session_timeout_ms=options.session_timeout_ms,
            heartbeat_interval_ms=options.heartbeat_interval_ms,
            max_poll_interval_ms=options.max_poll_interval_ms,
            fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
            **self._client_config,
        ))
        client.subscribe(list(topics), listener=_Rebalance(options.on_assign, options.on_revoke))
        return KafkaBrokerConsumer(client, group_id, retry=self._retrying)

    def admin(self) -> Admin:
        client = self._connect(lambda: kafka.KafkaAdminClient(**self._client_config))
        return KafkaBrokerAdmin(client, self.url, make_reader=self._group_free_consumer, retry=self._retrying)

    def _group_free_consumer(self) -> kafka.KafkaConsumer:
        """A consumer in no group: it only reads the partitions it is assigned, commits nothing."""
        return self._connect(lambda: kafka.KafkaConsumer(
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
            **self._client_config,
        ))

    def ping(self) -> None:
        self._connect(lambda: None)

    def _retrying(self, call: Callable[[], T]) -> T:
        """`call` on a client already connected, retried while the cluster does not answer."""
        return call_with_backoff(call, service=SERVICE, url=self.url, setting=SETTING, transient=_unreachable,
                                 budget_s=self._retry_seconds)

    def _connect(self, make: Callable[[], T]) -> T:
        """`make` a client once the cluster answers; retry until retry_seconds, then raise
        ServiceUnavailable naming the URL and CAREHUB_BROKER."""

        def probe_then_make() -> T:
            # KafkaAdminClient and KafkaConsumer leave their network thread running when the
            # bootstrap fails (kafka-python 3.0.12); KafkaProducer does not, so it probes.
            kafka.KafkaProducer(**self._client_config).close()
            return make()

        return call_with_backoff(
            probe_then_make,
            service=SERVICE,
            url=self.url,
            setting=SETTING,
            transient=_unreachable,
            budget_s=self._retry_seconds,
        )
