"""The practitioner record: a caregiver's identity, skill level, employment and occupational credit."""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar

from pydantic import Field

from carehub import codes
from connectors.canonical import CreditCode, JsonList, Part, PastDate, PersonRecord, code


class CreditEvent(Part):
    event_date: PastDate
    event_type: Annotated[str, code(codes.CREDIT_EVENT_TYPES, "credit_event.code")]
    description: Annotated[str | None, Field(max_length=500)] = None


class Practitioner(PersonRecord):
    topic: ClassVar[str] = "src.civil_affairs.practitioner.v1"
    schema_path: ClassVar[str] = "civil_affairs/practitioner.avsc"
    life_dates: ClassVar[tuple[str, ...]] = ("employment_start",)
    ordered_dates: ClassVar[tuple[tuple[str, str], ...]] = (("employment_start", "employment_end"),)

    name: Annotated[str, Field(min_length=1, max_length=64)]
    sex: Annotated[str, code(codes.SEX, "sex.code")]
    skill_level: Annotated[str, code(codes.SKILL_LEVELS, "skill_level.code")] | None = None
    certificate_no: Annotated[str | None, Field(max_length=64)] = None
    employer_credit_code: CreditCode | None = None
    employment_start: PastDate | None = None
    employment_end: date | None = None
    # A CSV cell may carry the events as a JSON array of {event_date, event_type, description}.
    credit_events: Annotated[list[CreditEvent], JsonList] = []
