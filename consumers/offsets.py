"""Consumed offsets kept in the dataset database, written in the same transaction as the rows."""

from __future__ import annotations

import sqlalchemy as sa

from carehub.broker.base import TopicPartition
from carehub.db.metadata import metadata

consumer_offset = sa.Table(
    "consumer_offset",
    metadata,
    sa.Column("group_id", sa.String(255), primary_key=True),
    sa.Column("topic", sa.String(255), primary_key=True),
    sa.Column("partition", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("next_offset", sa.BigInteger, nullable=False),
)


def stored_offsets(conn: sa.Connection, group: str, tps: set[TopicPartition]) -> dict[TopicPartition, int]:
    rows = conn.execute(
        sa.select(consumer_offset.c.topic, consumer_offset.c.partition, consumer_offset.c.next_offset).where(
            consumer_offset.c.group_id == group
        )
    )
    found = {TopicPartition(t, p): o for t, p, o in rows}
    return {tp: found[tp] for tp in tps if tp in found}


def store_offsets(conn: sa.Connection, group: str, offsets: dict[TopicPartition, int]) -> None:
    """Upsert; called inside the transaction that writes the rows those offsets produced."""
    for tp, offset in offsets.items():
        where = (
            (consumer_offset.c.group_id == group)
            & (consumer_offset.c.topic == tp.topic)
            & (consumer_offset.c.partition == tp.partition)
        )
        if not conn.execute(consumer_offset.update().where(where).values(next_offset=offset)).rowcount:
            conn.execute(
                consumer_offset.insert().values(group_id=group, topic=tp.topic, partition=tp.partition, next_offset=offset)
            )
