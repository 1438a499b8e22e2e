"""Read a dataset out for subscribers and auditors: rows with keys, masked IDs, source links and provenance."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import IO, Any

import sqlalchemy as sa

from consumers.datasets import Dataset
from consumers.datasets.base import json_value

#: Never exported: the encrypted resident ID stays in the hub; the masked form goes out.
WITHHELD = frozenset({"resident_id_encrypted"})
#: Columns holding JSON text, exported as JSON values rather than strings.
JSON_COLUMNS = frozenset({"provenance", "sources", "enrolments", "target_groups", "subsidies_by_type", "services_offered",
                          "employments", "credit_events"})


def _plain(name: str, value: Any) -> Any:
    if name in JSON_COLUMNS and value is not None:
        return json.loads(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return json_value(value)


def rows(conn: sa.Connection, dataset: Dataset) -> Iterator[dict[str, Any]]:
    """Every row, ordered by key, as JSON-ready values."""
    table = dataset.table
    columns = [c for c in table.columns if c.name not in WITHHELD]
    for row in conn.execute(sa.select(*columns).order_by(table.c[dataset.key])).mappings():
        yield {name: _plain(name, value) for name, value in row.items()}


def write(conn: sa.Connection, dataset: Dataset, out: IO[str], output_format: str) -> int:
    """Write the dataset as JSON lines or CSV (JSON-valued columns as JSON text); return the row count."""
    count = 0
    if output_format == "jsonl":
        for count, row in enumerate(rows(conn, dataset), 1):
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    elif output_format == "csv":
        writer = csv.DictWriter(out, [c.name for c in dataset.table.columns if c.name not in WITHHELD])
        writer.writeheader()
        for count, row in enumerate(rows(conn, dataset), 1):
            writer.writerow({k: json.dumps(v, ensure_ascii=False) if k in JSON_COLUMNS else v for k, v in row.items()})
    else:
        raise ValueError(f"unknown format {output_format!r}: use jsonl or csv")
    return count
