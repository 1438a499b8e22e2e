"""Read what operations watch besides lag: connector status, dead letters, reconcilers, risk alerts."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from carehub.broker import Admin, TopicPartition
from carehub.topics import DLQ_PREFIX
from consumers.offsets import consumer_offset

#: Written by the risk rules of the reconcilers; a cleared alert's row is deleted, so every row is open.
RISK_ALERT_TABLE = "risk_alert"
_risk_alert = sa.table(RISK_ALERT_TABLE, sa.column("rule"), sa.column("amount_at_risk"))


@dataclass(frozen=True, slots=True)
class AlertCount:
    rule: str
    open: int
    amount_at_risk: float | None  # yuan, summed over the alerts that name an amount


def dead_letter_counts(admin: Admin, topic_prefix: str = "") -> dict[str, int]:
    """Records ever dead-lettered, per dead-letter topic: the sum of its partitions' end offsets."""
    prefix = topic_prefix + DLQ_PREFIX
    partitions = {name: count for name, count in admin.list_topics().items() if name.startswith(prefix)}
    ends = admin.end_offsets([TopicPartition(name, p) for name, count in partitions.items() for p in range(count)])
    counts = dict.fromkeys(sorted(partitions), 0)
    for tp, end in ends.items():
        counts[tp.topic] += end
    return counts


def reconciler_consumed(conn: sa.Connection) -> dict[str, int]:
    """Per reconciler group, the records it consumed: the sum of the offsets it committed with the
    datasets (an offset counts the records before it, so a topic's retention does not lower it)."""
    c = consumer_offset.c
    rows = conn.execute(sa.select(c.group_id, sa.func.sum(c.next_offset)).group_by(c.group_id).order_by(c.group_id))
    return {group: int(total) for group, total in rows}


def open_alerts(conn: sa.Connection) -> list[AlertCount] | None:
    """Open risk alerts per rule, most first; None while the database has no alert table."""
    if not sa.inspect(conn).has_table(RISK_ALERT_TABLE):
        return None
    rows = conn.execute(
        sa.select(_risk_alert.c.rule, sa.func.count(), sa.func.sum(_risk_alert.c.amount_at_risk))
        .group_by(_risk_alert.c.rule)
        .order_by(sa.func.count().desc(), _risk_alert.c.rule)
    )
    return [AlertCount(rule, count, None if amount is None else float(amount)) for rule, count, amount in rows]
