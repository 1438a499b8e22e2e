"""The registry person record: identity, household registration and address of one resident."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BeforeValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from carehub.identifiers import resident_id
from carehub.pii import Protector
from connectors.sdk.record import CanonicalRecord, Envelope

#: GB/T 2261.1 sex codes.
SEX_CODES = {"0": "unknown", "1": "male", "2": "female", "9": "unspecified"}


def _valid_resident_id(raw: str) -> str:
    try:
        return resident_id.parse(raw).value
    except resident_id.ResidentIdError as exc:
        raise PydanticCustomError(exc.rule, str(exc)) from None


def _sex_code(value: str) -> str:
    if value not in SEX_CODES:
        raise PydanticCustomError("sex.code", "not a GB/T 2261.1 sex code (0, 1, 2 or 9)")
    return value


def _division_code(value: str | None) -> str | None:
    if value is not None and not re.fullmatch(r"\d{6}", value):
        raise PydanticCustomError("division.format", "must be a 6-digit GB/T 2260 division code")
    return value


def _blank_is_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


ResidentIdText = Annotated[str, AfterValidator(_valid_resident_id)]
Optional = BeforeValidator(_blank_is_none)


class Person(CanonicalRecord):
    topic: ClassVar[str] = "src.registry.person.v1"
    schema_path: ClassVar[str] = "registry/person.avsc"
    key_field: ClassVar[str] = "person_key"

    resident_id: ResidentIdText
    name: Annotated[str, Field(min_length=1, max_length=64)]
    sex: Annotated[str, AfterValidator(_sex_code)]
    birth_date: date
    household_division: Annotated[str | None, Optional, AfterValidator(_division_code)] = None
    address: Annotated[str | None, Optional, Field(max_length=500)] = None

    @model_validator(mode="after")
    def _birth_date_matches_id(self) -> Person:
        if resident_id.ResidentId(self.resident_id).birth_date != self.birth_date:
            raise PydanticCustomError(
                "birth_date.matches_id", "birth_date differs from the birth date in resident_id"
            )
        return self

    def to_avro(self, protector: Protector, envelope: Envelope) -> dict[str, Any]:
        return {
            **self.envelope_fields(envelope),
            "person_key": protector.person_key(self.resident_id),
            "resident_id_encrypted": protector.encrypt(self.resident_id),
            "resident_id_masked": protector.mask(self.resident_id),
            "name": self.name,
            "sex": self.sex,
            "birth_date": self.birth_date,
            "household_division": self.household_division,
            "address": self.address,
        }
