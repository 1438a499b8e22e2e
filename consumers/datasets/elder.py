"""老年人基本信息数据集: identity, household registration and death of each elder, by survivorship."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from consumers.datasets.base import Dataset, dataset_table, finish
from consumers.survivorship import PRECEDENCE, Survivor, candidates, survive
from consumers.views import PERSON, EntityView

#: Identity fields whose disagreement between sources is recorded as a conflict.
CONFLICT_FIELDS = ("name", "sex", "birth_date")
#: registered: the population registry knows the person; unregistered: only other sources name
#: them by a valid ID; provisional: records without a valid ID that matched no registered elder.
STATUSES = ("registered", "unregistered", "provisional")

elder = dataset_table(
    "elder",
    sa.Column("person_key", sa.String(64), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("resident_id_encrypted", sa.LargeBinary),
    sa.Column("resident_id_masked", sa.String(32)),
    sa.Column("name", sa.String(64)),
    sa.Column("sex", sa.String(1)),
    sa.Column("birth_date", sa.Date),
    sa.Column("household_division", sa.String(6), index=True),
    sa.Column("address", sa.String(500)),
    sa.Column("alive", sa.Boolean, nullable=False),
    sa.Column("death_date", sa.Date),
    sa.Column("death_division", sa.String(6)),
)


def _survivors(view: EntityView) -> dict[str, Survivor | None]:
    return {name: survive(name, candidates(view, name)) for name in PRECEDENCE}


def build_elder(view: EntityView) -> dict[str, Any] | None:
    records = [rec for recs in view.records.values() for rec in recs]
    if not records:
        return None
    won = _survivors(view)
    identified = any(rec.data.get("person_key") == view.key for rec in records)
    value = {name: (s.value if s else None) for name, s in won.items()}
    rid = won["resident_id"]
    row = {
        "person_key": view.key,
        "status": "registered" if view.of(PERSON) else "unregistered" if identified else "provisional",
        "resident_id_encrypted": rid.rec.data.get("resident_id_encrypted") if rid else None,
        "resident_id_masked": value["resident_id"],
        "name": value["name"], "sex": value["sex"], "birth_date": value["birth_date"],
        "household_division": value["household_division"], "address": value["address"],
        "alive": value["death_date"] is None, "death_date": value["death_date"], "death_division": value["death_division"],
    }
    return finish(row, {**won, "resident_id_encrypted": rid, "status": None, "alive": won["death_date"]}, records)


def identity_conflicts(view: EntityView) -> list[dict[str, Any]]:
    """Identity fields on which the elder's sources disagree: the surviving value, and every
    value offered with the sources that offered it."""
    conflicts = []
    for name in CONFLICT_FIELDS:
        offered = candidates(view, name)
        if len({s.value for s in offered}) < 2:
            continue
        chosen = survive(name, offered)
        by_value: dict[str, list] = {}
        for s in offered:
            by_value.setdefault(str(s.value), []).append(s.rec.ref)
        conflicts.append({"person_key": view.key, "field": name, "chosen": str(chosen.value) if chosen else None,
                          "values": by_value})
    return conflicts


ELDER = Dataset("elder", elder, "person", build_elder)
