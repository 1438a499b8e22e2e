"""Reads of dataset rows for the query API: one row by key, the alerts about a subject, provider searches."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from carehub.codes import INSTITUTION_GRADES, INSTITUTION_SERVICES
from carehub.query.models import JSON_FIELDS
from carehub.query.profiles import KEY_COLUMNS, READABLE
from consumers.datasets.institution import institution
from consumers.export import WITHHELD
from consumers.findings import risk_alert

_DIVISION = re.compile(r"^\d{2}(\d{2}){0,2}$")


def plain(row: sa.RowMapping) -> dict[str, Any]:
    """A stored row as the API answers it: JSON columns as JSON values, the encrypted ID left out."""
    return {name: json.loads(value) if name in JSON_FIELDS and value is not None else value
            for name, value in row.items() if name not in WITHHELD}


def row_by_key(conn: sa.Connection, dataset: str, key: str) -> dict[str, Any] | None:
    table = READABLE[dataset]
    row = conn.execute(sa.select(table).where(table.c[KEY_COLUMNS[dataset]] == key)).mappings().first()
    return plain(row) if row else None


def alerts_about(conn: sa.Connection, subject: str, key: str) -> list[dict[str, Any]]:
    """The open risk alerts whose subject (elder, practitioner or institution) has this key."""
    query = (sa.select(risk_alert).where((risk_alert.c.subject == subject) & (risk_alert.c.subject_key == key))
             .order_by(risk_alert.c.rule, risk_alert.c.alert_id))
    return [plain(row) for row in conn.execute(query).mappings()]


def division_prefix(code: str) -> str:
    """The code prefix every division inside `code` shares: 320000 → 32 (province), 320100 → 3201 (city),
    320102 → 320102 (county); 2- and 4-digit prefixes are taken as they are."""
    if not _DIVISION.match(code):
        raise ValueError(f"division must be a GB/T 2260 code of 2, 4 or 6 digits, e.g. 320000 (a province), "
                         f"320500 (a city) or 320505 (a county); got {len(code)} characters")
    while len(code) > 2 and code.endswith("00"):
        code = code[:-2]
    return code


@dataclass(frozen=True)
class InstitutionSearch:
    """Which providers a search or the map selects; every filter left None selects all."""

    division: str | None = None
    service: str | None = None
    grade_min: int | None = None

    def __post_init__(self) -> None:
        if self.service is not None and self.service not in INSTITUTION_SERVICES:
            raise ValueError(f"unknown service {self.service!r}; services are {', '.join(INSTITUTION_SERVICES)}")
        if self.grade_min is not None and self.grade_min not in INSTITUTION_GRADES:
            raise ValueError(f"grade_min must be a grade from {min(INSTITUTION_GRADES)} (一级) to {max(INSTITUTION_GRADES)} (五级)")
        if self.division is not None:
            division_prefix(self.division)

    def as_query(self) -> dict[str, Any]:
        """The filters given, as the audit log keeps them."""
        return {name: value for name, value in vars(self).items() if value is not None}

    def where(self) -> sa.ColumnElement[bool]:
        conditions: list[sa.ColumnElement[bool]] = [sa.true()]
        if self.division is not None:
            conditions.append(institution.c.division.startswith(division_prefix(self.division), autoescape=True))
        if self.service is not None:
            conditions.append(institution.c.services_offered.contains(json.dumps(self.service), autoescape=True))
        if self.grade_min is not None:
            conditions.append(institution.c.grade >= self.grade_min)
        return sa.and_(*conditions)


def search_institutions(conn: sa.Connection, search: InstitutionSearch, limit: int, offset: int) -> tuple[int, list[dict[str, Any]]]:
    """How many providers match, and one page of them by credit code."""
    total = conn.execute(sa.select(sa.func.count()).select_from(institution).where(search.where())).scalar_one()
    page = conn.execute(sa.select(institution).where(search.where()).order_by(institution.c.credit_code)
                        .limit(limit).offset(offset)).mappings()
    return total, [plain(row) for row in page]


def mapped_institutions(conn: sa.Connection, search: InstitutionSearch) -> list[dict[str, Any]]:
    """Every matching provider that has coordinates, by credit code."""
    located = search.where() & institution.c.longitude.is_not(None) & institution.c.latitude.is_not(None)
    query = sa.select(institution).where(located).order_by(institution.c.credit_code)
    return [plain(row) for row in conn.execute(query).mappings()]
