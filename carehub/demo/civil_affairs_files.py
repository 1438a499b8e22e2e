"""Write civil-affairs rows as the exports a drop folder receives: CSV (GBK or UTF-8) and XLSX files."""

from __future__ import annotations

import csv
import os
import time
from datetime import datetime
from pathlib import Path

import openpyxl

from carehub.demo.connectors import source_row, text
from carehub.demo.services import Row, Rows
from connectors.sdk.config import ConnectorConfig

#: File name and encoding of each export (None: XLSX). `{month}` splits rows by period_start.
#: GBK is what most civil-affairs systems on Windows still export; gb18030 writes the same bytes
#: for every GBK character and never fails on a rarer one.
EXPORTS = {
    "civil_affairs.enrolment": ("服务对象登记.csv", "gb18030"),
    "civil_affairs.capability_assessment": ("能力评估结果.xlsx", None),
    "civil_affairs.subsidy_payment": ("补贴发放名册_{month}.xlsx", None),
    "civil_affairs.service_record": ("居家养老服务工单.csv", "utf-8"),
    "civil_affairs.institution": ("养老服务机构名录.csv", "gb18030"),
    "civil_affairs.inspection": ("监督检查记录.csv", "utf-8"),
    "civil_affairs.practitioner": ("养老护理员.xlsx", None),
    "civil_affairs.provider_registration": ("登记信息.csv", "gb18030"),
}
#: A fixed workbook date, so the same seed gives the same workbook properties.
_CREATED = datetime(2024, 1, 1)


def _write(path: Path, encoding: str | None, header: list[str], rows: list[dict[str, object]]) -> None:
    lines = [[text(r.get(c)) or "" for c in header] for r in rows]
    if encoding:
        with path.open("w", encoding=encoding, newline="") as f:
            csv.writer(f).writerows([header, *lines])
        return
    workbook = openpyxl.Workbook(write_only=True)
    workbook.properties.created = workbook.properties.modified = _CREATED
    sheet = workbook.create_sheet("Sheet1")
    sheet.append(header)
    for line in lines:
        sheet.append([cell or None for cell in line])
    workbook.save(path)


def write_drops(folder: Path, rows: Rows, configs: dict[str, ConnectorConfig]) -> dict[str, int]:
    """Each file_drop connector's rows as files in its folder, already settled (modified a minute
    ago) so a connector reads them at once; returns the rows written per record type."""
    written = {}
    for record, config in configs.items():
        if config.source.kind != "file_drop":
            continue
        name, encoding = EXPORTS[record]
        target = config.source.folder
        target.mkdir(parents=True, exist_ok=True)
        groups: dict[str, list[Row]] = {}
        for row in rows.get(record, []):
            groups.setdefault(name.format(month=str(row.get("period_start", ""))[:7]), []).append(row)
        for file_name, group in sorted(groups.items()):
            mapped = [source_row(r, config) for r in group]
            header = list(dict.fromkeys([*dict.fromkeys(config.mapping.values()), *(k for m in mapped for k in m)]))
            path = target / file_name
            _write(path, encoding, header, mapped)
            settled = time.time() - 60
            os.utime(path, (settled, settled))
        written[record] = sum(len(g) for g in groups.values())
    return written
