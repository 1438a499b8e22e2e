"""The institution-inspection record: a supervisory visit's quality score, safety findings and rectification."""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar

from pydantic import Field

from carehub import codes
from connectors.canonical import InstitutionRecord, JsonList, PastDate, score


class Inspection(InstitutionRecord):
    topic: ClassVar[str] = "src.civil_affairs.inspection.v1"
    schema_path: ClassVar[str] = "civil_affairs/inspection.avsc"
    ordered_dates: ClassVar[tuple[tuple[str, str], ...]] = (
        ("inspection_date", "rectification_due"),
        ("inspection_date", "rectification_done"),
    )

    inspection_date: PastDate
    inspector_org: Annotated[str | None, Field(max_length=200)] = None
    quality_score: Annotated[int, score(codes.INSPECTION_SCORE_MAX)] | None = None
    safety_findings: Annotated[list[Annotated[str, Field(min_length=1, max_length=500)]], JsonList] = []
    rectification_due: date | None = None
    rectification_done: PastDate | None = None
