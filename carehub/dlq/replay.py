"""Replay dead letters after a fix, each at most once.

A connector's rejected row is decrypted and run again through the connector's current pipeline
(map, validate, protect, encode): good rows go to its topic, rows that still fail go back to its
queue as new dead letters. A reconciler group's undecodable message goes back, byte for byte and
with its original key, to the topic it came from. Each handled dead letter is claimed in the
replay ledger in a transaction that commits only once the broker acknowledged what the replay
sent, so a second replay of the same selection publishes nothing twice (and a replay killed
half-way publishes at least once, never loses a row)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from cryptography.exceptions import InvalidTag
from sqlalchemy.exc import IntegrityError

from carehub.avro import UndecodableMessage, load_schema
from carehub.broker.base import Admin, Message, Producer, TopicPartition
from carehub.dlq.ledger import Outcome, record_replayed, replayed
from carehub.dlq.letter import DeadLetter, StoredLetter, send_dead_letter
from carehub.dlq.queues import Selection, read_letters
from carehub.errors import CarehubError, ConfigError
from carehub.hub import Hub
from carehub.pii import Protector
from carehub.topics import catalog_topic, dead_letter_topic
from connectors.sdk.config import ConnectorConfig
from connectors.sdk.pipeline import Publishable, Rejected, masked_row, protect, validate, values_mapper
from connectors.sdk.record import Envelope
from connectors.sdk.sources import SourceRow

#: Dead letters claimed, published and committed together: bounds how long the ledger is locked.
CHUNK = 500
#: The stage a reconciler names on the messages it cannot decode.
RECONCILER_STAGE = "decode"

#: Why a dead letter cannot be replayed the way that was asked, and what to do instead.
NOT_KEPT = "original not kept (it was over 256 KiB): read the row again from the source"
NOT_A_ROW = "a message a reconciler could not decode, not a connector's row: replay it with --to-source"
NOT_A_MESSAGE = "a connector's rejected row: replay it with --connector-config and that connector's YAML"
NO_POSITION = "no topic/partition/offset position to send it back to"
NO_SOURCE_TOPIC = "its source topic is no longer on the broker"

Publish = Callable[[Producer], None]


@dataclass
class ReplayReport:
    """What a replay did (or, in a dry run, would do) with the selected dead letters."""

    queue: str
    target: str  # where good records go
    dry_run: bool
    selected: int = 0
    already_replayed: int = 0  # handled by an earlier replay: skipped
    published: int = 0
    still_rejected: Counter = field(default_factory=Counter)  # rule → dead letters that fail again
    not_replayable: Counter = field(default_factory=Counter)  # reason → dead letters

    def counts(self) -> list[tuple[str, int]]:
        """The report as (what, how many) lines, for people and scripts alike."""
        return [
            ("selected", self.selected),
            ("already replayed: skipped", self.already_replayed),
            (f"published → {self.target}", self.published),
            ("still rejected", sum(self.still_rejected.values())),
            *[(f"  still rejected by {rule}", n) for rule, n in self.still_rejected.most_common()],
            *[(f"not replayable: {reason}", n) for reason, n in self.not_replayable.most_common()],
        ]


def _pending(hub: Hub, queue: str, selection: Selection, report: ReplayReport) -> list[StoredLetter]:
    """The selected dead letters no replay has handled yet."""
    with hub.broker.admin() as admin:
        letters = selection.of(read_letters(admin, queue))
    with hub.engine.connect() as conn:
        handled = replayed(conn, queue)
    pending = [letter for letter in letters if (letter.partition, letter.offset) not in handled]
    report.selected, report.already_replayed = len(letters), len(letters) - len(pending)
    return pending


def _original(letter: StoredLetter, protector: Protector) -> bytes | None:
    try:
        return letter.original(protector)
    except InvalidTag:
        raise ConfigError(
            f"{letter.address}: its original is encrypted under another hub secret; set CAREHUB_SECRET_KEY "
            "(or CAREHUB_HOME) to those of the hub that rejected it"
        ) from None


def _commit(hub: Hub, producer: Producer, queue: str, handled: Sequence[tuple[StoredLetter, Outcome, Publish]]) -> None:
    """Claim the letters in the ledger, send, wait for the broker's acknowledgement, then commit."""
    if not handled:
        return
    try:
        with hub.engine.begin() as conn:
            record_replayed(conn, [(letter, outcome) for letter, outcome, _ in handled])
            for _, _, publish in handled:
                publish(producer)
            producer.flush()
    except IntegrityError:
        raise CarehubError(
            f"another replay of {queue} handled some of these dead letters meanwhile; run the replay again "
            "to take what is left"
        ) from None


def rerun_row(
    letter: StoredLetter, config: ConnectorConfig, map_values: Callable[[dict[str, str | None]], dict], protector: Protector,
    envelope: Envelope,
) -> Publishable | DeadLetter | str:
    """A connector's dead letter through the connector's current stages: the record to publish, the
    dead letter it earns again, or why it cannot be replayed."""
    if letter.context.get("stage") == RECONCILER_STAGE:
        return NOT_A_ROW
    original = _original(letter, protector)
    if original is None:
        return NOT_KEPT
    row = SourceRow(letter.context.get("source.position", letter.address), json.loads(original))
    try:
        return protect(validate(map_values(row.values), config.record_type), protector, envelope)
    except Rejected as rejected:
        first = rejected.problems[0]
        return DeadLetter(
            origin=config.name, position=row.position, stage=rejected.stage, field=first.field, rule=first.rule,
            error_class="Rejected", message=str(rejected), shown=masked_row(row), original=original,
            replay_of=letter.address,
        )


def replay_connector(
    hub: Hub, queue: str, config: ConnectorConfig, selection: Selection = Selection(), *, dry_run: bool = False,
) -> ReplayReport:
    """Run a connector's dead letters again through its current pipeline (`config` is its YAML, fixed)."""
    prefix = hub.settings.topic_prefix
    own_queue = prefix + dead_letter_topic(config.name).name
    if queue != own_queue:
        raise ConfigError(
            f"{queue} is not the dead-letter queue of connector {config.name} (that is {own_queue}); "
            f"pass the YAML of the connector that wrote {queue}"
        )
    target = catalog_topic(config.target_topic).spec(prefix)
    report = ReplayReport(queue, target.name, dry_run)
    pending = _pending(hub, queue, selection, report)
    map_values = values_mapper(config.mapping, config.values)
    envelope = Envelope(config.source_system, config.name, datetime.now(UTC), ZoneInfo(config.timezone))
    if not dry_run and pending:
        with hub.broker.admin() as admin:
            admin.create_topics([target])
        encode = hub.codec.encoder(target.name, load_schema(config.record_type.schema_path))

    def publishing(result: Publishable | DeadLetter) -> tuple[Outcome, Publish]:
        if isinstance(result, Publishable):
            return Outcome.PUBLISHED, lambda producer: producer.send(target.name, encode(result.record), key=result.key)
        return Outcome.REJECTED, lambda producer: send_dead_letter(producer, queue, result, hub.protector)

    with nullcontext() if dry_run else hub.broker.producer() as producer:
        for start in range(0, len(pending), CHUNK):
            handled = []
            for letter in pending[start : start + CHUNK]:
                result = rerun_row(letter, config, map_values, hub.protector, envelope)
                if isinstance(result, str):
                    report.not_replayable[result] += 1
                    continue
                if isinstance(result, Publishable):
                    report.published += 1
                else:
                    report.still_rejected[result.rule] += 1
                if not dry_run:
                    handled.append((letter, *publishing(result)))
            if not dry_run:
                _commit(hub, producer, queue, handled)
    return report


def source_position(position: str) -> tuple[TopicPartition, int] | None:
    """The topic, partition and offset of a position a reconciler wrote (topic/partition/offset)."""
    parts = position.rsplit("/", 2)
    if len(parts) != 3 or not parts[0] or not parts[1].isdigit() or not parts[2].isdigit():
        return None
    return TopicPartition(parts[0], int(parts[1])), int(parts[2])


def _way_back(letter: StoredLetter, topics: dict[str, int], protector: Protector) -> tuple[TopicPartition, int, bytes] | str:
    """Where a reconciler's dead letter came from and its original bytes, or why it cannot go back."""
    if letter.context.get("stage") != RECONCILER_STAGE:
        return NOT_A_MESSAGE
    position = source_position(letter.context.get("source.position", ""))
    if position is None:
        return NO_POSITION
    if position[0].topic not in topics:
        return NO_SOURCE_TOPIC
    original = _original(letter, protector)
    return NOT_KEPT if original is None else (*position, original)


def _resend(admin: Admin, tp: TopicPartition, offset: int, original: bytes) -> Publish:
    """Send `original` to `tp`'s topic with the key and headers it had, when the topic still holds it
    (the key keeps a person's records on one partition); without them when it no longer does."""
    found = admin.read(tp, offset, max_records=1)
    sent: Message | None = found[0] if found and found[0].offset == offset and found[0].value == original else None
    return lambda producer: producer.send(tp.topic, original, key=sent.key if sent else None,
                                          headers=sent.headers if sent else ())


def replay_to_source(
    hub: Hub, queue: str, selection: Selection = Selection(), *, dry_run: bool = False,
) -> ReplayReport:
    """Send a reconciler group's undecodable messages back to their source topics, unchanged, so the
    group reads them again. Only those that decode now are sent; the rest stay in the queue."""
    report = ReplayReport(queue, "their source topics", dry_run)
    pending = _pending(hub, queue, selection, report)
    with hub.broker.admin() as admin, nullcontext() if dry_run else hub.broker.producer() as producer:
        topics = admin.list_topics()
        for start in range(0, len(pending), CHUNK):
            handled = []
            for letter in pending[start : start + CHUNK]:
                way_back = _way_back(letter, topics, hub.protector)
                if isinstance(way_back, str):
                    report.not_replayable[way_back] += 1
                    continue
                try:
                    hub.codec.decode(way_back[2])
                except UndecodableMessage as still:
                    report.still_rejected[still.rule] += 1
                    continue
                report.published += 1
                if not dry_run:
                    handled.append((letter, Outcome.REPUBLISHED, _resend(admin, *way_back)))
            if not dry_run:
                _commit(hub, producer, queue, handled)
    return report
