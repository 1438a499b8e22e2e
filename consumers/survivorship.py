"""Survivorship: which source's value a dataset field keeps, by source precedence then event time.

The precedence is configuration: `PRECEDENCE` names, per field, the source families in the order
they are trusted (the registry owns identity, household registration and death; health owns
health fields; civil affairs owns enrolments, subsidies and services). Within a family the value
with the latest event time wins (ties broken by source reference), never the one that arrived
last. Every surviving value carries its provenance."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from consumers import views as v
from consumers.views import EntityView, SourceRec

REGISTRY, HEALTH, CIVIL_AFFAIRS = "registry", "health", "civil_affairs"

#: field -> source families, most trusted first. A family not listed never supplies the field.
PRECEDENCE: dict[str, tuple[str, ...]] = {
    "resident_id": (REGISTRY, HEALTH, CIVIL_AFFAIRS),
    "name": (REGISTRY, HEALTH, CIVIL_AFFAIRS),
    "sex": (REGISTRY, HEALTH, CIVIL_AFFAIRS),
    "birth_date": (REGISTRY, HEALTH, CIVIL_AFFAIRS),
    "household_division": (REGISTRY, HEALTH, CIVIL_AFFAIRS),
    "address": (REGISTRY,),
    "death_date": (REGISTRY,),
    "death_division": (REGISTRY,),
}

_PERSON_TOPICS = (v.CHECKUP, v.CONTRACT, v.ENROLMENT, v.ASSESSMENT, v.SUBSIDY, v.SERVICE)
#: field -> (topic, record field) pairs that may supply it; identity hints of other sources last.
FIELD_SOURCES: dict[str, tuple[tuple[str, str], ...]] = {
    "resident_id": ((v.PERSON, "resident_id_masked"),) + tuple((t, "resident_id_masked") for t in (v.DEATH, v.MOVE, *_PERSON_TOPICS)),
    "name": ((v.PERSON, "name"),) + tuple((t, "person_name") for t in _PERSON_TOPICS),
    "sex": ((v.PERSON, "sex"),) + tuple((t, "person_sex") for t in _PERSON_TOPICS),
    "birth_date": ((v.PERSON, "birth_date"),) + tuple((t, "person_birth_date") for t in _PERSON_TOPICS),
    "household_division": ((v.PERSON, "household_division"), (v.MOVE, "to_division"))
    + tuple((t, "person_division") for t in _PERSON_TOPICS),
    "address": ((v.PERSON, "address"),),
    "death_date": ((v.DEATH, "death_date"),),
    "death_division": ((v.DEATH, "death_division"),),
}


def family(topic: str) -> str:
    """The source family of a topic: src.<family>.<entity>.v<major>."""
    return topic.split(".")[1]


@dataclass(frozen=True)
class Survivor:
    value: Any
    rec: SourceRec

    def provenance(self) -> dict[str, str]:
        return {"source_system": self.rec.ref.source_system, "source_record_id": self.rec.ref.source_record_id,
                "event_time": self.rec.event_time.isoformat()}


def candidates(view: EntityView, field: str, sources: Mapping[str, tuple[tuple[str, str], ...]] = FIELD_SOURCES) -> list[Survivor]:
    """Every non-null value the view's records offer for `field`."""
    return [
        Survivor(rec.data[name], rec)
        for topic, name in sources[field]
        for rec in view.of(topic)
        if rec.data.get(name) is not None
    ]


def survive(field: str, offered: Iterable[Survivor], precedence: Mapping[str, tuple[str, ...]] = PRECEDENCE) -> Survivor | None:
    """The value the dataset keeps: from the most trusted family that offers one, the latest."""
    order = precedence[field]
    ranked = [s for s in offered if family(s.rec.ref.topic) in order]
    if not ranked:
        return None
    return max(ranked, key=lambda s: (-order.index(family(s.rec.ref.topic)), s.rec.event_time, s.rec.ref))
