"""What every basic dataset shares: its key, provenance and source-link columns, and its row hash."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from carehub.db.metadata import metadata
from consumers.survivorship import Survivor
from consumers.views import EntityView, SourceRec, SourceRef

#: Columns every dataset ends with: field provenance, linked source records and a content hash.
def common_columns() -> list[sa.Column]:
    return [
        sa.Column("provenance", sa.Text, nullable=False),  # JSON: field -> source system, record id, event time
        sa.Column("sources", sa.Text, nullable=False),  # JSON: [{topic, source_system, source_record_id}], sorted
        sa.Column("row_hash", sa.String(40), nullable=False),
    ]


def dataset_table(name: str, key: sa.Column, *columns: sa.Column) -> sa.Table:
    return sa.Table(name, metadata, key, *columns, *common_columns())


def json_value(value: Any) -> Any:
    """A dataset or Avro value JSON cannot hold as it is: times ISO 8601, money as a decimal
    string, bytes base64. The `default=` of every JSON dump of records and rows."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=json_value, separators=(",", ":"))


def refs_json(refs: Iterable[SourceRef]) -> str:
    """Source references as a sorted JSON list, the form datasets, conflicts and alerts share."""
    return to_json([{"topic": r.topic, "source_system": r.source_system, "source_record_id": r.source_record_id} for r in sorted(set(refs))])


def finish(row: dict[str, Any], provenance: dict[str, Survivor | SourceRec | None], records: Iterable[SourceRec]) -> dict[str, Any]:
    """Add provenance (per field, from the survivor or record that supplied it), the sorted source
    links and a hash of everything, which tells a changed row from an unchanged one."""
    fields = {}
    for name, origin in provenance.items():
        if origin is None:
            continue
        rec = origin.rec if isinstance(origin, Survivor) else origin
        fields[name] = {"source_system": rec.ref.source_system, "source_record_id": rec.ref.source_record_id,
                        "event_time": rec.event_time.isoformat()}
    row = {**row, "provenance": to_json(fields), "sources": refs_json(r.ref for r in records)}
    # repr of the sorted items: every column value (str, int, float, bool, date, Decimal, bytes,
    # None) has a stable repr, and it costs a third of a JSON dump.
    row["row_hash"] = hashlib.sha1(repr(sorted(row.items())).encode()).hexdigest()
    return row


def all_records(view: EntityView, topics: Iterable[str]) -> list[SourceRec]:
    return [rec for topic in topics for rec in view.of(topic)]


@dataclass(frozen=True)
class Dataset:
    """A basic dataset: its table, the entity kind its rows are built from, and the pure builder."""

    name: str
    table: sa.Table
    kind: str
    build: Callable[[EntityView], dict[str, Any] | None]

    @property
    def key(self) -> str:
        return self.table.primary_key.columns.values()[0].name

    @property
    def changelog_topic(self) -> str:
        return f"ds.{self.name}.v1"


def latest_by(records: Iterable[SourceRec], field: str) -> SourceRec | None:
    """The record with the greatest `field` (then event time, then reference); None if none has it."""
    having = [r for r in records if r.data.get(field) is not None]
    return max(having, key=lambda r: (r.data[field], r.event_time, r.ref)) if having else None

