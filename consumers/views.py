"""What the pure reconciliation core sees: source records as decoded, grouped into one view per
entity (a person, a caregiver, an institution). The engine builds views from the database; the
dataset builders and the risk rules are pure functions of them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

#: Source topics by short name, without any deployment prefix.
PERSON = "src.registry.person.v1"
DEATH = "src.registry.death.v1"
MOVE = "src.registry.household_move.v1"
CHECKUP = "src.health.checkup.v1"
CONTRACT = "src.health.family_doctor_contract.v1"
ENROLMENT = "src.civil_affairs.enrolment.v1"
ASSESSMENT = "src.civil_affairs.capability_assessment.v1"
SUBSIDY = "src.civil_affairs.subsidy_payment.v1"
SERVICE = "src.civil_affairs.service_record.v1"
INSTITUTION = "src.civil_affairs.institution.v1"
INSPECTION = "src.civil_affairs.inspection.v1"
PRACTITIONER = "src.civil_affairs.practitioner.v1"
REGISTRATION = "src.civil_affairs.provider_registration.v1"


@dataclass(frozen=True, order=True)
class SourceRef:
    """Names one source record: where a dataset value or an alert's evidence came from."""

    topic: str
    source_system: str
    source_record_id: str


@dataclass(frozen=True)
class SourceRec:
    """One source record as the connector published it (the decoded Avro value: dates as
    `date`, timestamps as aware `datetime`, money as `Decimal`)."""

    ref: SourceRef
    event_time: datetime
    data: Mapping[str, Any]


@dataclass(frozen=True)
class EntityView:
    """Every current source record of one entity, by topic, each list sorted by (event time, ref).

    kind is "person" (keyed by person key: the elder, their health record and care services),
    "caregiver" (keyed by the practitioner's person key: practitioner records and the service
    records naming them as caregiver) or "institution" (keyed by credit code: institution,
    registration, inspection and the service records naming it as provider)."""

    kind: str
    key: str
    records: Mapping[str, tuple[SourceRec, ...]] = field(default_factory=dict)

    def of(self, topic: str) -> tuple[SourceRec, ...]:
        return self.records.get(topic, ())

    def latest(self, topic: str) -> SourceRec | None:
        found = self.of(topic)
        return found[-1] if found else None


@dataclass(frozen=True)
class PersonFacts:
    """What the elder dataset decided about a person, for rules that need it."""

    birth_date: date | None
    death_date: date | None
    death_ref: SourceRef | None
