"""The query API's request and response bodies; dataset rows are typed from their tables' columns.

Every field of a row is optional: a response carries only the fields the caller's profile may read."""

from __future__ import annotations

from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, SecretStr, create_model

from carehub.query.profiles import READABLE, readable_fields
from consumers.export import JSON_COLUMNS

#: Columns holding JSON text, answered as JSON values.
JSON_FIELDS = JSON_COLUMNS | {"evidence"}


def _field_type(column: sa.Column) -> Any:
    return Any if column.name in JSON_FIELDS else column.type.python_type | None


def _row_model(dataset: str) -> type[BaseModel]:
    fields = {c.name: (_field_type(c), None) for c in READABLE[dataset].columns if c.name in readable_fields(dataset)}
    title = "".join(part.title() for part in dataset.split("_")) + "Row"
    return create_model(title, __doc__=f"A {dataset} row: only the fields the caller's profile may read are present.",
                        **fields)


#: The response model of each readable table, by dataset name.
ROW_MODELS: dict[str, type[BaseModel]] = {name: _row_model(name) for name in READABLE}
ElderRow = ROW_MODELS["elder"]
HealthRecordRow = ROW_MODELS["health_record"]
CareServiceRow = ROW_MODELS["care_service"]
InstitutionRow = ROW_MODELS["institution"]
RiskAlertRow = ROW_MODELS["risk_alert"]


class ElderView(BaseModel):
    """One elder across the datasets (一网通查). A section the profile may not read is absent; one it may
    read but that has no row for this elder is null (an empty list for alerts)."""

    person_key: str = Field(description="the elder's pseudonymous person key")
    elder: ElderRow  # type: ignore[valid-type]
    health_record: HealthRecordRow | None = None  # type: ignore[valid-type]
    care_service: CareServiceRow | None = None  # type: ignore[valid-type]
    alerts: list[RiskAlertRow] | None = Field(None, description="risk alerts whose subject is this elder")  # type: ignore[valid-type]


class LookupRequest(BaseModel):
    """A resident ID to find an elder by. The hub pseudonymises it and neither logs nor stores it."""

    model_config = ConfigDict(extra="forbid")

    resident_id: SecretStr = Field(min_length=15, max_length=32, description="居民身份证号, 18 or 15 characters",
                                   examples=["11010519491231002X"])


class InstitutionResults(BaseModel):
    """One page of providers matching a search, ordered by credit code."""

    total: int = Field(description="providers matching the search, on every page")
    institutions: list[InstitutionRow]  # type: ignore[valid-type]


class Point(BaseModel):
    type: Literal["Point"]
    coordinates: tuple[float, float] = Field(description="[longitude, latitude] as the source system reported them")


class InstitutionFeature(BaseModel):
    type: Literal["Feature"]
    id: str = Field(description="the provider's unified social credit code")
    geometry: Point
    properties: InstitutionRow  # type: ignore[valid-type]


class InstitutionMap(BaseModel):
    """The service map (养老服务电子地图): every matching provider with coordinates, as GeoJSON (RFC 7946)."""

    type: Literal["FeatureCollection"]
    features: list[InstitutionFeature]


class Problem(BaseModel):
    """Why a request was refused, and what to do."""

    detail: str
