"""The care-service enrolment record: a resident admitted to an item of the national basic service list."""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar

from carehub import codes
from connectors.canonical import DivisionCode, HintedPersonRecord, PastDate, code


class Enrolment(HintedPersonRecord):
    topic: ClassVar[str] = "src.civil_affairs.enrolment.v1"
    schema_path: ClassVar[str] = "civil_affairs/enrolment.avsc"
    life_dates: ClassVar[tuple[str, ...]] = ("enrol_date",)
    ordered_dates: ClassVar[tuple[tuple[str, str], ...]] = (("enrol_date", "end_date"),)

    service_item: Annotated[str, code(codes.SERVICE_LIST_ITEMS, "service_item.code")]
    target_group: Annotated[str, code(codes.TARGET_GROUPS, "target_group.code")]
    enrol_division: DivisionCode
    enrol_date: PastDate
    end_date: date | None = None
