"""养老从业人员基本数据集: each caregiver's skill level, work history and occupational credit."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from consumers.datasets.base import Dataset, all_records, dataset_table, finish, to_json
from consumers.views import PRACTITIONER, SERVICE, EntityView

#: Fields copied from the caregiver's latest practitioner record.
FIELDS = ("resident_id_masked", "name", "sex", "skill_level", "certificate_no")

practitioner = dataset_table(
    "practitioner",
    sa.Column("person_key", sa.String(64), primary_key=True),
    sa.Column("resident_id_masked", sa.String(32), nullable=False),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("sex", sa.String(1), nullable=False),
    sa.Column("skill_level", sa.String(8)),
    sa.Column("certificate_no", sa.String(64)),
    sa.Column("employments", sa.Text, nullable=False),  # JSON: [{employer, from, to}] by start
    sa.Column("credit_events", sa.Text, nullable=False),  # JSON: [{event_date, event_type, description}]
    sa.Column("services", sa.Integer, nullable=False),
)


def build_practitioner(view: EntityView) -> dict[str, Any] | None:
    latest = view.latest(PRACTITIONER)
    if latest is None:
        return None
    employments = sorted(
        {(r.data.get("employer_credit_code"), r.data.get("employment_start"), r.data.get("employment_end"))
         for r in view.of(PRACTITIONER) if r.data.get("employer_credit_code")},
        key=lambda e: (e[1] is not None, e[1], e[0]),
    )
    events = sorted({(e["event_date"], e["event_type"], e.get("description")) for r in view.of(PRACTITIONER)
                     for e in r.data.get("credit_events") or []}, key=lambda e: (e[0], e[1], e[2] or ""))
    row = {
        "person_key": view.key, **{name: latest.data.get(name) for name in FIELDS},
        "employments": to_json([{"employer": c, "from": s, "to": e} for c, s, e in employments]),
        "credit_events": to_json([{"event_date": d, "event_type": t, "description": text} for d, t, text in events]),
        "services": len(view.of(SERVICE)),
    }
    return finish(row, {name: latest for name in FIELDS}, all_records(view, (PRACTITIONER, SERVICE)))


PRACTITIONER_DATASET = Dataset("practitioner", practitioner, "caregiver", build_practitioner)
