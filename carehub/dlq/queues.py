"""Read dead-letter queues: which there are, what each holds, and the letters a user selects."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from carehub.broker.base import Admin, TopicPartition
from carehub.dlq.ledger import Outcome
from carehub.dlq.letter import StoredLetter
from carehub.errors import ConfigError
from carehub.topics import DLQ_PREFIX

#: How many of a queue's most frequent rules `carehub dlq list` names.
TOP_RULES = 3


def dead_letter_topics(admin: Admin, topic_prefix: str = "") -> list[str]:
    """Every dead-letter queue on the broker under this hub's topic prefix, sorted."""
    return sorted(t for t in admin.list_topics() if t.startswith(topic_prefix + DLQ_PREFIX))


def queue_named(name: str, queues: Sequence[str], topic_prefix: str = "") -> str:
    """The queue a user means by `name`: its full topic name, or the name without the topic prefix."""
    for candidate in (name, topic_prefix + name):
        if candidate in queues:
            return candidate
    known = ", ".join(queues) or "none yet"
    raise ConfigError(f"{name!r} is not a dead-letter queue on this broker; queues: {known} (see `carehub dlq list`)")


def read_letters(admin: Admin, topic: str) -> list[StoredLetter]:
    """Every dead letter the topic holds now, partition by partition, in log order."""
    partitions = admin.list_topics().get(topic, 0)
    tps = [TopicPartition(topic, p) for p in range(partitions)]
    ends = admin.end_offsets(tps)
    letters: list[StoredLetter] = []
    for tp in tps:
        offset = 0
        while offset < ends[tp]:
            messages = admin.read(tp, offset)
            if not messages:
                break
            letters.extend(StoredLetter.from_message(m) for m in messages)
            offset = messages[-1].offset + 1
    return letters


@dataclass(frozen=True)
class Selection:
    """Which dead letters a user means: by rule, and by when they were rejected (since ≤ t < until)."""

    rule: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def matches(self, letter: StoredLetter) -> bool:
        return (
            (self.rule is None or letter.rule == self.rule)
            and (self.since is None or letter.rejected_at >= self.since)
            and (self.until is None or letter.rejected_at < self.until)
        )

    def of(self, letters: Iterable[StoredLetter]) -> list[StoredLetter]:
        return [letter for letter in letters if self.matches(letter)]


@dataclass(frozen=True)
class QueueSummary:
    """One queue as `carehub dlq list` shows it."""

    topic: str
    records: int
    waiting: int  # not yet handled by a replay
    top_rules: list[tuple[str, int]]


def summarise(topic: str, letters: Sequence[StoredLetter], handled: dict[tuple[int, int], Outcome]) -> QueueSummary:
    waiting = sum((letter.partition, letter.offset) not in handled for letter in letters)
    return QueueSummary(topic, len(letters), waiting, Counter(letter.rule for letter in letters).most_common(TOP_RULES))


def shown(letter: StoredLetter, outcome: Outcome | None) -> dict[str, Any]:
    """A dead letter as `carehub dlq show` prints it: its context and masked record, never the original."""
    return {
        "letter": letter.address,
        "rejected_at": letter.rejected_at.isoformat(timespec="seconds"),
        "context": letter.context,
        "record": letter.record,
        "original_kept": letter.original_encrypted is not None,
        "original_bytes": letter.original_bytes,
        "replayed": outcome.value if outcome else None,
    }
