"""The file_drop source against the files people really drop: encodings, Excel, broken and hostile files."""

from __future__ import annotations

import csv
import os
import time
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from connectors.sdk.sources import Batch, SourceNotReady, SourceRow
from connectors.sdk.sources.file_drop import DropFolderSource, FileDropSource

HEADER = "记录号,身份证号,姓名,出生日期,住址\n"


def drop(folder: Path, name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def xlsx(folder: Path, name: str, rows: list[list[object]]) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text that looks like a formula, as exporters write it
    path = folder / name
    workbook.save(path)
    return path


def folder_source(folder: Path, **settings: object) -> DropFolderSource:
    return DropFolderSource(FileDropSource.model_validate({"kind": "file_drop", "folder": folder, "settle_s": 0} | settings))


def run(source: DropFolderSource, cursor: dict | None = None, batch_size: int = 100) -> tuple[list[SourceRow], dict | None]:
    """What the runner does: take every batch, acknowledge it (keep its cursor), then finish it."""
    rows: list[SourceRow] = []
    for batch in source.batches(cursor, batch_size):
        rows += batch.rows
        cursor = batch.cursor
        source.finish(batch)
    return rows, cursor


def reason(folder: Path, name: str) -> str:
    return (folder / "quarantine" / f"{name}.reason.txt").read_text(encoding="utf-8")


def test_utf8_gbk_and_xlsx_files_are_read_once_and_moved_to_done(tmp_path: Path) -> None:
    drop(tmp_path, "a.csv", HEADER + "R1,11010519491231002X,张三,1949-12-31,北京\n")
    drop(tmp_path, "b.csv", HEADER + "R2,110105194912310029,李四,1949-12-31,朝阳区\n", encoding="gbk")
    xlsx(tmp_path, "c.xlsx", [["记录号", "姓名", "出生日期", "户籍地区划", "更新时间", None],
                              ["R3", "王五", datetime(1949, 12, 31), 110105, datetime(2025, 6, 1, 8, 30), None],
                              [None, None, None, None, None, None]])
    rows, cursor = run(folder_source(tmp_path))

    assert [r.values["记录号"] for r in rows] == ["R1", "R2", "R3"]
    assert rows[1].values["住址"] == "朝阳区"
    assert rows[2].values == {"记录号": "R3", "姓名": "王五", "出生日期": "1949-12-31", "户籍地区划": "110105",
                              "更新时间": "2025-06-01T08:30:00"}
    assert [r.position for r in rows] == ["a.csv:2", "b.csv:2", "c.xlsx:2"]
    assert sorted(p.name for p in (tmp_path / "done").iterdir()) == ["a.csv", "b.csv", "c.xlsx"]
    assert run(folder_source(tmp_path), cursor) == ([], cursor)


def test_a_crash_mid_file_resumes_after_the_last_acknowledged_batch(tmp_path: Path) -> None:
    drop(tmp_path, "persons.csv", HEADER + "".join(f"R{i},,n{i},,\n" for i in range(1, 8)))
    first: Batch = next(folder_source(tmp_path).batches(None, 3))  # published, acknowledged, then the crash
    assert [r.values["记录号"] for r in first.rows] == ["R1", "R2", "R3"]
    assert (tmp_path / "persons.csv").exists()

    rows, cursor = run(folder_source(tmp_path), first.cursor, batch_size=3)
    assert [r.values["记录号"] for r in rows] == ["R4", "R5", "R6", "R7"]
    assert (tmp_path / "done" / "persons.csv").exists()
    assert run(folder_source(tmp_path), cursor) == ([], cursor)


def test_a_file_dropped_again_with_the_same_content_is_not_published_again(tmp_path: Path) -> None:
    drop(tmp_path, "persons.csv", HEADER + "R1,,n1,,\n")
    _, cursor = run(folder_source(tmp_path))
    drop(tmp_path, "persons.csv", HEADER + "R1,,n1,,\n")
    assert run(folder_source(tmp_path), cursor)[0] == []
    assert len(list((tmp_path / "done").iterdir())) == 2 and not (tmp_path / "persons.csv").exists()


def test_files_still_being_written_are_left_alone(tmp_path: Path) -> None:
    for name in ("fresh.csv", "upload.csv.part", "export.tmp", ".hidden.csv"):
        drop(tmp_path, name, HEADER + "R1,,n1,,\n")
    old = time.time() - 10
    for name in ("upload.csv.part", "export.tmp", ".hidden.csv"):
        os.utime(tmp_path / name, (old, old))
    source = folder_source(tmp_path, settle_s=2)
    assert run(source)[0] == []

    os.utime(tmp_path / "fresh.csv", (old, old))  # unmodified for 10 s now
    assert [r.position for r in run(source)[0]] == ["fresh.csv:2"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".hidden.csv", "done", "export.tmp", "upload.csv.part"]


@pytest.mark.parametrize(("name", "content", "why"), [
    ("empty.csv", b"", "the file is empty"),
    ("blank.csv", b"\n \r\n", "the file is empty"),
    ("garbage.csv", bytes(range(256)) * 64, "binary content (NUL bytes)"),
    ("mixed.csv", HEADER.encode() + "R1,,张三,,\n".encode() + b"R2,,\xff\xfe\x80,,\n", "not gb18030 text"),
    ("noheader.csv", b",,\nR1,,\n", "no header row"),
    ("twice.csv", "姓名,姓名\nA,B\n".encode(), "the header row names 姓名 more than once"),
    ("fake.xlsx", b"this is not a workbook", "not an XLSX workbook"),
    ("old.xls", b"\xd0\xcf\x11\xe0 legacy", "save it as .xlsx or CSV"),
])
def test_unreadable_files_go_to_quarantine_with_the_reason_and_publish_nothing(
    tmp_path: Path, name: str, content: bytes, why: str
) -> None:
    drop(tmp_path, name, content)
    drop(tmp_path, "good.csv", HEADER + "R1,,n1,,\n")
    rows, _ = run(folder_source(tmp_path))
    assert [r.position for r in rows] == ["good.csv:2"]
    assert (tmp_path / "quarantine" / name).read_bytes() == content
    assert why in reason(tmp_path, name)


def test_a_gbk_file_read_as_declared_utf8_is_quarantined(tmp_path: Path) -> None:
    drop(tmp_path, "gbk.csv", HEADER + "R1,,张三,,\n", encoding="gbk")
    assert run(folder_source(tmp_path, encoding="utf-8"))[0] == []
    assert "not utf-8 text" in reason(tmp_path, "gbk.csv")


def test_an_xlsx_with_an_empty_first_sheet_is_quarantined(tmp_path: Path) -> None:
    xlsx(tmp_path, "empty.xlsx", [])
    assert run(folder_source(tmp_path))[0] == []
    assert "the first sheet (Sheet) is empty" in reason(tmp_path, "empty.xlsx")


def test_a_header_only_file_is_done_with_no_rows(tmp_path: Path) -> None:
    drop(tmp_path, "nothing-today.csv", HEADER)
    assert run(folder_source(tmp_path))[0] == []
    assert (tmp_path / "done" / "nothing-today.csv").exists()


def test_hostile_cells_pass_through_as_plain_text(tmp_path: Path) -> None:
    huge = "长" * (1 << 20)
    formula, sql = '=CMD("/C calc")', "'; DROP TABLE elder; --"
    with (tmp_path / "a.csv").open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([
            HEADER.strip().split(","),
            ["R1", "", formula, sql, huge],
            ["R2", "", "short"],  # truncated row: the missing fields are None
            ["R3", "", "n3", "", "addr", "extra", "cells"],  # extra cells are ignored
        ])
    xlsx(tmp_path, "b.xlsx", [["记录号", "姓名", "住址"], ["R4", formula, sql, "extra"], ["R5"]])
    rows, _ = run(folder_source(tmp_path))
    values = {r.values["记录号"]: r.values for r in rows}
    assert values["R1"]["姓名"] == formula and values["R1"]["出生日期"] == sql and values["R1"]["住址"] == huge
    assert values["R2"] == {"记录号": "R2", "身份证号": "", "姓名": "short", "出生日期": None, "住址": None}
    assert values["R3"]["住址"] == "addr" and set(values["R3"]) == set(HEADER.strip().split(","))
    assert values["R4"] == {"记录号": "R4", "姓名": formula, "住址": sql}
    assert values["R5"] == {"记录号": "R5", "姓名": None, "住址": None}


def test_a_missing_folder_is_waited_for(tmp_path: Path) -> None:
    with pytest.raises(SourceNotReady, match="check source.folder"):
        run(folder_source(tmp_path / "inbox"))
