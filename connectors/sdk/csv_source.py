"""Read a CSV file in batches from a row cursor, with UTF-8 or GB18030 detected, memory bounded."""

from __future__ import annotations

import codecs
import csv
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from carehub.errors import ConfigError
from connectors.sdk.config import CsvSource

_SNIFF_BYTES = 1 << 20


class SourceNotReady(ConfigError):
    """The source file is not there (yet); a continuous connector waits for it."""


@dataclass(frozen=True, slots=True)
class SourceRow:
    position: str  # where a person finds the row again, e.g. "persons.csv:42"
    values: dict[str, str | None]


@dataclass(frozen=True, slots=True)
class Batch:
    rows: list[SourceRow]
    cursor: dict  # the cursor to store once every row of the batch is acknowledged


def detect_encoding(path: Path) -> str:
    """utf-8-sig when the first MiB decodes as UTF-8, else gb18030 (a superset of GBK)."""
    with path.open("rb") as f:
        head = f.read(_SNIFF_BYTES)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=len(head) < _SNIFF_BYTES)
        return "utf-8-sig"
    except UnicodeDecodeError:
        return "gb18030"


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_batches(source: CsvSource, cursor: dict | None, batch_size: int) -> Iterator[Batch]:
    """Rows after the cursor, `batch_size` at a time. The cursor is the file's content hash and
    the number of data rows already published; a file with new content starts from row 0."""
    if not source.path.exists():
        raise SourceNotReady(f"source file {source.path} does not exist; check source.path in the connector YAML")
    digest = file_digest(source.path)
    done = cursor["rows"] if cursor and cursor.get("sha256") == digest else 0
    encoding = detect_encoding(source.path) if source.encoding == "auto" else source.encoding
    with source.path.open(encoding=encoding, newline="", errors="strict") as f:
        reader = csv.DictReader(f, delimiter=source.delimiter, restkey="__extra__")
        rows: list[SourceRow] = []
        number = 0
        for number, row in enumerate(reader, start=1):
            if number <= done:
                continue
            row.pop("__extra__", None)
            rows.append(SourceRow(f"{source.path.name}:{number + 1}", row))
            if len(rows) == batch_size:
                yield Batch(rows, {"sha256": digest, "rows": number})
                rows = []
        if rows:
            yield Batch(rows, {"sha256": digest, "rows": number})
