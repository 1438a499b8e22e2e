"""The registry death record: when and where a resident died, with the certificate number."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from connectors.canonical import DivisionCode, PastDate, PersonRecord


class DeathRegistration(PersonRecord):
    topic: ClassVar[str] = "src.registry.death.v1"
    schema_path: ClassVar[str] = "registry/death.avsc"
    life_dates: ClassVar[tuple[str, ...]] = ("death_date",)

    death_date: PastDate
    death_place: Annotated[str | None, Field(max_length=500)] = None
    death_division: DivisionCode | None = None
    certificate_no: Annotated[str | None, Field(max_length=64)] = None
