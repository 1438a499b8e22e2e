"""Dialect-aware 'insert or update if newer' for SQLite and PostgreSQL, run as executemany."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite


def upsert_if_newer(
    conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]], *, key: Sequence[str], order: Sequence[str]
) -> None:
    """Insert rows; on a key conflict replace the stored row only when the incoming row sorts
    after it by `order` (e.g. event time, then source record id). The outcome does not depend on
    the order rows arrive in."""
    if not rows:
        return
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[conn.dialect.name]
    stmt = insert(table)
    newer = sa.tuple_(*(stmt.excluded[c] for c in order)) > sa.tuple_(*(table.c[c] for c in order))
    stmt = stmt.on_conflict_do_update(
        index_elements=list(key),
        set_={c.name: stmt.excluded[c.name] for c in table.columns if c.name not in key},
        where=newer,
    )
    conn.execute(stmt, list(rows))
