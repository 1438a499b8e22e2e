"""Run a connector: batches from the source through the pipeline to the broker, then the cursor."""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from carehub.avro import AvroCodec, load_schema
from carehub.broker.base import Broker
from carehub.dlq import DeadLetter, send_dead_letter
from carehub.pii import Protector
from carehub.topics import catalog_topic, dead_letter_topic
from connectors.sdk.config import ConnectorConfig
from connectors.sdk.cursor import load_cursor, save_cursor
from connectors.sdk.pipeline import Rejected, masked_row, protect, row_mapper, validate
from connectors.sdk.quality import BatchQuality, RejectedRow, record_batch
from connectors.sdk.record import Envelope
from connectors.sdk.sources import SourceNotReady

log = logging.getLogger("carehub.connect")


@dataclass
class RunStats:
    """What a run did, summed over its batches."""

    read: int = 0
    published: int = 0
    rejected: int = 0
    rejected_by_rule: Counter = field(default_factory=Counter)

    def add(self, other: RunStats | BatchQuality) -> None:
        if isinstance(other, BatchQuality):
            other = RunStats(other.read, other.published, len(other.rejects), Counter(r.rule for r in other.rejects))
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
        self._source = config.source.open()
        self._fields = sorted(config.mapping)
        self._zone = ZoneInfo(config.timezone)
        self._map_row = row_mapper(config)

    def run_once(self, on_batch=None) -> RunStats:  # noqa: ANN001 - progress callback
        """Publish every row the source has past the cursor; return what happened."""
        stats = RunStats()
        cursor = load_cursor(self._engine, self.config.name)
        with self._broker.producer() as producer:
            for batch in self._source.batches(cursor, self.config.batch_size):
                quality = self._publish(producer, batch.rows)
                producer.flush()  # the broker has every record of the batch: only now move on
                with self._engine.begin() as conn:
                    save_cursor(conn, self.config.name, batch.cursor)
                    record_batch(conn, self.config.name, datetime.now(UTC), quality, self._fields)
                self._source.finish(batch)
                stats.add(quality)
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

    def _publish(self, producer, rows) -> BatchQuality:  # noqa: ANN001
        quality = BatchQuality()
        envelope = Envelope(self.config.source_system, self.config.name, datetime.now(UTC), self._zone)
        map_row, record_type, protector, encode, send, topic = (
            self._map_row, self.config.record_type, self._protector, self._encode, producer.send, self.topic
        )
        for row in rows:
            mapped = map_row(row)
            quality.saw(mapped)
            try:
                record = validate(mapped, record_type)
                quality.warnings.update(w.rule for w in record.warnings())
                out = protect(record, protector, envelope)
                send(topic, encode(out.record), key=out.key)
                quality.published += 1
            except Rejected as rejected:
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
