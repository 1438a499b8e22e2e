"""The registry person record: identity, household registration and address of one resident."""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from carehub import codes
from connectors.canonical import DivisionCode, PersonRecord, code


class Person(PersonRecord):
    topic: ClassVar[str] = "src.registry.person.v1"
    schema_path: ClassVar[str] = "registry/person.avsc"

    name: Annotated[str, Field(min_length=1, max_length=64)]
    sex: Annotated[str, code(codes.SEX, "sex.code")]
    birth_date: date
    household_division: DivisionCode | None = None
    address: Annotated[str | None, Field(max_length=500)] = None

    @model_validator(mode="after")
    def _birth_date_matches_id(self) -> Person:
        if self.birth_date_in_id != self.birth_date:
            raise PydanticCustomError(
                "birth_date.matches_id", "birth_date differs from the birth date in resident_id"
            )
        return self
