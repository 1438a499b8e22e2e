"""Connector cursors, kept in the hub database and advanced only after the broker acknowledged.

A cursor is a JSON object; timestamps, dates, decimals and UUIDs (a SQL source's keyset values)
are stored tagged, so a source gets back the very values it handed over and binds them unchanged."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from carehub.db.metadata import metadata

connector_cursor = sa.Table(
    "connector_cursor",
    metadata,
    sa.Column("connector", sa.String(128), primary_key=True),
    sa.Column("cursor", sa.Text, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

# datetime before date: a datetime is a date too.
_TAGGED: tuple[tuple[str, type, Callable[[Any], str], Callable[[str], Any]], ...] = (
    ("$datetime", datetime, datetime.isoformat, datetime.fromisoformat),
    ("$date", date, date.isoformat, date.fromisoformat),
    ("$decimal", Decimal, str, Decimal),
    ("$uuid", uuid.UUID, str, uuid.UUID),
)


def _tag(value: Any) -> dict[str, str]:
    for tag, kind, write, _ in _TAGGED:
        if isinstance(value, kind):
            return {tag: write(value)}
    raise TypeError(f"a cursor cannot hold {type(value).__name__} values")


def _untag(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        for tag, _, _, read in _TAGGED:
            if tag in obj:
                return read(obj[tag])
    return obj


def cursor_to_json(cursor: dict) -> str:
    return json.dumps(cursor, sort_keys=True, default=_tag)


def cursor_from_json(text: str) -> dict:
    return json.loads(text, object_hook=_untag)


def load_cursor(engine: sa.Engine, connector: str) -> dict | None:
    with engine.connect() as conn:
        raw = conn.scalar(sa.select(connector_cursor.c.cursor).where(connector_cursor.c.connector == connector))
    return cursor_from_json(raw) if raw else None


def save_cursor(conn: sa.Connection, connector: str, cursor: dict) -> None:
    """Store the cursor inside the caller's transaction."""
    text = cursor_to_json(cursor)
    updated = conn.execute(
        connector_cursor.update()
        .where(connector_cursor.c.connector == connector)
        .values(cursor=text, updated_at=sa.func.now())
    ).rowcount
    if not updated:
        conn.execute(connector_cursor.insert().values(connector=connector, cursor=text))
