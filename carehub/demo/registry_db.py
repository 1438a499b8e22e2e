"""Write the registry's rows into a SQLite database: tables person, death and household_move."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from carehub.demo.connectors import source_row
from carehub.demo.services import Rows
from connectors.sdk.config import ConnectorConfig


def write_registry(path: Path, rows: Rows, configs: dict[str, ConnectorConfig]) -> dict[str, int]:
    """One table per sql connector, rows numbered in update order as the registry assigns ids;
    returns the rows written per record type."""
    engine = sa.create_engine(f"sqlite:///{path}")
    metadata = sa.MetaData()
    written = {}
    try:
        for record, config in configs.items():
            if config.source.kind != "sql":
                continue
            s = config.source
            columns = [c for c in dict.fromkeys(config.mapping.values()) if c not in (s.id_column, s.timestamp_column)]
            table = sa.Table(s.table, metadata, sa.Column(s.id_column, sa.Integer, primary_key=True),
                             sa.Column(s.timestamp_column, sa.DateTime, index=True), *(sa.Column(c, sa.String) for c in columns))
            ordered = sorted(rows.get(record, []), key=lambda r: r["event_time"])  # stable: ties keep their order
            mapped = [source_row({k: v for k, v in r.items() if k != "source_record_id"}, config) for r in ordered]
            table.create(engine)
            if mapped:  # a small region may have no deaths or moves yet
                with engine.begin() as conn:
                    conn.execute(table.insert(), [{s.id_column: n, **{c: m.get(c) for c in columns}, s.timestamp_column: m[s.timestamp_column]}
                                                  for n, m in enumerate(mapped, start=1)])
            written[record] = len(mapped)
    finally:
        engine.dispose()
    return written
