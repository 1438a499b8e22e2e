"""The `file_drop` source: CSV and XLSX files dropped into a folder, each read once, then moved.

A file is read once it has settled (its modification time is `settle_s` old: every write moves
it); names starting with "." or ending in .part/.tmp are left alone, as copy tools use them for
files still in transit. Its rows are published in batches; the cursor holds the file's content
hash and the rows done, so a restart resumes inside the file. Once its last batch is
acknowledged the file moves to `done/`. A file that cannot be read as a table at all (empty,
binary, undecodable, no header) moves to `quarantine/` beside a `<name>.reason.txt` saying why,
and nothing of it is published."""

from __future__ import annotations

import csv
import logging
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Self

import openpyxl
from pydantic import Field, field_validator

from connectors.sdk.sources.csv_file import csv_rows, detect_encoding, file_digest
from connectors.sdk.sources.base import Batch, Source, SourceNotReady, SourceRow, SourceSettings

log = logging.getLogger("carehub.connect.file_drop")

DONE, QUARANTINE = "done", "quarantine"
_IN_TRANSIT = (".part", ".tmp")
_SNIFF_BYTES = 1 << 20
#: Content hashes of finished files kept in the cursor, to recognise a file dropped twice; bounded
#: because the cursor is rewritten after every batch.
_REMEMBERED = 1000


class FileDropSource(SourceSettings):
    """A folder that receives exports: `*.csv` (UTF-8 or GBK/GB18030) and `*.xlsx` (first sheet)."""

    kind: Literal["file_drop"]
    folder: Path = Field(description="relative to the YAML; done/ and quarantine/ are made inside it")
    pattern: str = Field("*", description="glob of the file names to read, e.g. *.csv or 人口*.xlsx")
    encoding: str = Field("auto", description="of CSV files: auto detects UTF-8 or GBK/GB18030")
    delimiter: str = ","
    settle_s: float = Field(2.0, ge=0, description="seconds a file must stay unmodified before it is read")

    @field_validator("pattern")
    @classmethod
    def _names_only(cls, pattern: str) -> str:
        if "/" in pattern or "\\" in pattern:
            raise ValueError("pattern matches file names in the folder itself, e.g. *.csv; it cannot name subfolders")
        return pattern

    def resolved(self, base: Path, environ: Mapping[str, str]) -> Self:
        return self if self.folder.is_absolute() else self.model_copy(update={"folder": (base / self.folder).resolve()})

    def open(self) -> Source:
        return DropFolderSource(self)


class Unreadable(Exception):
    """A dropped file that is not a readable table; the message is the reason an operator reads."""


@dataclass(frozen=True, slots=True)
class FileBatch(Batch):
    file: Path
    digest: str
    completes: bool  # the file's last batch: once acknowledged, the file moves to done/


class DropFolderSource(Source):
    def __init__(self, settings: FileDropSource):
        self.settings = settings

    def batches(self, cursor: dict | None, batch_size: int) -> Iterator[Batch]:
        folder = self.settings.folder
        if not folder.is_dir():
            raise SourceNotReady(f"drop folder {folder} does not exist; create it or check source.folder")
        done: list[str] = list(cursor.get("done", [])) if cursor else []
        current: dict = (cursor or {}).get("file") or {}
        pending = [(file_digest(path), path) for path in self._settled_files()]
        # a file interrupted by a crash resumes first, so its cursor is not given up for another file
        pending.sort(key=lambda item: item[0] != current.get("sha256"))
        for digest, path in pending:
            if digest in done:
                log.info("%s has the content of a file already published; moving it to %s/", path.name, DONE)
                _move(path, folder / DONE, digest)
                continue
            try:
                for _ in _table_rows(path, self.settings):
                    pass  # read it whole first: a file that breaks halfway publishes nothing
            except Unreadable as problem:
                _quarantine(path, digest, str(problem))
                continue
            skip = current["rows"] if current.get("sha256") == digest else 0
            yield from self._file_batches(path, digest, skip, done, batch_size)
            done = [*done, digest][-_REMEMBERED:]
            current = {}

    def finish(self, batch: Batch) -> None:
        if isinstance(batch, FileBatch) and batch.completes:
            moved = _move(batch.file, self.settings.folder / DONE, batch.digest)
            log.info("%s published; moved to %s", batch.file.name, moved)

    def _file_batches(self, path: Path, digest: str, skip: int, done: list[str], batch_size: int) -> Iterator[FileBatch]:
        rows: list[SourceRow] = []
        number = skip
        for number, (line, values) in enumerate(_table_rows(path, self.settings), start=1):
            if number <= skip:
                continue
            if len(rows) == batch_size:  # held back until a next row exists: the last batch completes the file
                yield FileBatch(rows, {"done": done, "file": {"sha256": digest, "rows": number - 1}}, path, digest, False)
                rows = []
            rows.append(SourceRow(f"{path.name}:{line}", values))
        yield FileBatch(rows, {"done": [*done, digest][-_REMEMBERED:]}, path, digest, True)

    def _settled_files(self) -> list[Path]:
        """Matching files nobody has written to for `settle_s` seconds, oldest first."""
        now, found = time.time(), []
        for path in self.settings.folder.glob(self.settings.pattern):
            if path.name.startswith(".") or path.name.lower().endswith(_IN_TRANSIT) or not path.is_file():
                continue
            try:
                modified = path.stat().st_mtime
            except FileNotFoundError:  # taken away between listing and looking
                continue
            if now - modified >= self.settings.settle_s:
                found.append((modified, path.name, path))
        return [path for *_, path in sorted(found)]


def _table_rows(path: Path, settings: FileDropSource) -> Iterator[tuple[int, dict[str, str | None]]]:
    """(line or sheet row, column: value) for each data row; raises `Unreadable` with the reason."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx_rows(path)
    if suffix == ".xls":
        raise Unreadable("an Excel 97-2003 .xls workbook, which is not read; save it as .xlsx or CSV")
    return _csv_rows(path, settings)


def _csv_rows(path: Path, settings: FileDropSource) -> Iterator[tuple[int, dict[str, str | None]]]:
    with path.open("rb") as f:
        head = f.read(_SNIFF_BYTES)
    if not head.strip():
        raise Unreadable("the file is empty")
    if b"\0" in head:
        raise Unreadable("binary content (NUL bytes), not CSV text; export the table as UTF-8 or GBK CSV")
    encoding = detect_encoding(path) if settings.encoding == "auto" else settings.encoding
    number = 0
    try:
        with path.open(encoding=encoding, newline="", errors="strict") as f:
            _check_header(next(csv.reader(f, delimiter=settings.delimiter), []))
        for number, row in enumerate(csv_rows(path, encoding, settings.delimiter), start=1):
            yield number + 1, row
    except UnicodeDecodeError as exc:
        raise Unreadable(f"not {encoding} text after data row {number} ({exc.reason}); save it as UTF-8 or GBK") from None
    except csv.Error as exc:
        raise Unreadable(f"not a readable CSV table after data row {number}: {exc}") from None


def _xlsx_rows(path: Path) -> Iterator[tuple[int, dict[str, str | None]]]:
    # A dropped file is untrusted input: any failure to parse it means it cannot be read as a table.
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001
        raise Unreadable(f"not an XLSX workbook ({type(exc).__name__}: {exc})") from None
    try:
        if not workbook.worksheets:
            raise Unreadable("the workbook has no sheet")
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # some exporters write a wrong sheet size; read what is there
        lines = sheet.iter_rows(values_only=True)
        header = [_cell_text(v) for v in next(lines, ())]
        while header and header[-1] is None:  # formatted but empty columns
            header.pop()
        if not header:
            raise Unreadable(f"the first sheet ({sheet.title}) is empty")
        _check_header(header)
        for number, values in enumerate(lines, start=2):
            if all(v is None for v in values):
                continue
            cells = [_cell_text(v) for v in values[: len(header)]]
            yield number, dict(zip(header, cells + [None] * (len(header) - len(cells)), strict=True))
    except Unreadable:
        raise
    except Exception as exc:  # noqa: BLE001
        raise Unreadable(f"the workbook cannot be read ({type(exc).__name__}: {exc})") from None
    finally:
        workbook.close()


def _check_header(header: list[str | None]) -> None:
    if not header or not any(name and name.strip() for name in header):
        raise Unreadable("no header row: the first row must name the columns")
    for index, name in enumerate(header, start=1):
        if not name or not name.strip():
            raise Unreadable(f"column {index} of the header row has no name")
    twice = sorted({name for name in header if header.count(name) > 1})
    if twice:
        raise Unreadable(f"the header row names {', '.join(twice)} more than once")


def _cell_text(value: Any) -> str | None:
    """A cell as the mapping step expects it: text, ISO dates, None for an empty cell."""
    match value:
        case None | str():
            return value
        case bool():
            return "true" if value else "false"
        case datetime() if value.time() == datetime.min.time():
            return value.date().isoformat()  # Excel keeps dates as midnight timestamps
        case datetime():
            return value.isoformat()
        case float() if value.is_integer():
            return str(int(value))  # Excel keeps every number as a float: 110105.0 is 110105
        case _:
            return str(value)


def _move(path: Path, into: Path, digest: str) -> Path:
    into.mkdir(exist_ok=True)
    target = into / path.name
    if target.exists():  # the same name dropped again, e.g. a daily persons.csv
        target = into / f"{path.stem}.{digest[:12]}{path.suffix}"
    path.replace(target)
    return target


def _quarantine(path: Path, digest: str, reason: str) -> None:
    moved = _move(path, path.parent / QUARANTINE, digest)
    moved.with_name(moved.name + ".reason.txt").write_text(reason + "\n", encoding="utf-8")
    log.warning("%s cannot be read (%s); moved to %s", path.name, reason, moved)
