"""The registry household-move record: a resident's household registration moved between divisions."""

from __future__ import annotations

from typing import ClassVar

from connectors.canonical import DivisionCode, PastDate, PersonRecord


class HouseholdMove(PersonRecord):
    topic: ClassVar[str] = "src.registry.household_move.v1"
    schema_path: ClassVar[str] = "registry/household_move.avsc"
    life_dates: ClassVar[tuple[str, ...]] = ("move_date",)

    from_division: DivisionCode | None = None
    to_division: DivisionCode
    move_date: PastDate
