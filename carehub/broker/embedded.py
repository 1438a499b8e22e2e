"""The embedded transport: a durable Kafka-like log in one SQLite file, shared by processes on one host."""

from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
import struct
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path


from carehub.broker.base import (
    Admin,
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
from carehub.errors import ConfigError, PublishError

log = logging.getLogger("carehub.broker.embedded")

#: What Kafka does with an unknown topic here (auto.create.topics.enable=true, num.partitions=3).
AUTO_CREATED_PARTITIONS = 3
#: How long a statement waits for another process's write transaction before giving up.
BUSY_TIMEOUT_S = 30.0
#: How often an idle `poll` looks for new records.
IDLE_POLL_S = 0.03
_TOPIC_NAME = re.compile(r"^[A-Za-z0-9._-]{1,249}$")  # Kafka's rule, so a name valid here is valid there
_HEADER = struct.Struct(">HI")  # name length, value length

_SCHEMA = """
CREATE TABLE IF NOT EXISTS topics (
    name TEXT PRIMARY KEY,
    partitions INTEGER NOT NULL,
    replication_factor INTEGER NOT NULL,
    compact INTEGER NOT NULL,
    retention_ms INTEGER
);
CREATE TABLE IF NOT EXISTS records (
    topic TEXT NOT NULL,
    partition INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    key BLOB,
    value BLOB,
    timestamp_ms INTEGER NOT NULL,
    headers BLOB,
    PRIMARY KEY (topic, partition, offset)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS groups (group_id TEXT PRIMARY KEY, generation INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS members (
    group_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    topics TEXT NOT NULL,
    expires_ms INTEGER NOT NULL,
    PRIMARY KEY (group_id, member_id)
);
CREATE TABLE IF NOT EXISTS owners (
    group_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    partition INTEGER NOT NULL,
    member_id TEXT NOT NULL,
    PRIMARY KEY (group_id, topic, partition)
);
CREATE TABLE IF NOT EXISTS group_offsets (
    group_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    partition INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    PRIMARY KEY (group_id, topic, partition)
);
"""


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _encode_headers(headers: Headers) -> bytes | None:
    if not headers:
        return None
    parts: list[bytes] = []
    for name, value in headers:
        raw_name = name.encode()
        parts += (_HEADER.pack(len(raw_name), len(value)), raw_name, bytes(value))
    return b"".join(parts)


def _decode_headers(blob: bytes | None) -> Headers:
    headers: list[tuple[str, bytes]] = []
    at = 0
    while blob and at < len(blob):
        name_length, value_length = _HEADER.unpack_from(blob, at)
        at += _HEADER.size
        name = blob[at : at + name_length].decode()
        at += name_length
        headers.append((name, blob[at : at + value_length]))
        at += value_length
    return tuple(headers)


def range_assignment(
    subscriptions: dict[str, frozenset[str]], partition_counts: dict[str, int]
) -> dict[str, set[TopicPartition]]:
    """Kafka's range assignor: per topic, consecutive partitions over its subscribers sorted by id."""
    assignment: dict[str, set[TopicPartition]] = {member: set() for member in subscriptions}
    for topic, count in sorted(partition_counts.items()):
        subscribers = sorted(m for m, topics in subscriptions.items() if topic in topics)
        if not subscribers:
            continue
        share, extra = divmod(count, len(subscribers))
        start = 0
        for index, member in enumerate(subscribers):
            end = start + share + (index < extra)
            assignment[member].update(TopicPartition(topic, p) for p in range(start, end))
            start = end
    return assignment


class _Log:
    """One connection to the log file and the statements every client shares."""

    def __init__(self, path: Path):
        # isolation_level=None: transactions are opened explicitly, see `write`.
        self.db = sqlite3.connect(
            path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        self.db.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL survives a crashed process, not a power cut: like Kafka, which acks
        # before fsync and relies on replicas for the latter.
        self.db.execute("PRAGMA synchronous=NORMAL")

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; IMMEDIATE takes the write lock first, so offsets read inside it
        cannot be taken by another process before the insert."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise

    def topic_partitions(self, topics: Iterable[str]) -> dict[str, int]:
        """Partition count of each topic, creating unknown ones like Kafka's auto-create."""
        wanted = set(topics)
        for name in wanted:
            _check_topic_name(name)
        counts = self._partition_counts(wanted)
        if wanted - counts.keys():
            with self.write() as db:
                db.executemany(
                    "INSERT OR IGNORE INTO topics VALUES (?, ?, 1, 0, NULL)",
                    [(name, AUTO_CREATED_PARTITIONS) for name in wanted - counts.keys()],
                )
            counts = self._partition_counts(wanted)
        return counts

    def _partition_counts(self, topics: set[str]) -> dict[str, int]:
        marks = ",".join("?" * len(topics))
        rows = self.db.execute(f"SELECT name, partitions FROM topics WHERE name IN ({marks})", tuple(topics))
        return dict(rows.fetchall())

    def end_offset(self, topic: str, partition: int) -> int:
        row = self.db.execute(
            "SELECT max(offset) FROM records WHERE topic = ? AND partition = ?", (topic, partition)
        ).fetchone()
        return 0 if row[0] is None else row[0] + 1

    def start_offset(self, topic: str, partition: int) -> int:
        row = self.db.execute(
            "SELECT min(offset) FROM records WHERE topic = ? AND partition = ?", (topic, partition)
        ).fetchone()
        return self.end_offset(topic, partition) if row[0] is None else row[0]

    def read(self, tp: TopicPartition, offset: int, limit: int) -> list[Message]:
        """Up to `limit` records of `tp` from `offset` on."""
        topic, partition = tp
        rows = self.db.execute(
            "SELECT offset, key, value, timestamp_ms, headers FROM records "
            "WHERE topic = ? AND partition = ? AND offset >= ? ORDER BY offset LIMIT ?",
            (topic, partition, offset, limit),
        )
        return [
            Message(topic, partition, at, key, value, timestamp_ms, _decode_headers(headers))
            for at, key, value, timestamp_ms, headers in rows
        ]

    def close(self) -> None:
        self.db.close()


def _check_topic_name(name: str) -> None:
    if not _TOPIC_NAME.match(name) or name in (".", ".."):
        raise ValueError(f"{name!r} is not a valid topic name: use 1-249 of A-Z a-z 0-9 . _ -")


class EmbeddedProducer(Producer):
    """Buffers records in memory; `flush` appends them all in one transaction."""

    def __init__(self, path: Path, url: str):
        self._log = _Log(path)
        self._url = url
        self._buffer: list[tuple[str, int, bytes | None, bytes | None, int, bytes | None]] = []
        self._partition_counts: dict[str, int] = {}
        self._unkeyed_sends = 0

    def send(
        self,
        topic: str,
        value: bytes | None,
        key: bytes | None = None,
        headers: Headers = (),
        timestamp_ms: int | None = None,
    ) -> None:
        if value is None and key is None:
            raise ValueError("a record needs a key or a value")
        partitions = self._partition_counts.get(topic)
        if partitions is None:
            partitions = self._partition_counts[topic] = self._log.topic_partitions([topic])[topic]
        if key is None:
            partition = self._unkeyed_sends % partitions  # round-robin, as the contract allows
            self._unkeyed_sends += 1
        else:
            partition = key_partition(key, partitions)
        self._buffer.append((
            topic, partition, key, value, _now_ms() if timestamp_ms is None else timestamp_ms,
            _encode_headers(headers),
        ))

    def flush(self) -> None:
        if not self._buffer:
            return
        batch, self._buffer = self._buffer, []
        try:
            with self._log.write() as db:
                next_offsets: dict[tuple[str, int], int] = {}
                rows = []
                for topic, partition, key, value, timestamp_ms, headers in batch:
                    offset = next_offsets.get((topic, partition))
                    if offset is None:
                        offset = self._log.end_offset(topic, partition)
                    next_offsets[topic, partition] = offset + 1
                    rows.append((topic, partition, offset, key, value, timestamp_ms, headers))
                db.executemany("INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        except sqlite3.Error as exc:
            topics = ", ".join(sorted({record[0] for record in batch}))
            raise PublishError(
                f"the embedded broker at {self._url} did not store {len(batch)} records "
                f"for topic {topics}: {exc}"
            ) from exc

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self._log.close()


class EmbeddedConsumer(Consumer):
    """A group member. Partitions move between members without overlap: a member claims a
    partition only once its previous owner released it (at that owner's next poll) or expired."""

    def __init__(self, path: Path, group_id: str, topics: Sequence[str], options: ConsumerOptions):
        if options.auto_offset_reset not in ("earliest", "latest"):
            raise ValueError(
                f"auto_offset_reset must be 'earliest' or 'latest', not {options.auto_offset_reset!r}"
            )
        self.group_id = group_id
        self._path = path
        self._log = _Log(path)
        self._topics = frozenset(topics)
        self._log.topic_partitions(self._topics)
        self._options = options
        self._member_id = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self._positions: dict[TopicPartition, int] = {}
        self._fetches = 0
        self._generation: int | None = None  # the group's when this member last synced; None: not joined
        self._last_poll = time.monotonic()
        self._stop_heartbeat = threading.Event()
        self._heartbeat = threading.Thread(
            target=self._beat, name=f"carehub-heartbeat-{group_id}", daemon=True
        )

    def poll(self, max_records: int = 500, timeout_s: float = 1.0) -> list[Message]:
        deadline = time.monotonic() + timeout_s
        while True:
            self._last_poll = time.monotonic()
            self._sync_group()
            messages = self._fetch(max_records)
            if messages or time.monotonic() + IDLE_POLL_S > deadline:
                return messages
            time.sleep(IDLE_POLL_S)

    def commit(self, offsets: dict[TopicPartition, int]) -> None:
        with self._log.write() as db:
            db.executemany(
                "INSERT INTO group_offsets VALUES (?, ?, ?, ?) "
                "ON CONFLICT (group_id, topic, partition) DO UPDATE SET offset = excluded.offset",
                [(self.group_id, tp.topic, tp.partition, offset) for tp, offset in offsets.items()],
            )

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self._require_assigned(tp)
        self._positions[TopicPartition(*tp)] = offset

    def assignment(self) -> set[TopicPartition]:
        return set(self._positions)

    def position(self, tp: TopicPartition) -> int:
        self._require_assigned(tp)
        return self._positions[TopicPartition(*tp)]

    def close(self) -> None:
        self._stop_heartbeat.set()
        if self._heartbeat.is_alive():
            self._heartbeat.join()
        try:
            if self._positions:
                self._revoke(set(self._positions))
        finally:
            try:
                if self._generation is not None:
                    with self._log.write() as db:
                        self._leave(db)
                    self._generation = None
            finally:
                self._log.close()

    def _require_assigned(self, tp: TopicPartition) -> None:
        if TopicPartition(*tp) not in self._positions:
            raise ValueError(f"{tp} is not assigned to this consumer of group {self.group_id!r}")

    # -- group membership ---------------------------------------------------------------------

    def _sync_group(self) -> None:
        """Join, notice other members joining, leaving or expiring, and move partitions."""
        now = _now_ms()
        joining = self._generation is None
        if not joining:
            generation, soonest_expiry = self._log.db.execute(
                "SELECT generation, (SELECT min(expires_ms) FROM members WHERE group_id = ?) "
                "FROM groups WHERE group_id = ?",
                (self.group_id, self.group_id),
            ).fetchone()
            if generation == self._generation and soonest_expiry is not None and soonest_expiry > now:
                return
        with self._log.write() as db:
            owned_before = self._join(db, now)
            target = self._target_assignment(db)
            owners = dict(
                ((topic, partition), member) for topic, partition, member in db.execute(
                    "SELECT topic, partition, member_id FROM owners WHERE group_id = ?", (self.group_id,)
                )
            )
            claimed = {tp for tp in target if tp not in owners}
            db.executemany(
                "INSERT INTO owners VALUES (?, ?, ?, ?)",
                [(self.group_id, tp.topic, tp.partition, self._member_id) for tp in claimed],
            )
            if claimed:
                self._bump_generation(db)
            self._generation = db.execute(
                "SELECT generation FROM groups WHERE group_id = ?", (self.group_id,)
            ).fetchone()[0]
        if joining:
            self._heartbeat.start()
        lost = set(self._positions) - owned_before
        if lost:
            self._revoke(lost)
        released = owned_before - target
        if released:
            self._revoke(released)
            with self._log.write() as db:
                db.executemany(
                    "DELETE FROM owners "
                    "WHERE group_id = ? AND topic = ? AND partition = ? AND member_id = ?",
                    [(self.group_id, tp.topic, tp.partition, self._member_id) for tp in released],
                )
                self._bump_generation(db)
            self._generation = -1  # others may have changed the group meanwhile: look again next poll
        if claimed:
            self._assign(claimed)

    def _join(self, db: sqlite3.Connection, now: int) -> set[TopicPartition]:
        """Expire dead members, (re)register this one; return the partitions it owns."""
        expired = db.execute(
            "DELETE FROM members WHERE group_id = ? AND expires_ms <= ? AND member_id != ?",
            (self.group_id, now, self._member_id),
        ).rowcount
        if expired:
            db.execute(
                "DELETE FROM owners WHERE group_id = ? AND member_id NOT IN "
                "(SELECT member_id FROM members WHERE group_id = ?)",
                (self.group_id, self.group_id),
            )
        expires_ms = now + self._options.session_timeout_ms
        renewed = db.execute(
            "UPDATE members SET expires_ms = ? WHERE group_id = ? AND member_id = ?",
            (expires_ms, self.group_id, self._member_id),
        ).rowcount
        if not renewed:
            db.execute(
                "INSERT INTO members VALUES (?, ?, ?, ?)",
                (self.group_id, self._member_id, json.dumps(sorted(self._topics)), expires_ms),
            )
        if expired or not renewed:
            self._bump_generation(db)
        return {
            TopicPartition(topic, partition) for topic, partition in db.execute(
                "SELECT topic, partition FROM owners WHERE group_id = ? AND member_id = ?",
                (self.group_id, self._member_id),
            )
        }

    def _target_assignment(self, db: sqlite3.Connection) -> set[TopicPartition]:
        subscriptions = {
            member: frozenset(json.loads(topics)) for member, topics in db.execute(
                "SELECT member_id, topics FROM members WHERE group_id = ?", (self.group_id,)
            )
        }
        topics = set().union(*subscriptions.values())
        marks = ",".join("?" * len(topics))
        counts = dict(
            db.execute(f"SELECT name, partitions FROM topics WHERE name IN ({marks})", tuple(topics))
        )
        return range_assignment(subscriptions, counts)[self._member_id]

    def _bump_generation(self, db: sqlite3.Connection) -> None:
        db.execute(
            "INSERT INTO groups VALUES (?, 1) "
            "ON CONFLICT (group_id) DO UPDATE SET generation = generation + 1",
            (self.group_id,),
        )

    def _leave(self, db: sqlite3.Connection) -> None:
        for table in ("members", "owners"):
            db.execute(
                f"DELETE FROM {table} WHERE group_id = ? AND member_id = ?", (self.group_id, self._member_id)
            )
        self._bump_generation(db)

    def _revoke(self, partitions: set[TopicPartition]) -> None:
        if self._options.on_revoke:
            self._options.on_revoke(partitions)
        for tp in partitions:
            self._positions.pop(tp, None)

    def _assign(self, partitions: set[TopicPartition]) -> None:
        committed = dict(
            ((topic, partition), offset) for topic, partition, offset in self._log.db.execute(
                "SELECT topic, partition, offset FROM group_offsets WHERE group_id = ?", (self.group_id,)
            )
        )
        for tp in partitions:
            if tp in committed:
                self._positions[tp] = committed[tp]
            elif self._options.auto_offset_reset == "earliest":
                self._positions[tp] = self._log.start_offset(*tp)
            else:
                self._positions[tp] = self._log.end_offset(*tp)
        if self._options.on_assign:
            self._options.on_assign(set(partitions))

    def _beat(self) -> None:
        """Keep this member alive between polls, as Kafka's heartbeat thread does, until it has
        not polled for max_poll_interval_ms; then its lease lapses and the group moves on."""
        log_file = _Log(self._path)
        interval_s = self._options.heartbeat_interval_ms / 1000
        try:
            while not self._stop_heartbeat.wait(interval_s):
                if time.monotonic() - self._last_poll > self._options.max_poll_interval_ms / 1000:
                    continue
                try:
                    with log_file.write() as db:
                        db.execute(
                            "UPDATE members SET expires_ms = ? WHERE group_id = ? AND member_id = ?",
                            (_now_ms() + self._options.session_timeout_ms, self.group_id, self._member_id),
                        )
                except sqlite3.Error as exc:
                    log.warning("heartbeat of group %s failed, will retry: %s", self.group_id, exc)
        finally:
            log_file.close()

    # -- reading ------------------------------------------------------------------------------

    def _fetch(self, max_records: int) -> list[Message]:
        messages: list[Message] = []
        order = sorted(self._positions)
        # Start one partition further each time, so a busy partition cannot starve the others.
        start = self._fetches % len(order) if order else 0
        self._fetches += 1
        for tp in order[start:] + order[:start]:
            if len(messages) >= max_records:
                break
            read = self._log.read(tp, self._positions[tp], max_records - len(messages))
            if read:
                messages.extend(read)
                self._positions[tp] = read[-1].offset + 1
        return messages


class EmbeddedAdmin(Admin):
    """Topics and offsets, read from and written to the log file directly."""

    def __init__(self, path: Path):
        self._log = _Log(path)

    def create_topics(self, specs: Iterable[TopicSpec]) -> None:
        rows = []
        for spec in specs:
            _check_topic_name(spec.name)
            if spec.partitions < 1:
                raise ValueError(f"topic {spec.name!r} needs at least one partition, not {spec.partitions}")
            rows.append(
                (spec.name, spec.partitions, spec.replication_factor, spec.compact, spec.retention_ms)
            )
        with self._log.write() as db:
            db.executemany("INSERT OR IGNORE INTO topics VALUES (?, ?, ?, ?, ?)", rows)

    def list_topics(self) -> dict[str, int]:
        return dict(self._log.db.execute("SELECT name, partitions FROM topics ORDER BY name"))

    def describe_topic(self, name: str) -> TopicSpec | None:
        row = self._log.db.execute(
            "SELECT partitions, replication_factor, compact, retention_ms FROM topics WHERE name = ?",
            (name,),
        ).fetchone()
        if row is None:
            return None
        partitions, replication_factor, compact, retention_ms = row
        return TopicSpec(name, partitions, replication_factor, bool(compact), retention_ms)

    def end_offsets(self, tps: Sequence[TopicPartition]) -> dict[TopicPartition, int]:
        return {TopicPartition(*tp): self._log.end_offset(*tp) for tp in tps}

    def read(
        self, tp: TopicPartition, offset: int, max_records: int = 500, timeout_s: float = 5.0
    ) -> list[Message]:
        """The stored records, at once: the log file has nothing to wait for."""
        return self._log.read(TopicPartition(*tp), offset, max(max_records, 0))

    def list_groups(self) -> list[str]:
        rows = self._log.db.execute(
            "SELECT group_id FROM group_offsets UNION SELECT group_id FROM members ORDER BY group_id"
        )
        return [group for (group,) in rows]

    def committed_offsets(self, group: str) -> dict[TopicPartition, int]:
        rows = self._log.db.execute(
            "SELECT topic, partition, offset FROM group_offsets WHERE group_id = ?", (group,)
        )
        return {TopicPartition(topic, partition): offset for topic, partition, offset in rows}

    def close(self) -> None:
        self._log.close()


class EmbeddedBroker(Broker):
    """The log in the SQLite file at `path`, created on first use."""

    def __init__(self, path: Path, *, url: str):
        self.url = url
        self._path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            schema = _Log(path)
            try:
                schema.db.executescript(_SCHEMA)
            finally:
                schema.close()
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(
                f"CAREHUB_BROKER={url!r}: cannot open the embedded broker file {path} ({exc}); "
                "choose a writable location"
            ) from exc

    def producer(self) -> Producer:
        return EmbeddedProducer(self._path, self.url)

    def consumer(
        self, group_id: str, topics: Sequence[str], options: ConsumerOptions = ConsumerOptions()
    ) -> Consumer:
        return EmbeddedConsumer(self._path, group_id, topics, options)

    def admin(self) -> Admin:
        return EmbeddedAdmin(self._path)

    def ping(self) -> None:
        """The file was opened when this broker was made; there is nothing else to reach."""
