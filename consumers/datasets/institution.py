"""基本养老服务机构组织信息基本数据集: each provider's base information, by its credit code."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from consumers.datasets.base import Dataset, dataset_table, finish, to_json
from consumers.views import INSTITUTION, EntityView

#: Fields copied from the provider's latest institution record.
FIELDS = ("name", "institution_type", "division", "address", "longitude", "latitude", "beds", "residents", "grade")

institution = dataset_table(
    "institution",
    sa.Column("credit_code", sa.String(18), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("institution_type", sa.String(32), nullable=False),
    sa.Column("division", sa.String(6), nullable=False, index=True),
    sa.Column("address", sa.String(500)),
    sa.Column("longitude", sa.Float),
    sa.Column("latitude", sa.Float),
    sa.Column("beds", sa.Integer),
    sa.Column("residents", sa.Integer),
    sa.Column("grade", sa.Integer),
    sa.Column("services_offered", sa.Text, nullable=False),  # JSON: sorted service codes
)


def build_institution(view: EntityView) -> dict[str, Any] | None:
    latest = view.latest(INSTITUTION)
    if latest is None:
        return None
    row = {"credit_code": view.key, **{name: latest.data.get(name) for name in FIELDS},
           "services_offered": to_json(sorted(latest.data.get("services_offered") or []))}
    for name in ("longitude", "latitude"):
        row[name] = float(row[name]) if row[name] is not None else None
    return finish(row, {name: latest for name in (*FIELDS, "services_offered")}, view.of(INSTITUTION))


INSTITUTION_DATASET = Dataset("institution", institution, "institution", build_institution)
