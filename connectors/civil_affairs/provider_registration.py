"""The provider-registration record: a provider's entry in one of the three legal-entity registers."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from carehub import codes
from connectors.canonical import DivisionCode, InstitutionRecord, PastDate, code


class ProviderRegistration(InstitutionRecord):
    topic: ClassVar[str] = "src.civil_affairs.provider_registration.v1"
    schema_path: ClassVar[str] = "civil_affairs/provider_registration.avsc"
    ordered_dates: ClassVar[tuple[tuple[str, str], ...]] = (("registered_date", "cancelled_date"),)

    name: Annotated[str, Field(min_length=1, max_length=200)]
    registering_system: Annotated[str, code(codes.REGISTERING_SYSTEMS, "registering_system.code")]
    status: Annotated[str, code(codes.REGISTRATION_STATUSES, "registration_status.code")]
    registration_division: DivisionCode | None = None
    registered_date: PastDate
    cancelled_date: PastDate | None = None
