"""The elder dataset (老年人基本信息数据集) fed by registry person records."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from carehub.db.metadata import metadata
from consumers.upsert import upsert_if_newer

elder = sa.Table(
    "elder",
    metadata,
    sa.Column("person_key", sa.String(64), primary_key=True),
    sa.Column("resident_id_encrypted", sa.LargeBinary, nullable=False),
    sa.Column("resident_id_masked", sa.String(32), nullable=False),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("sex", sa.String(1), nullable=False),
    sa.Column("birth_date", sa.Date, nullable=False),
    sa.Column("household_division", sa.String(6)),
    sa.Column("address", sa.String(500)),
    sa.Column("source_system", sa.String(128), nullable=False),
    sa.Column("source_record_id", sa.String(128), nullable=False),
    sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),
)

_COLUMNS = [c.name for c in elder.columns]


class ElderFromPerson:
    """Upserts one elder row per person key; the record with the latest event time wins."""

    topic = "src.registry.person.v1"

    def apply(self, conn: sa.Connection, records: list[dict[str, Any]]) -> int:
        rows = [{c: record[c] for c in _COLUMNS} for record in records]
        upsert_if_newer(conn, elder, rows, key=["person_key"], order=["event_time", "source_record_id"])
        return len(rows)
