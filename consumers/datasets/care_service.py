"""养老服务基本数据集: each elder's enrolments, latest capability assessment, subsidies and services."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from consumers.datasets.base import Dataset, all_records, dataset_table, finish, latest_by, to_json
from consumers.views import ASSESSMENT, ENROLMENT, SERVICE, SUBSIDY, EntityView

care_service = dataset_table(
    "care_service",
    sa.Column("person_key", sa.String(64), primary_key=True),
    sa.Column("enrolments", sa.Text, nullable=False),  # JSON: [{service_item, target_group, division, from, to}]
    sa.Column("target_groups", sa.Text, nullable=False),  # JSON: sorted codes
    sa.Column("assessment_date", sa.Date),
    sa.Column("capability_level", sa.String(4)),
    sa.Column("capability_total", sa.Integer),
    sa.Column("subsidies_by_type", sa.Text, nullable=False),  # JSON: type -> {"amount": "yuan", "payments": n}
    sa.Column("subsidy_total", sa.Numeric(14, 2), nullable=False),
    sa.Column("last_payment_date", sa.Date),
    sa.Column("services", sa.Integer, nullable=False),
    sa.Column("service_minutes", sa.Integer, nullable=False),
    sa.Column("last_service_date", sa.Date),
    sa.Column("last_visit_date", sa.Date),  # latest visiting-care (探访关爱) service
)

#: The service category of a visiting-care (探访关爱) service record.
VISITING = "visiting"


def build_care_service(view: EntityView) -> dict[str, Any] | None:
    records = all_records(view, (ENROLMENT, ASSESSMENT, SUBSIDY, SERVICE))
    if not records:
        return None
    enrolments = sorted(
        ({"service_item": r.data["service_item"], "target_group": r.data["target_group"], "division": r.data["enrol_division"],
          "from": r.data["enrol_date"].isoformat(), "to": r.data["end_date"].isoformat() if r.data.get("end_date") else None}
         for r in view.of(ENROLMENT)),
        key=lambda e: (e["from"], e["service_item"], e["division"]),
    )
    assessment = latest_by(view.of(ASSESSMENT), "assessment_date")
    by_type: dict[str, list[Decimal]] = defaultdict(list)
    for r in view.of(SUBSIDY):
        by_type[r.data["subsidy_type"]].append(r.data["amount"])
    payment = latest_by(view.of(SUBSIDY), "period_start")
    service = latest_by(view.of(SERVICE), "service_date")
    visit = latest_by([r for r in view.of(SERVICE) if r.data["service_item"] == VISITING], "service_date")
    row = {
        "person_key": view.key,
        "enrolments": to_json(enrolments),
        "target_groups": to_json(sorted({e["target_group"] for e in enrolments})),
        "assessment_date": assessment.data["assessment_date"] if assessment else None,
        "capability_level": assessment.data["level"] if assessment else None,
        "capability_total": assessment.data.get("total_score") if assessment else None,
        "subsidies_by_type": to_json({t: {"amount": sum(a), "payments": len(a)} for t, a in sorted(by_type.items())}),
        "subsidy_total": sum((sum(a) for a in by_type.values()), Decimal("0.00")),
        "last_payment_date": payment.data["period_start"] if payment else None,
        "services": len(view.of(SERVICE)),
        "service_minutes": sum(r.data["duration_minutes"] for r in view.of(SERVICE)),
        "last_service_date": service.data["service_date"] if service else None,
        "last_visit_date": visit.data["service_date"] if visit else None,
    }
    provenance = {"assessment_date": assessment, "capability_level": assessment, "capability_total": assessment,
                  "last_payment_date": payment, "last_service_date": service, "last_visit_date": visit}
    return finish(row, provenance, records)


CARE_SERVICE = Dataset("care_service", care_service, "person", build_care_service)
