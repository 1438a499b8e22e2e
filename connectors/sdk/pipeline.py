"""The stages one source row passes: map to canonical fields, validate, protect PII, encode.

Each stage is a pure function of an immutable row; a row that fails raises `Rejected`, which
names the stage, field and rule, and never carries a plaintext resident ID."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from carehub.identifiers.resident_id import mask
from carehub.pii import Protector
from connectors.sdk.config import ConnectorConfig
from connectors.sdk.sources import SourceRow
from connectors.sdk.record import CanonicalRecord, Envelope, Problem

#: Anything that looks like a resident ID (15 or 18 characters) is masked in rejected rows.
_ID_LIKE = re.compile(r"(?<![0-9])[0-9０-９]{14}[0-9０-９]([0-9０-９]{2}[0-9０-９Xx])?(?![0-9])")


class Rejected(Exception):
    """A row the pipeline cannot publish; it goes to the connector's dead-letter queue."""

    def __init__(self, stage: str, problems: list[Problem]):
        self.stage, self.problems = stage, problems
        super().__init__("; ".join(f"{p.field}: {p.message} [{p.rule}]" for p in problems))


@dataclass(frozen=True, slots=True)
class Publishable:
    key: bytes
    record: dict[str, Any]


def row_mapper(config: ConnectorConfig) -> Callable[[SourceRow], dict[str, Any]]:
    """`map_row` for one configuration, with its field, column and code table looked up once."""
    plan = tuple((field, column, config.values.get(field)) for field, column in config.mapping.items())

    def map_one(row: SourceRow) -> dict[str, Any]:
        values = row.values
        mapped: dict[str, Any] = {}
        for field, column, table in plan:
            value = values.get(column)
            if value is not None:
                mapped[field] = table.get(value.strip(), value) if table else value
        return mapped

    return map_one


def map_row(row: SourceRow, config: ConnectorConfig) -> dict[str, Any]:
    """Source columns → canonical fields, with code-table values translated."""
    return row_mapper(config)(row)


def validate(mapped: dict[str, Any], record_type: type[CanonicalRecord]) -> CanonicalRecord:
    try:
        return record_type.model_validate(mapped)
    except ValidationError as exc:
        raise Rejected("validate", [_problem(e) for e in exc.errors(include_input=False, include_url=False)]) from None


def _problem(error: dict[str, Any]) -> Problem:
    field = ".".join(str(part) for part in error["loc"]) or error["type"].split(".")[0]
    return Problem(field, error["type"], error["msg"])


def protect(record: CanonicalRecord, protector: Protector, envelope: Envelope) -> Publishable:
    avro = record.to_avro(protector, envelope)
    return Publishable(avro[record.key_field].encode(), avro)


def process(row: SourceRow, config: ConnectorConfig, protector: Protector, envelope: Envelope) -> Publishable:
    """One row through every stage up to (not including) encoding."""
    return protect(validate(map_row(row, config), config.record_type), protector, envelope)


def masked_row(row: SourceRow) -> dict[str, str | None]:
    """The row as it may be shown and stored in a dead-letter queue: ID-like values masked."""
    return {
        column: _ID_LIKE.sub(lambda m: mask(m.group(0)), value) if isinstance(value, str) else value
        for column, value in row.values.items()
    }
