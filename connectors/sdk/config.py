"""A connector's YAML: source, record type, column mapping, code-table values, batching and worker processes."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from carehub.errors import ConfigError
from connectors.records import RECORD_TYPES
from connectors.sdk.sources.csv_file import CsvSource
from connectors.sdk.record import CanonicalRecord
from connectors.sdk.sources.base import TimeZoneName
from connectors.sdk.sources.file_drop import FileDropSource
from connectors.sdk.sources.http import HttpSource
from connectors.sdk.sources.sql import SqlSource

#: Every source adapter's settings, told apart by `kind`.
SourceConfig = Annotated[CsvSource | SqlSource | FileDropSource | HttpSource, Field(discriminator="kind")]


class ConnectorConfig(BaseModel):
    """What a connector does; the framework owns cursors, retries and checkpoints."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{1,100}$")]
    record: str
    source_system: str
    source: SourceConfig
    mapping: dict[str, str] = Field(description="canonical field: source column")
    values: dict[str, dict[str, str]] = Field(default_factory=dict, description="code tables")
    batch_size: Annotated[int, Field(gt=0, le=100_000)] = 2000
    poll_interval_s: Annotated[float, Field(gt=0)] = 10.0
    topic: str | None = None
    workers: Annotated[int, Field(ge=0, le=16)] | Literal["auto"] = Field(
        "auto",
        description="processes that map, validate, protect and encode beside the connector's own once an "
        "increment passes 10,000 rows; 0 keeps every stage in the connector's process; auto: one per core, at most 2 "
        "(none on a single core)",
    )
    timezone: TimeZoneName = Field(
        "Asia/Shanghai", description="the zone of source times written without one (CSV, XLSX, JSON)"
    )

    @field_validator("record")
    @classmethod
    def _known_record(cls, record: str) -> str:
        if record not in RECORD_TYPES:
            raise ValueError(f"unknown record type {record!r}; known: {', '.join(sorted(RECORD_TYPES))}")
        return record

    @model_validator(mode="after")
    def _mapping_fits_record(self) -> ConnectorConfig:
        fields = set(self.record_type.model_fields)
        unknown = sorted(set(self.mapping) - fields)
        if unknown:
            raise ValueError(f"mapping names fields {unknown} that {self.record} does not have; it has {sorted(fields)}")
        required = sorted(n for n, f in self.record_type.model_fields.items() if f.is_required())
        missing = [n for n in required if n not in self.mapping]
        if missing:
            raise ValueError(f"mapping lacks required fields {missing} of {self.record}")
        return self

    @property
    def record_type(self) -> type[CanonicalRecord]:
        return RECORD_TYPES[self.record]

    @property
    def target_topic(self) -> str:
        return self.topic or self.record_type.topic


def load_config(path: Path, environ: Mapping[str, str] | None = None) -> ConnectorConfig:
    """Read and check a connector YAML; relative source paths are relative to the YAML file, and
    secrets the YAML names by environment variable are read here, once, from `environ`."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"connector file {path} does not exist") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    try:
        config = ConnectorConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'file'}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{path}: {problems}") from None
    try:
        source = config.source.resolved(path.parent.resolve(), os.environ if environ is None else environ)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return config.model_copy(update={"source": source})
