"""The broker contract: what every transport (Apache Kafka, embedded SQLite log) provides."""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

Headers = tuple[tuple[str, bytes], ...]


class TopicPartition(NamedTuple):
    topic: str
    partition: int


@dataclass(frozen=True, slots=True)
class Message:
    """One record read from a topic partition."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp_ms: int
    headers: Headers = ()

    @property
    def tp(self) -> TopicPartition:
        return TopicPartition(self.topic, self.partition)

    def header(self, name: str) -> bytes | None:
        for k, v in self.headers:
            if k == name:
                return v
        return None


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """A topic to create: partitions, replication and Kafka topic configs."""

    name: str
    partitions: int = 3
    replication_factor: int = 1
    compact: bool = False
    retention_ms: int | None = None  # None: broker default; -1: keep forever

    def configs(self) -> dict[str, str]:
        configs = {"cleanup.policy": "compact" if self.compact else "delete"}
        if self.retention_ms is not None:
            configs["retention.ms"] = str(self.retention_ms)
        return configs


@dataclass(frozen=True, slots=True)
class GroupOffsets:
    """Committed and end offsets of one consumer group on one partition (for lag)."""

    group: str
    topic: str
    partition: int
    committed: int | None
    end: int

    @property
    def lag(self) -> int:
        return self.end - (self.committed or 0)


AssignmentCallback = Callable[[set[TopicPartition]], None]


class Producer(abc.ABC):
    """Publishes records. `send` may buffer; `flush` returns once the broker acknowledged
    every record sent so far, or raises `carehub.errors.PublishError`."""

    @abc.abstractmethod
    def send(
        self,
        topic: str,
        value: bytes | None,
        key: bytes | None = None,
        headers: Headers = (),
        timestamp_ms: int | None = None,
    ) -> None: ...

    @abc.abstractmethod
    def flush(self) -> None: ...

    @abc.abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Producer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Consumer(abc.ABC):
    """A member of a consumer group. Offsets are committed only when `commit` is called.

    `on_assign` is called with the newly assigned partitions before any record of them is
    returned, so that the caller may `seek` to offsets it stored itself; `on_revoke` is called
    with partitions taken away, before they are gone, and with all of them on `close`. They run
    inside `poll` and `close` (on Kafka, on the client's network thread while the caller waits):
    keep them short, and of this consumer's methods call only `seek` and `assignment` in them."""

    group_id: str

    @abc.abstractmethod
    def poll(self, max_records: int = 500, timeout_s: float = 1.0) -> list[Message]: ...

    @abc.abstractmethod
    def commit(self, offsets: dict[TopicPartition, int]) -> None:
        """Commit, per partition, the offset of the next record to read."""

    @abc.abstractmethod
    def seek(self, tp: TopicPartition, offset: int) -> None: ...

    @abc.abstractmethod
    def assignment(self) -> set[TopicPartition]: ...

    @abc.abstractmethod
    def position(self, tp: TopicPartition) -> int:
        """Offset of the next record this consumer will return for `tp`."""

    @abc.abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Consumer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Admin(abc.ABC):
    """Topic management and offset inspection."""

    @abc.abstractmethod
    def create_topics(self, specs: Iterable[TopicSpec]) -> None:
        """Create the topics that do not exist yet; existing ones are left as they are."""

    @abc.abstractmethod
    def list_topics(self) -> dict[str, int]:
        """Topic name -> partition count (internal topics excluded)."""

    @abc.abstractmethod
    def describe_topic(self, name: str) -> TopicSpec | None:
        """The topic as the broker has it (retention_ms None: the broker default), or None if
        there is no such topic."""

    @abc.abstractmethod
    def end_offsets(self, tps: Sequence[TopicPartition]) -> dict[TopicPartition, int]: ...

    @abc.abstractmethod
    def read(
        self, tp: TopicPartition, offset: int, max_records: int = 500, timeout_s: float = 5.0
    ) -> list[Message]:
        """The records of `tp` from `offset` on (at most `max_records`), as stored now, read
        without a consumer group and without committing anything. An offset before the log's
        start reads from its start; one at or past its end reads nothing. `timeout_s` bounds the
        wait for the broker to deliver what it has."""

    def record_timestamps(
        self, offsets: Mapping[TopicPartition, int], timeout_s: float = 5.0
    ) -> dict[TopicPartition, int]:
        """Per partition, the timestamp (ms) of its first record at or after the offset given
        (the oldest a group at that offset has not consumed); partitions without one are left out."""
        found: dict[TopicPartition, int] = {}
        for tp, offset in offsets.items():
            first = self.read(tp, offset, max_records=1, timeout_s=timeout_s)
            if first:
                found[tp] = first[0].timestamp_ms
        return found

    @abc.abstractmethod
    def list_groups(self) -> list[str]: ...

    @abc.abstractmethod
    def committed_offsets(self, group: str) -> dict[TopicPartition, int]: ...

    def group_offsets(self, group: str) -> list[GroupOffsets]:
        committed = self.committed_offsets(group)
        ends = self.end_offsets(sorted(committed))
        return [
            GroupOffsets(group, tp.topic, tp.partition, committed[tp], ends[tp])
            for tp in sorted(committed)
        ]

    @abc.abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Admin:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class ConsumerOptions:
    """How a group member behaves; defaults suit a reconciler."""

    auto_offset_reset: str = "earliest"  # where a group with no committed offset starts
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 3_000
    max_poll_interval_ms: int = 300_000
    on_assign: AssignmentCallback | None = field(default=None, compare=False)
    on_revoke: AssignmentCallback | None = field(default=None, compare=False)


class Broker(abc.ABC):
    """A transport, chosen by the broker URL (`kafka://…` or `embedded:///…`)."""

    url: str

    @abc.abstractmethod
    def producer(self) -> Producer: ...

    @abc.abstractmethod
    def consumer(
        self, group_id: str, topics: Sequence[str], options: ConsumerOptions = ConsumerOptions()
    ) -> Consumer: ...

    @abc.abstractmethod
    def admin(self) -> Admin: ...

    @abc.abstractmethod
    def ping(self) -> None:
        """Raise `carehub.errors.ServiceUnavailable` unless the broker answers (after retries)."""
