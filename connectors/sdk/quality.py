"""Collection quality (统一采集和校验分析): what each connector read, published and rejected, why,
and how complete each canonical field was — recorded per batch, reported for a time range."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime

import sqlalchemy as sa

from carehub.db.metadata import metadata

quality_batch = sa.Table(
    "quality_batch",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("connector", sa.String(128), nullable=False, index=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("read", sa.Integer, nullable=False),
    sa.Column("published", sa.Integer, nullable=False),
    sa.Column("rejected", sa.Integer, nullable=False),
)

quality_field = sa.Table(
    "quality_field",
    metadata,
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("quality_batch.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("field", sa.String(128), primary_key=True),
    sa.Column("filled", sa.Integer, nullable=False),
)

quality_warning = sa.Table(
    "quality_warning",
    metadata,
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("quality_batch.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("rule", sa.String(128), primary_key=True),
    sa.Column("records", sa.Integer, nullable=False),
)

quality_reject = sa.Table(
    "quality_reject",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("quality_batch.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("position", sa.String(255), nullable=False),
    sa.Column("rule", sa.String(128), nullable=False),
    sa.Column("field", sa.String(128), nullable=False),
    sa.Column("problems", sa.Integer, nullable=False),
)


@dataclass(frozen=True, slots=True)
class RejectedRow:
    position: str
    rule: str  # the first rule the row broke
    field: str
    problems: int  # how many rules it broke


@dataclass
class BatchQuality:
    """What one batch of one connector looked like."""

    read: int = 0
    published: int = 0
    filled: Counter = field(default_factory=Counter)  # canonical field -> rows where it had a value
    warnings: Counter = field(default_factory=Counter)  # rule -> published records it questions
    rejects: list[RejectedRow] = field(default_factory=list)


def record_batch(conn: sa.Connection, connector: str, at: datetime, batch: BatchQuality, fields: list[str]) -> None:
    """Store a batch's quality; call in the transaction that advances the connector's cursor."""
    batch_id = conn.execute(
        quality_batch.insert().values(
            connector=connector, at=at, read=batch.read, published=batch.published, rejected=len(batch.rejects)
        )
    ).inserted_primary_key[0]
    conn.execute(quality_field.insert(), [{"batch_id": batch_id, "field": f, "filled": batch.filled[f]} for f in fields])
    if batch.warnings:
        conn.execute(quality_warning.insert(), [{"batch_id": batch_id, "rule": r, "records": n} for r, n in batch.warnings.items()])
    if batch.rejects:
        conn.execute(quality_reject.insert(), [{"batch_id": batch_id, **asdict(r)} for r in batch.rejects])


@dataclass(frozen=True)
class ConnectorQuality:
    connector: str
    read: int
    published: int
    rejected: int
    rejects_by_rule: dict[str, int]
    warnings_by_rule: dict[str, int]  # accepted records with a doubtful value, e.g. an unknown division code
    completeness: dict[str, float]  # canonical field -> share of rows read that had a value
    worst_positions: list[RejectedRow]


def quality_report(
    conn: sa.Connection, since: datetime | None = None, until: datetime | None = None,
    connector: str | None = None, worst: int = 10,
) -> list[ConnectorQuality]:
    """Per connector, over batches recorded in [since, until)."""
    in_range = sa.true()
    if since:
        in_range &= quality_batch.c.at >= since
    if until:
        in_range &= quality_batch.c.at < until
    if connector:
        in_range &= quality_batch.c.connector == connector
    b, f, r, w = quality_batch.c, quality_field.c, quality_reject.c, quality_warning.c
    totals = conn.execute(
        sa.select(b.connector, sa.func.sum(b.read), sa.func.sum(b.published), sa.func.sum(b.rejected))
        .where(in_range).group_by(b.connector).order_by(b.connector)
    ).all()
    report = []
    for name, read, published, rejected in totals:
        mine = in_range & (b.connector == name)
        by_rule = dict(conn.execute(
            sa.select(r.rule, sa.func.count()).join_from(quality_reject, quality_batch).where(mine)
            .group_by(r.rule).order_by(sa.func.count().desc(), r.rule)
        ).all())
        warned = dict(conn.execute(
            sa.select(w.rule, sa.func.sum(w.records)).join_from(quality_warning, quality_batch).where(mine)
            .group_by(w.rule).order_by(w.rule)
        ).all())
        filled = conn.execute(
            sa.select(f.field, sa.func.sum(f.filled)).join_from(quality_field, quality_batch).where(mine)
            .group_by(f.field).order_by(f.field)
        ).all()
        worst_rows = conn.execute(
            sa.select(r.position, r.rule, r.field, r.problems).join_from(quality_reject, quality_batch).where(mine)
            .order_by(r.problems.desc(), b.at.desc(), r.id).limit(worst)
        ).all()
        report.append(ConnectorQuality(
            connector=name, read=int(read), published=int(published), rejected=int(rejected), rejects_by_rule=by_rule,
            warnings_by_rule={rule: int(n) for rule, n in warned.items()},
            completeness={fld: round(int(n) / read, 4) if read else 0.0 for fld, n in filled},
            worst_positions=[RejectedRow(*row) for row in worst_rows],
        ))
    return report
