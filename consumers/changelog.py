"""Dataset changelogs and risk alerts for subscribers: an outbox written with the rows, published after.

Changed rows are written to `changelog_outbox` in the transaction that changes them; after the
commit the outbox is published to `ds.<dataset>.v1` (keyed by the dataset key) and
`alerts.risk.v1`, then emptied. A crash between commit and publish only delays the messages, and a
repeated message is harmless on a compacted topic keyed by the row.

The Avro schema of each `ds.*` topic is derived from its table: every column (nullable but the
key) plus `op` (UPSERT, DELETE or MERGE) and `merged_into`. `python -m consumers.changelog`
writes them to schemas/datasets/; a test keeps the files and the tables in step."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from carehub.avro import load_schema
from carehub.broker.base import Producer
from carehub.db.metadata import metadata
from consumers.datasets import DATASETS, Dataset

ALERTS_TOPIC = "alerts.risk.v1"
ALERTS_SCHEMA = "alerts/risk.avsc"
UPSERT, DELETE, MERGE = "UPSERT", "DELETE", "MERGE"
CHANGELOG_TOPICS = (*(d.changelog_topic for d in DATASETS), ALERTS_TOPIC)

changelog_outbox = sa.Table(
    "changelog_outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("topic", sa.String(255), nullable=False),
    sa.Column("key", sa.String(64), nullable=False),
    sa.Column("value", sa.LargeBinary, nullable=False),
)

_AVRO_TYPES: tuple[tuple[type, Any], ...] = (
    (sa.LargeBinary, "bytes"),
    (sa.Boolean, "boolean"),
    (sa.BigInteger, "long"),
    (sa.Integer, "int"),
    (sa.Float, "double"),
    (sa.Date, {"type": "int", "logicalType": "date"}),
)


def _avro_type(column: sa.Column) -> Any:
    if isinstance(column.type, sa.Numeric) and not isinstance(column.type, sa.Float):
        return {"type": "bytes", "logicalType": "decimal", "precision": column.type.precision, "scale": column.type.scale}
    for sql_type, avro in _AVRO_TYPES:
        if isinstance(column.type, sql_type):
            return avro
    return "string"


_COLUMN_DOCS = {
    "provenance": "JSON: for each field, the source system, source record id and event time it came from",
    "sources": "JSON: every source record linked to this row (topic, source system, source record id)",
    "row_hash": "SHA-1 of the row's content: equal hashes, equal rows",
}


def changelog_schema(dataset: Dataset) -> dict[str, Any]:
    """The Avro schema of `ds.<dataset>.v1`, derived from the dataset's table."""
    fields: list[dict[str, Any]] = [
        {"name": "op", "type": {"type": "enum", "name": "Op", "symbols": [UPSERT, DELETE, MERGE]},
         "doc": "UPSERT: the row as it now is; DELETE: the row is gone; MERGE: the row was found to be the same entity as merged_into"},
        {"name": "merged_into", "type": ["null", "string"], "default": None, "doc": "for MERGE, the key of the surviving row"},
    ]
    for column in dataset.table.columns:
        avro = _avro_type(column)
        field = {"name": column.name, "type": avro} if column.name == dataset.key else {"name": column.name, "type": ["null", avro], "default": None}
        if column.name in _COLUMN_DOCS:
            field["doc"] = _COLUMN_DOCS[column.name]
        fields.append(field)
    return {"type": "record", "name": dataset.name.title().replace("_", "") + "Changelog", "namespace": "carehub.datasets",
            "doc": f"Changelog of the {dataset.name} dataset, one message per changed row, keyed by {dataset.key}.",
            "fields": fields}


def schema_path(dataset: Dataset) -> str:
    return f"datasets/{dataset.name}.avsc"


Encoders = dict[str, Callable[[dict[str, Any]], bytes]]


def encoders(encoder_for: Callable[[str, dict[str, Any]], Callable[[dict[str, Any]], bytes]]) -> Encoders:
    """One encoder per changelog topic (unprefixed name), from AvroCodec.encoder-like factory."""
    made = {d.changelog_topic: encoder_for(d.changelog_topic, load_schema(schema_path(d))) for d in DATASETS}
    made[ALERTS_TOPIC] = encoder_for(ALERTS_TOPIC, load_schema(ALERTS_SCHEMA))
    return made


def publish_outbox(engine: sa.Engine, producer: Producer, topic_prefix: str = "", batch: int = 5000) -> int:
    """Send every outbox message, oldest first, and delete what the broker acknowledged."""
    sent = 0
    while True:
        with engine.connect() as conn:
            rows = conn.execute(sa.select(changelog_outbox).order_by(changelog_outbox.c.id).limit(batch)).all()
        if not rows:
            return sent
        for row in rows:
            producer.send(topic_prefix + row.topic, row.value, key=row.key.encode())
        producer.flush()
        with engine.begin() as conn:
            conn.execute(changelog_outbox.delete().where(changelog_outbox.c.id.in_([row.id for row in rows])))
        sent += len(rows)


def write_schemas(folder: Path) -> None:
    for dataset in DATASETS:
        path = folder / schema_path(dataset)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(changelog_schema(dataset), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    write_schemas(Path(__file__).resolve().parent.parent / "schemas")
