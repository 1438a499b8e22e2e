"""Run a connector: batches from the source through the pipeline to the broker, then the cursor."""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa

from carehub.avro import AvroCodec, load_schema
from carehub.broker.base import Broker
from carehub.dlq import DeadLetter, send_dead_letter
from carehub.pii import Protector
from carehub.topics import catalog_topic, dead_letter_topic
from connectors.sdk.config import ConnectorConfig
from connectors.sdk.csv_source import SourceNotReady, read_batches
from connectors.sdk.cursor import load_cursor, save_cursor
from connectors.sdk.pipeline import Rejected, masked_row, process
from connectors.sdk.record import Envelope

log = logging.getLogger("carehub.connect")


@dataclass
class RunStats:
    read: int = 0
    published: int = 0
    rejected: int = 0
    rejected_by_rule: Counter = field(default_factory=Counter)

    def add(self, other: RunStats) -> None:
        self.read += other.read
        self.published += other.published
        self.rejected += other.rejected
        self.rejected_by_rule.update(other.rejected_by_rule)


class ConnectorRunner:
    """One connector: at-least-once into its topic, bad rows into dlq.<connector>."""

    def __init__(
        self, config: ConnectorConfig, *, broker: Broker, codec: AvroCodec, engine: sa.Engine, protector: Protector,
        topic_prefix: str = "",
    ):
        self.config, self._broker, self._engine, self._protector = config, broker, engine, protector
        target, dead_letters = catalog_topic(config.target_topic).spec(topic_prefix), dead_letter_topic(config.name).spec(topic_prefix)
        with broker.admin() as admin:
            admin.create_topics([target, dead_letters])
        self.topic, self.dead_letter_topic = target.name, dead_letters.name
        self._encode = codec.encoder(target.name, load_schema(config.record_type.schema_path))

    def run_once(self, on_batch=None) -> RunStats:  # noqa: ANN001 - progress callback
        """Publish every row the source has past the cursor; return what happened."""
        stats = RunStats()
        cursor = load_cursor(self._engine, self.config.name)
        with self._broker.producer() as producer:
            for batch in read_batches(self.config.source, cursor, self.config.batch_size):
                batch_stats = self._publish(producer, batch.rows)
                producer.flush()  # the broker has every record of the batch: only now move on
                save_cursor(self._engine, self.config.name, batch.cursor)
                stats.add(batch_stats)
                if on_batch:
                    on_batch(stats)
        return stats

    def run_forever(self, stop: threading.Event, on_batch=None) -> RunStats:  # noqa: ANN001
        stats = RunStats()
        while not stop.is_set():
            try:
                stats.add(self.run_once(on_batch))
            except SourceNotReady as waiting:
                log.warning("%s; polling again in %g s", waiting, self.config.poll_interval_s)
            stop.wait(self.config.poll_interval_s)
        return stats

    def _publish(self, producer, rows) -> RunStats:  # noqa: ANN001
        stats = RunStats(read=len(rows))
        envelope = Envelope(self.config.source_system, self.config.name, datetime.now(UTC))
        for row in rows:
            try:
                out = process(row, self.config, self._protector, envelope)
                producer.send(self.topic, self._encode(out.record), key=out.key)
                stats.published += 1
            except Rejected as rejected:
                first = rejected.problems[0]
                stats.rejected += 1
                stats.rejected_by_rule[first.rule] += 1
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
        return stats
