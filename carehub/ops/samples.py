"""Keep the offset samples the lag rules read in the hub database, bounded per partition."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import sqlalchemy as sa

from carehub.db.metadata import metadata
from carehub.ops.rules import LagPolicy, Sample

lag_sample = sa.Table(
    "lag_sample",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("group_id", sa.String(255), nullable=False),
    sa.Column("topic", sa.String(255), nullable=False),
    sa.Column("partition", sa.Integer, nullable=False),
    sa.Column("sampled_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("committed", sa.BigInteger, nullable=False),
    sa.Column("end_offset", sa.BigInteger, nullable=False),
    sa.Column("committed_since", sa.DateTime(timezone=True), nullable=False),
    sa.Column("lag_seconds", sa.Float),
    sa.Index("ix_lag_sample_partition", "group_id", "topic", "partition", "sampled_at"),
)


class GroupPartition(NamedTuple):
    group: str
    topic: str
    partition: int


def _utc(moment: datetime) -> datetime:
    """SQLite hands back the UTC moments it was given without their zone."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def load_windows(
    conn: sa.Connection, groups: Collection[str], policy: LagPolicy, now: datetime
) -> dict[GroupPartition, list[Sample]]:
    """The stored window of every partition of `groups`, oldest sample first."""
    if not groups:
        return {}
    c = lag_sample.c
    rows = conn.execute(
        sa.select(c.group_id, c.topic, c.partition, c.sampled_at, c.committed, c.end_offset,
                  c.committed_since, c.lag_seconds)
        .where(c.group_id.in_(sorted(groups)), c.sampled_at > now - timedelta(seconds=policy.window_s))
        .order_by(c.group_id, c.topic, c.partition, c.sampled_at, c.id)
    )
    windows: dict[GroupPartition, list[Sample]] = {}
    for group, topic, partition, at, committed, end, since, lag_seconds in rows:
        windows.setdefault(GroupPartition(group, topic, partition), []).append(
            Sample(_utc(at), committed, end, _utc(since), lag_seconds)
        )
    return {key: window[-policy.window_samples:] for key, window in windows.items()}


def store(conn: sa.Connection, samples: Iterable[tuple[GroupPartition, Sample]], policy: LagPolicy) -> None:
    """Add `samples`, then drop every sample that fell out of its partition's window."""
    rows = [
        {
            "group_id": key.group, "topic": key.topic, "partition": key.partition,
            "sampled_at": sample.at, "committed": sample.committed, "end_offset": sample.end,
            "committed_since": sample.committed_since, "lag_seconds": sample.lag_seconds,
        }
        for key, sample in samples
    ]
    if not rows:
        return
    conn.execute(lag_sample.insert(), rows)
    newest = max(row["sampled_at"] for row in rows)
    c = lag_sample.c
    ranked = sa.select(
        c.id,
        sa.func.row_number()
        .over(partition_by=(c.group_id, c.topic, c.partition), order_by=(c.sampled_at.desc(), c.id.desc()))
        .label("newest_first"),
    ).subquery()
    conn.execute(
        lag_sample.delete().where(
            sa.or_(
                c.sampled_at <= newest - timedelta(seconds=policy.window_s),
                c.id.in_(sa.select(ranked.c.id).where(ranked.c.newest_first > policy.window_samples)),
            )
        )
    )
