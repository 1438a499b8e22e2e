"""The replay ledger: which dead letters a replay already handled, so none is replayed twice."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from enum import StrEnum

import sqlalchemy as sa

from carehub.db.metadata import metadata
from carehub.dlq.letter import StoredLetter

dead_letter_replay = sa.Table(
    "dead_letter_replay",
    metadata,
    sa.Column("topic", sa.String(255), primary_key=True),
    sa.Column("partition", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("offset", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("origin", sa.String(255), nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("replayed_at", sa.DateTime(timezone=True), nullable=False),
)


class Outcome(StrEnum):
    """What a replay did with one dead letter."""

    PUBLISHED = "published"  # the fixed row went to the connector's topic
    REJECTED = "rejected"  # the row failed again and went back to the queue as a new dead letter
    REPUBLISHED = "republished"  # the original message went back to its source topic


def replayed(conn: sa.Connection, topic: str) -> dict[tuple[int, int], Outcome]:
    """(partition, offset) → outcome of every dead letter of `topic` a replay handled."""
    t = dead_letter_replay.c
    rows = conn.execute(sa.select(t.partition, t.offset, t.outcome).where(t.topic == topic))
    return {(partition, offset): Outcome(outcome) for partition, offset, outcome in rows}


def record_replayed(conn: sa.Connection, handled: Iterable[tuple[StoredLetter, Outcome]]) -> None:
    """Record, inside the caller's transaction, what a replay did; a letter recorded before (by a
    replay running at the same time) raises `sqlalchemy.exc.IntegrityError`."""
    at = datetime.now(UTC)
    rows = [
        {"topic": letter.topic, "partition": letter.partition, "offset": letter.offset,
         "origin": letter.context.get("origin", ""), "outcome": outcome.value, "replayed_at": at}
        for letter, outcome in handled
    ]
    if rows:
        conn.execute(dead_letter_replay.insert(), rows)
