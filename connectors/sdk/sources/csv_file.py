"""The `csv` source: one CSV file read in batches from a row cursor, UTF-8 or GB18030 detected."""

from __future__ import annotations

import codecs
import csv
import hashlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Literal, Self

from connectors.sdk.sources.base import Batch, Source, SourceNotReady, SourceRow, SourceSettings

_SNIFF_BYTES = 1 << 20

# The default limit (128 KiB) rejects long free-text cells that real exports carry; a bound stays
# so that an unclosed quote cannot swallow the rest of a large file into one value.
csv.field_size_limit(32 << 20)


class CsvSource(SourceSettings):
    """A CSV file with a header row; UTF-8 or GBK/GB18030, detected when `encoding: auto`."""

    kind: Literal["csv"]
    path: Path
    encoding: str = "auto"
    delimiter: str = ","

    def resolved(self, base: Path, environ: Mapping[str, str]) -> Self:
        return self if self.path.is_absolute() else self.model_copy(update={"path": (base / self.path).resolve()})

    def open(self) -> Source:
        return CsvFileSource(self)


class CsvFileSource(Source):
    def __init__(self, settings: CsvSource):
        self.settings = settings

    def batches(self, cursor: dict | None, batch_size: int) -> Iterator[Batch]:
        return read_batches(self.settings, cursor, batch_size)


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


def csv_rows(path: Path, encoding: str, delimiter: str) -> Iterator[dict[str, str | None]]:
    """Data rows as column: value; a short row lacks its last columns (None), extra cells are dropped."""
    with path.open(encoding=encoding, newline="", errors="strict") as f:
        for row in csv.DictReader(f, delimiter=delimiter, restkey="__extra__"):
            row.pop("__extra__", None)
            yield row


def read_batches(source: CsvSource, cursor: dict | None, batch_size: int) -> Iterator[Batch]:
    """Rows after the cursor, `batch_size` at a time. The cursor is the file's content hash and
    the number of data rows already published; a file with new content starts from row 0."""
    if not source.path.exists():
        raise SourceNotReady(f"source file {source.path} does not exist; check source.path in the connector YAML")
    digest = file_digest(source.path)
    done = cursor["rows"] if cursor and cursor.get("sha256") == digest else 0
    encoding = detect_encoding(source.path) if source.encoding == "auto" else source.encoding
    rows: list[SourceRow] = []
    number = 0
    for number, row in enumerate(csv_rows(source.path, encoding, source.delimiter), start=1):
        if number <= done:
            continue
        rows.append(SourceRow(f"{source.path.name}:{number + 1}", row))
        if len(rows) == batch_size:
            yield Batch(rows, {"sha256": digest, "rows": number})
            rows = []
    if rows:
        yield Batch(rows, {"sha256": digest, "rows": number})
