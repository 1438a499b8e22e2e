"""The institution record: a care provider's base information, capacity, grade and services."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field, NonNegativeInt

from carehub import codes
from connectors.canonical import Codes, DivisionCode, InstitutionRecord, code, measured


class Institution(InstitutionRecord):
    topic: ClassVar[str] = "src.civil_affairs.institution.v1"
    schema_path: ClassVar[str] = "civil_affairs/institution.avsc"

    name: Annotated[str, Field(min_length=1, max_length=200)]
    institution_type: Annotated[str, code(codes.INSTITUTION_TYPES, "institution_type.code")]
    division: DivisionCode
    address: Annotated[str | None, Field(max_length=500)] = None
    longitude: Annotated[float, measured("longitude")] | None = None
    latitude: Annotated[float, measured("latitude")] | None = None
    beds: NonNegativeInt | None = None
    residents: NonNegativeInt | None = None
    grade: Annotated[int, code(codes.INSTITUTION_GRADES, "institution_grade.code")] | None = None
    services_offered: Annotated[list[Annotated[str, code(codes.INSTITUTION_SERVICES, "institution_service.code")]], Codes] = []
