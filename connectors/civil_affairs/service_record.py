"""The service record: one care service delivered to a resident by a provider's caregiver."""

from __future__ import annotations

from datetime import time
from typing import Annotated, Any, ClassVar

from carehub import codes
from carehub.pii import Protector
from connectors.canonical import CreditCode, HintedPersonRecord, PastDate, ResidentIdText, code, measured
from connectors.sdk.record import Envelope


class ServiceRecord(HintedPersonRecord):
    topic: ClassVar[str] = "src.civil_affairs.service_record.v1"
    schema_path: ClassVar[str] = "civil_affairs/service_record.avsc"
    life_dates: ClassVar[tuple[str, ...]] = ("service_date",)
    not_in_avro: ClassVar[frozenset[str]] = HintedPersonRecord.not_in_avro | {"caregiver_resident_id"}

    service_item: Annotated[str, code(codes.SERVICE_CATEGORIES, "service_category.code")]
    provider_credit_code: CreditCode
    caregiver_resident_id: ResidentIdText | None = None
    service_date: PastDate
    start_time: time | None = None
    duration_minutes: Annotated[int, measured("duration_minutes")]

    def to_avro(self, protector: Protector, envelope: Envelope) -> dict[str, Any]:
        caregiver = self.caregiver_resident_id
        return {
            **super().to_avro(protector, envelope),
            "caregiver_person_key": protector.person_key(caregiver) if caregiver else None,
        }
