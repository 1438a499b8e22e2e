"""Run a connector: batches from the source through the pipeline to the broker, then the cursor."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from carehub.avro import load_schema, subject_for, wire_header
from carehub.broker.base import Broker, Producer
from carehub.dlq import DeadLetter, send_dead_letter
from carehub.errors import CarehubError, PublishError, ServiceUnavailable
from carehub.pii import Protector
from carehub.registry.base import SchemaRegistry
from carehub.topics import catalog_topic, dead_letter_topic
from connectors.sdk.config import ConnectorConfig
from connectors.sdk.cursor import load_cursor, save_cursor
from connectors.sdk.pipeline import EncodedBatch, StagePlan, masked_row
from connectors.sdk.quality import BatchQuality, RejectedRow, record_batch
from connectors.sdk.record import Envelope
from connectors.sdk.sources import Batch, SourceNotReady
from connectors.sdk.status import (
    ConnectorState,
    add_totals,
    begin_poll,
    desired_state,
    record_failure,
    record_paused,
    record_poll,
)
from connectors.sdk.workers import BatchStages, auto_workers

log = logging.getLogger("carehub.connect")

#: Failures a polling connector waits out (recorded as FAILED) instead of stopping: the source or
#: a service is not there yet. Anything else needs a person and ends `run_forever`.
WAIT_OUT = (SourceNotReady, ServiceUnavailable, PublishError)


@dataclass
class RunStats:
    """What a run did, summed over its batches."""

    read: int = 0
    published: int = 0
    rejected: int = 0
    rejected_by_rule: Counter = field(default_factory=Counter)
    paused: bool = False  # an operator paused the connector; it published nothing after that
    workers: int = 0  # worker processes that mapped, validated, protected and encoded (0: none)

    def add(self, other: RunStats | BatchQuality) -> None:
        if isinstance(other, BatchQuality):
            other = RunStats(other.read, other.published, len(other.rejects), Counter(r.rule for r in other.rejects))
        self.read += other.read
        self.published += other.published
        self.rejected += other.rejected
        self.rejected_by_rule.update(other.rejected_by_rule)
        self.paused = other.paused
        self.workers = max(self.workers, other.workers)


def failure_text(exc: BaseException) -> str:
    """The line an operator reads for a failed poll: carehub's own errors already say what to do."""
    if isinstance(exc, CarehubError):
        return str(exc)
    first_line = next(iter(str(exc).strip().splitlines()), "")
    return f"{type(exc).__name__}: {first_line}" if first_line else type(exc).__name__


class ConnectorRunner:
    """One connector: at-least-once into its topic, bad rows into dlq.<connector>, its state and
    totals in connector_status."""

    def __init__(
        self, config: ConnectorConfig, *, broker: Broker, registry: SchemaRegistry, engine: sa.Engine, secret: bytes,
        topic_prefix: str = "",
    ):
        self.config, self._broker, self._engine = config, broker, engine
        target, dead_letters = catalog_topic(config.target_topic).spec(topic_prefix), dead_letter_topic(config.name).spec(topic_prefix)
        with broker.admin() as admin:
            admin.create_topics([target, dead_letters])
        self.topic, self.dead_letter_topic = target.name, dead_letters.name
        schema = load_schema(config.record_type.schema_path)
        schema_id = registry.register(subject_for(target.name), json.dumps(schema))
        self._plan = StagePlan(config.record_type, config.mapping, config.values, secret, wire_header(schema_id), schema)
        self._protector = Protector(secret)
        self._source = config.source.open()
        self._fields = sorted(config.mapping)
        self._zone = ZoneInfo(config.timezone)
        self._workers = auto_workers(os.cpu_count()) if config.workers == "auto" else config.workers
        self._paused = False

    def run_once(self, on_batch: Callable[[RunStats], None] | None = None) -> RunStats:
        """Publish every row the source has past the cursor, unless an operator paused the
        connector; return what happened. A failure is recorded in connector_status, then raised."""
        try:
            return self._poll(on_batch)
        except Exception as exc:
            self._record_failure(exc)
            raise

    def run_forever(self, stop: threading.Event, on_batch: Callable[[RunStats], None] | None = None) -> RunStats:
        """Poll every poll_interval_s until `stop` is set; a missing source or an unreachable
        service is recorded as FAILED and polled again."""
        stats = RunStats()
        while not stop.is_set():
            try:
                stats.add(self.run_once(on_batch))
            except WAIT_OUT as waiting:
                log.warning("%s: %s; polling again in %g s", self.config.name, waiting, self.config.poll_interval_s)
            stop.wait(self.config.poll_interval_s)
        return stats

    def _poll(self, on_batch: Callable[[RunStats], None] | None) -> RunStats:
        name = self.config.name
        with self._engine.begin() as conn:
            desired = begin_poll(conn, name, self.topic, datetime.now(UTC))
        if desired is ConnectorState.PAUSED:
            return self._pause()
        self._announce_resumed()
        stats = RunStats()
        cursor = load_cursor(self._engine, name)
        with self._broker.producer() as producer, BatchStages(name, self._plan, self._envelope, self._workers) as stages:
            for batch, encoded in stages.encoded(self._source.batches(cursor, self.config.batch_size)):
                with self._engine.connect() as conn:
                    if desired_state(conn, name) is ConnectorState.PAUSED:  # asked while the last batch ran
                        self._pause()
                        stats.paused = True
                        return stats
                quality = self._publish(producer, batch, encoded)
                producer.flush()  # the broker has every record of the batch: only now move on
                now = datetime.now(UTC)
                with self._engine.begin() as conn:
                    save_cursor(conn, name, batch.cursor)
                    record_batch(conn, name, now, quality, self._fields)
                    add_totals(conn, name, quality.read, quality.published, len(quality.rejects), now)
                self._source.finish(batch)
                stats.add(quality)
                stats.workers = stages.workers_used
                if on_batch:
                    on_batch(stats)
        with self._engine.begin() as conn:
            record_poll(conn, name, datetime.now(UTC))
        return stats

    def _pause(self) -> RunStats:
        with self._engine.begin() as conn:
            record_paused(conn, self.config.name, datetime.now(UTC))
        if not self._paused:
            log.warning("%s: paused by an operator; `carehub connect resume %s` continues it", self.config.name, self.config.name)
        self._paused = True
        return RunStats(paused=True)

    def _announce_resumed(self) -> None:
        if self._paused:
            log.warning("%s: resumed by an operator", self.config.name)
        self._paused = False

    def _record_failure(self, exc: BaseException) -> None:
        try:
            with self._engine.begin() as conn:
                record_failure(conn, self.config.name, failure_text(exc), datetime.now(UTC))
        except (sa.exc.SQLAlchemyError, CarehubError) as unrecorded:
            log.warning("%s: could not record the failure in connector_status: %s", self.config.name, unrecorded)

    def _envelope(self) -> Envelope:
        return Envelope(self.config.source_system, self.config.name, datetime.now(UTC), self._zone)

    def _publish(self, producer: Producer, batch: Batch, encoded: EncodedBatch) -> BatchQuality:
        """Send a batch's records and dead letters; return its collection quality."""
        send, topic = producer.send, self.topic
        for key, value in encoded.messages:
            send(topic, value, key=key)
        quality = BatchQuality(len(batch.rows), len(encoded.messages), encoded.filled, encoded.warnings)
        for rejection in encoded.rejections:
            row, rejected = batch.rows[rejection.index], rejection.rejected()
            first = rejected.problems[0]
            quality.rejects.append(RejectedRow(row.position, first.rule, first.field, len(rejected.problems)))
            log.info("rejected %s at %s: %s", self.config.name, row.position, rejected)
            send_dead_letter(
                producer,
                self.dead_letter_topic,
                DeadLetter(
                    origin=self.config.name, position=row.position, stage=rejected.stage,
                    field=first.field, rule=first.rule, error_class="Rejected", message=str(rejected),
                    shown=masked_row(row), original=json.dumps(row.values, ensure_ascii=False).encode(),
                ),
                self._protector,
            )
        return quality
