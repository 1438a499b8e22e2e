"""The audit log of the query API: who read what, when, and how many rows; keys are pseudonyms, never resident IDs."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from carehub.db.metadata import metadata

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("profile", sa.String(64), nullable=False, index=True),
    sa.Column("key_id", sa.String(16), nullable=False),  # the first hex digits of the API key's hash
    sa.Column("endpoint", sa.String(32), nullable=False),
    sa.Column("datasets", sa.String(200), nullable=False),  # comma-separated, as read or as refused
    sa.Column("subject_key", sa.String(64), index=True),  # person key or credit code asked for
    sa.Column("query", sa.Text),  # JSON: the search filters
    sa.Column("results", sa.Integer, nullable=False),  # dataset rows returned
    sa.Column("status", sa.Integer, nullable=False),  # HTTP status answered
    sa.Column("client", sa.String(64)),  # the caller's address
)


@dataclass(frozen=True)
class AuditEntry:
    """One read through the query API, as the audit log keeps it."""

    profile: str
    key_id: str
    endpoint: str
    datasets: tuple[str, ...] = ()
    subject_key: str | None = None
    query: dict[str, Any] = field(default_factory=dict)
    results: int = 0
    status: int = 200
    client: str | None = None
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


def record(conn: sa.Connection, entry: AuditEntry) -> None:
    conn.execute(audit_log.insert().values(
        at=entry.at, profile=entry.profile, key_id=entry.key_id, endpoint=entry.endpoint,
        datasets=",".join(entry.datasets), subject_key=entry.subject_key,
        query=json.dumps(entry.query, ensure_ascii=False, sort_keys=True) if entry.query else None,
        results=entry.results, status=entry.status, client=entry.client,
    ))


def entries(conn: sa.Connection, *, profile: str | None = None, subject_key: str | None = None,
            since: datetime | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """The newest entries first, as JSON-ready dicts."""
    query = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    for column, value in ((audit_log.c.profile, profile), (audit_log.c.subject_key, subject_key)):
        if value is not None:
            query = query.where(column == value)
    if since is not None:
        query = query.where(audit_log.c.at >= since)
    return [_plain(row) for row in conn.execute(query).mappings()]


def _plain(row: sa.RowMapping) -> dict[str, Any]:
    at = row["at"] if row["at"].tzinfo else row["at"].replace(tzinfo=UTC)  # SQLite keeps no zone
    return {**dict(row), "at": at.isoformat(), "query": json.loads(row["query"]) if row["query"] else None}

