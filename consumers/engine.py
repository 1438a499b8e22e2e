"""The reconciliation loop: decode a batch, apply it to the datasets and store its offsets in one
database transaction, so a restart resumes exactly where the datasets are."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import sqlalchemy as sa

from carehub.avro import AvroCodec, UndecodableMessage
from carehub.broker.base import Admin, Broker, Consumer, ConsumerOptions, Message, TopicPartition
from carehub.db.engine import with_database_retry
from carehub.dlq import DeadLetter, send_dead_letter
from carehub.pii import Protector
from carehub.topics import catalog_topic, dead_letter_topic
from consumers.offsets import store_offsets, stored_offsets

log = logging.getLogger("carehub.consume")

DEFAULT_GROUP = "carehub-reconciler"


class Handler(Protocol):
    """Applies decoded records of one topic to a dataset, inside the caller's transaction."""

    topic: str

    def apply(self, conn: sa.Connection, records: list[dict[str, Any]]) -> int: ...


@dataclass
class ReconcileStats:
    consumed: int = 0
    applied: int = 0
    dead_lettered: int = 0
    dead_lettered_by_rule: Counter = field(default_factory=Counter)


class Reconciler:
    """One member of a reconciler group."""

    def __init__(
        self,
        handlers: Sequence[Handler],
        *,
        broker: Broker,
        codec: AvroCodec,
        engine: sa.Engine,
        protector: Protector,
        group: str = DEFAULT_GROUP,
        batch_size: int = 2000,
        retry_seconds: float = 30.0,
        options: ConsumerOptions = ConsumerOptions(),
        topic_prefix: str = "",
    ):
        self._handlers = {topic_prefix + h.topic: h for h in handlers}
        self._broker, self._codec, self._engine, self._protector = broker, codec, engine, protector
        self.group, self._batch_size, self._retry_seconds, self._options = group, batch_size, retry_seconds, options
        self._consumer: Consumer | None = None
        dead_letters = dead_letter_topic(group).spec(topic_prefix)
        self.dead_letter_topic = dead_letters.name
        with broker.admin() as admin:
            admin.create_topics([catalog_topic(h.topic).spec(topic_prefix) for h in handlers] + [dead_letters])

    def _resume_from_database(self, assigned: set[TopicPartition]) -> None:
        """Seek newly assigned partitions to the offsets stored with the datasets (0 if none)."""
        with self._engine.connect() as conn:
            stored = stored_offsets(conn, self.group, assigned)
        for tp in assigned:
            self._consumer.seek(tp, stored.get(tp, 0))
        log.info("%s assigned %s", self.group, ", ".join(f"{t}[{p}]@{stored.get((t, p), 0)}" for t, p in sorted(assigned)))

    def run(
        self,
        stop: threading.Event | None = None,
        *,
        until_idle: bool = False,
        on_batch: Callable[[ReconcileStats], None] | None = None,
    ) -> ReconcileStats:
        stop = stop or threading.Event()
        stats = ReconcileStats()
        options = dataclasses.replace(self._options, on_assign=self._resume_from_database)
        with self._broker.consumer(self.group, sorted(self._handlers), options) as consumer, \
                self._broker.producer() as dlq, self._broker.admin() as admin:
            self._consumer = consumer
            started = time.monotonic()
            while not stop.is_set():
                messages = consumer.poll(self._batch_size, timeout_s=0.5)
                if messages:
                    self._apply_batch(consumer, dlq, messages, stats)
                    if on_batch:
                        on_batch(stats)
                elif until_idle and self._idle(consumer, admin, started):
                    break
        return stats

    def _idle(self, consumer: Consumer, admin: Admin, started: float) -> bool:
        """True once this member has partitions and has read each to its end."""
        assigned = consumer.assignment()
        if not assigned:
            return time.monotonic() - started > max(30.0, self._options.session_timeout_ms / 500)
        ends = admin.end_offsets(sorted(assigned))
        return all(consumer.position(tp) >= ends[tp] for tp in assigned)

    def _apply_batch(self, consumer: Consumer, dlq, messages: list[Message], stats: ReconcileStats) -> None:  # noqa: ANN001
        by_topic: dict[str, list[dict[str, Any]]] = defaultdict(list)
        next_offsets: dict[TopicPartition, int] = {}
        for message in messages:
            next_offsets[message.tp] = message.offset + 1
            try:
                _, record = self._codec.decode(message.value)
            except UndecodableMessage as exc:
                self._dead_letter(dlq, message, exc.rule, str(exc), stats)
                continue
            by_topic[message.topic].append(record)
        dlq.flush()

        def commit_to_database() -> int:
            with self._engine.begin() as conn:
                applied = sum(self._handlers[t].apply(conn, records) for t, records in by_topic.items())
                store_offsets(conn, self.group, next_offsets)
            return applied

        stats.applied += with_database_retry(self._engine, commit_to_database, retry_seconds=self._retry_seconds)
        stats.consumed += len(messages)
        try:  # the database holds the truth; the broker's copy only serves lag monitoring
            consumer.commit(next_offsets)
        except Exception as exc:  # noqa: BLE001 - a rebalance may have taken the partitions
            log.info("broker commit for %s skipped: %s", self.group, exc)

    def _dead_letter(self, dlq, message: Message, rule: str, text: str, stats: ReconcileStats) -> None:  # noqa: ANN001
        stats.dead_lettered += 1
        stats.dead_lettered_by_rule[rule] += 1
        position = f"{message.topic}/{message.partition}/{message.offset}"
        log.warning("dead-lettered %s: %s", position, text)
        send_dead_letter(
            dlq,
            self.dead_letter_topic,
            DeadLetter(
                origin=self.group, position=position, stage="decode", field="value", rule=rule,
                error_class="UndecodableMessage", message=text, shown=None, original=message.value,
            ),
            self._protector,
        )
