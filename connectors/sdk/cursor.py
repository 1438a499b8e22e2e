"""Connector cursors, kept in the hub database and advanced only after the broker acknowledged."""

from __future__ import annotations

import json

import sqlalchemy as sa

from carehub.db.metadata import metadata

connector_cursor = sa.Table(
    "connector_cursor",
    metadata,
    sa.Column("connector", sa.String(128), primary_key=True),
    sa.Column("cursor", sa.Text, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)


def load_cursor(engine: sa.Engine, connector: str) -> dict | None:
    with engine.connect() as conn:
        raw = conn.scalar(sa.select(connector_cursor.c.cursor).where(connector_cursor.c.connector == connector))
    return json.loads(raw) if raw else None


def save_cursor(engine: sa.Engine, connector: str, cursor: dict) -> None:
    text = json.dumps(cursor, sort_keys=True)
    with engine.begin() as conn:
        updated = conn.execute(
            connector_cursor.update()
            .where(connector_cursor.c.connector == connector)
            .values(cursor=text, updated_at=sa.func.now())
        ).rowcount
        if not updated:
            conn.execute(connector_cursor.insert().values(connector=connector, cursor=text))
