"""The family-doctor contract record: which team and doctor serve a resident, when, under which package."""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar

from pydantic import Field

from connectors.canonical import CreditCode, HintedPersonRecord, PastDate


class FamilyDoctorContract(HintedPersonRecord):
    topic: ClassVar[str] = "src.health.family_doctor_contract.v1"
    schema_path: ClassVar[str] = "health/family_doctor_contract.avsc"
    life_dates: ClassVar[tuple[str, ...]] = ("contract_start",)
    ordered_dates: ClassVar[tuple[tuple[str, str], ...]] = (("contract_start", "contract_end"),)

    team_code: Annotated[str, Field(min_length=1, max_length=64)]
    team_name: Annotated[str | None, Field(max_length=200)] = None
    doctor_name: Annotated[str, Field(min_length=1, max_length=64)]
    institution_credit_code: CreditCode | None = None
    contract_start: PastDate
    contract_end: date | None = None
    service_package: Annotated[str | None, Field(max_length=200)] = None
