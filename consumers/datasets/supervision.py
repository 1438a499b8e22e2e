"""养老服务主体登记和行政监管基本数据集: each provider's registration and inspections."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from consumers.datasets.base import Dataset, all_records, dataset_table, finish, latest_by
from consumers.views import INSPECTION, REGISTRATION, EntityView

supervision = dataset_table(
    "supervision",
    sa.Column("credit_code", sa.String(18), primary_key=True),
    sa.Column("registered_name", sa.String(200)),
    sa.Column("registering_system", sa.String(32)),
    sa.Column("registration_status", sa.String(16)),
    sa.Column("registration_division", sa.String(6)),
    sa.Column("registered_date", sa.Date),
    sa.Column("cancelled_date", sa.Date),
    sa.Column("inspections", sa.Integer, nullable=False),
    sa.Column("last_inspection_date", sa.Date),
    sa.Column("last_quality_score", sa.Integer),
    sa.Column("open_rectifications", sa.Integer, nullable=False),
)


def build_supervision(view: EntityView) -> dict[str, Any] | None:
    records = all_records(view, (REGISTRATION, INSPECTION))
    if not records:
        return None
    registration = latest_by(view.of(REGISTRATION), "registered_date")
    inspection = latest_by(view.of(INSPECTION), "inspection_date")
    reg = registration.data if registration else {}
    row = {
        "credit_code": view.key, "registered_name": reg.get("name"), "registering_system": reg.get("registering_system"),
        "registration_status": reg.get("status"), "registration_division": reg.get("registration_division"),
        "registered_date": reg.get("registered_date"), "cancelled_date": reg.get("cancelled_date"),
        "inspections": len(view.of(INSPECTION)),
        "last_inspection_date": inspection.data["inspection_date"] if inspection else None,
        "last_quality_score": inspection.data.get("quality_score") if inspection else None,
        "open_rectifications": sum(1 for r in view.of(INSPECTION)
                                   if r.data.get("rectification_due") and not r.data.get("rectification_done")),
    }
    provenance = {name: registration for name in ("registered_name", "registering_system", "registration_status",
                                                  "registration_division", "registered_date", "cancelled_date")}
    provenance.update({"last_inspection_date": inspection, "last_quality_score": inspection})
    return finish(row, provenance, records)


SUPERVISION = Dataset("supervision", supervision, "institution", build_supervision)
