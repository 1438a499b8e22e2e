"""健康档案基本数据集: each elder's health-management record: latest annual check and family doctor."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from consumers.datasets.base import Dataset, all_records, dataset_table, finish, latest_by
from consumers.views import CHECKUP, CONTRACT, EntityView

#: Fields of the latest check-up the dataset keeps, as named in the check-up record.
CHECKUP_FIELDS = (
    "health_record_no", "self_rated_health", "bmi", "bp_left_systolic", "bp_left_diastolic", "fasting_glucose",
    "cognition_screening", "mood_screening", "self_care_total", "self_care_band",
)

health_record = dataset_table(
    "health_record",
    sa.Column("person_key", sa.String(64), primary_key=True),
    sa.Column("checkups", sa.Integer, nullable=False),
    sa.Column("last_check_date", sa.Date),
    sa.Column("health_record_no", sa.String(32)),
    sa.Column("self_rated_health", sa.Integer),
    sa.Column("bmi", sa.Float),
    sa.Column("bp_left_systolic", sa.Integer),
    sa.Column("bp_left_diastolic", sa.Integer),
    sa.Column("fasting_glucose", sa.Float),
    sa.Column("cognition_screening", sa.String(16)),
    sa.Column("mood_screening", sa.String(16)),
    sa.Column("self_care_total", sa.Integer),
    sa.Column("self_care_band", sa.String(16)),
    sa.Column("family_doctor_team", sa.String(128)),
    sa.Column("family_doctor_institution", sa.String(18)),
    sa.Column("contract_start", sa.Date),
    sa.Column("contract_end", sa.Date),
)


def build_health_record(view: EntityView) -> dict[str, Any] | None:
    records = all_records(view, (CHECKUP, CONTRACT))
    if not records:
        return None
    check = latest_by(view.of(CHECKUP), "check_date")
    contract = latest_by(view.of(CONTRACT), "contract_start")
    row: dict[str, Any] = {
        "person_key": view.key, "checkups": len(view.of(CHECKUP)),
        "last_check_date": check.data["check_date"] if check else None,
        **{name: check.data.get(name) if check else None for name in CHECKUP_FIELDS},
        "family_doctor_team": contract.data.get("team_name") if contract else None,
        "family_doctor_institution": contract.data.get("institution_credit_code") if contract else None,
        "contract_start": contract.data.get("contract_start") if contract else None,
        "contract_end": contract.data.get("contract_end") if contract else None,
    }
    provenance = {name: check for name in ("last_check_date", *CHECKUP_FIELDS)}
    provenance.update({name: contract for name in ("family_doctor_team", "family_doctor_institution", "contract_start", "contract_end")})
    return finish(row, provenance, records)


HEALTH_RECORD = Dataset("health_record", health_record, "person", build_health_record)
