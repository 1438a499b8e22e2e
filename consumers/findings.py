"""What reconciliation finds beside the datasets: identity conflicts between sources, and risk alerts."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from carehub.db.metadata import metadata
from consumers.alerts import Alert
from consumers.datasets.base import refs_json
from consumers.store import in_chunks

#: An identity field on which an elder's sources disagree; `values` maps each value to its sources.
identity_conflict = sa.Table(
    "identity_conflict",
    metadata,
    sa.Column("person_key", sa.String(64), primary_key=True),
    sa.Column("field", sa.String(32), primary_key=True),
    sa.Column("chosen", sa.String(200)),
    sa.Column("values", sa.Text, nullable=False),  # JSON: value -> [source refs]
)

risk_alert = sa.Table(
    "risk_alert",
    metadata,
    sa.Column("alert_id", sa.String(40), primary_key=True),
    sa.Column("rule", sa.String(64), nullable=False, index=True),
    sa.Column("subject", sa.String(16), nullable=False),
    sa.Column("subject_key", sa.String(64), nullable=False, index=True),
    sa.Column("amount_at_risk", sa.Numeric(14, 2)),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("evidence", sa.Text, nullable=False),  # JSON: [source refs]
)


def replace_conflicts(conn: sa.Connection, keys: Iterable[str], conflicts: list[dict[str, Any]]) -> None:
    for chunk in in_chunks(keys):
        conn.execute(identity_conflict.delete().where(identity_conflict.c.person_key.in_(chunk)))
    if conflicts:
        conn.execute(identity_conflict.insert(), [
            {"person_key": c["person_key"], "field": c["field"], "chosen": c["chosen"],
             "values": _values_json(c["values"])} for c in conflicts
        ])


def _values_json(values: dict[str, list]) -> str:
    return json.dumps({value: json.loads(refs_json(refs)) for value, refs in sorted(values.items())}, ensure_ascii=False)


def replace_alerts(conn: sa.Connection, subject: str, keys: Iterable[str], alerts: list[Alert]) -> tuple[list[Alert], list[dict[str, Any]]]:
    """Make the stored alerts of these subjects exactly `alerts`; return those raised and the rows cleared."""
    existing: dict[str, dict[str, Any]] = {}
    for chunk in in_chunks(keys):
        for row in conn.execute(sa.select(risk_alert).where(
                (risk_alert.c.subject == subject) & risk_alert.c.subject_key.in_(chunk))).mappings():
            existing[row["alert_id"]] = dict(row)
    current = {a.alert_id: a for a in alerts}
    cleared = [row for alert_id, row in existing.items() if alert_id not in current]
    raised = [a for alert_id, a in current.items() if alert_id not in existing]
    if cleared:
        conn.execute(risk_alert.delete().where(risk_alert.c.alert_id.in_([r["alert_id"] for r in cleared])))
    if raised:
        conn.execute(risk_alert.insert(), [
            {"alert_id": a.alert_id, "rule": a.rule, "subject": a.subject, "subject_key": a.subject_key,
             "amount_at_risk": a.amount_at_risk, "detail": a.detail, "evidence": refs_json(a.evidence)} for a in raised
        ])
    return raised, cleared
