"""The stages one source row passes: map to canonical fields, validate, protect PII, encode.

Each stage is a pure function of an immutable row; a row that fails raises `Rejected`, which
names the stage, field and rule, and never carries a plaintext resident ID. `Stages` runs every
stage over a whole batch, in whichever process its picklable `StagePlan` is sent to; this module
imports no more than those stages need, so a worker process starts in a fraction of a second."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from carehub.avro import framed_encoder
from carehub.identifiers.resident_id import mask
from carehub.pii import Protector
from connectors.sdk.sources import SourceRow
from connectors.sdk.record import CanonicalRecord, Envelope, Problem

if TYPE_CHECKING:
    from connectors.sdk.config import ConnectorConfig

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


def values_mapper(
    mapping: dict[str, str], values: dict[str, dict[str, str]]
) -> Callable[[dict[str, str | None]], dict[str, Any]]:
    """`map_row` of a row's values under a YAML's `mapping` and `values`, with each field's column
    and code table looked up once."""
    plan = tuple((field, column, values.get(field)) for field, column in mapping.items())

    def map_values(values: dict[str, str | None]) -> dict[str, Any]:
        mapped: dict[str, Any] = {}
        for field, column, table in plan:
            value = values.get(column)
            if value is not None:
                mapped[field] = table.get(value.strip(), value) if table else value
        return mapped

    return map_values


def map_row(row: SourceRow, config: ConnectorConfig) -> dict[str, Any]:
    """Source columns → canonical fields, with code-table values translated."""
    return values_mapper(config.mapping, config.values)(row.values)


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


@dataclass(frozen=True, slots=True)
class StagePlan:
    """Everything a process needs to run one connector's stages; it pickles (the record type by
    name), so a worker process can be sent it."""

    record_type: type[CanonicalRecord]
    mapping: dict[str, str]
    values: dict[str, dict[str, str]]
    secret: bytes
    wire_header: bytes
    schema: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RowRejection:
    """A row of a batch that a stage refused, by its place in the batch."""

    index: int
    stage: str
    problems: tuple[Problem, ...]

    def rejected(self) -> Rejected:
        return Rejected(self.stage, list(self.problems))


@dataclass(frozen=True, slots=True)
class EncodedBatch:
    """A batch after every stage: the (key, value) messages to publish in source order, the rows
    refused, and what the collection-quality report counts."""

    messages: list[tuple[bytes, bytes]]
    rejections: list[RowRejection]
    filled: Counter  # canonical field -> rows where it had a value
    warnings: Counter  # rule -> published records it questions


class Stages:
    """Map, validate, protect and encode rows for one connector; built once per process."""

    def __init__(self, plan: StagePlan):
        self._map_values = values_mapper(plan.mapping, plan.values)
        self._record_type = plan.record_type
        self._protector = Protector(plan.secret)
        self._encode = framed_encoder(plan.wire_header, plan.schema)

    def run(self, rows: list[dict[str, str | None]], envelope: Envelope) -> EncodedBatch:
        """Every row (its source values) in order; a refused row is listed, never raised."""
        map_values, record_type, protector, encode = self._map_values, self._record_type, self._protector, self._encode
        messages: list[tuple[bytes, bytes]] = []
        rejections: list[RowRejection] = []
        filled: Counter = Counter()
        warnings: Counter = Counter()
        for index, values in enumerate(rows):
            mapped = map_values(values)
            filled.update(name for name, value in mapped.items() if value not in (None, ""))
            try:
                record = validate(mapped, record_type)
                warnings.update(w.rule for w in record.warnings())
                out = protect(record, protector, envelope)
                messages.append((out.key, encode(out.record)))
            except Rejected as rejected:
                rejections.append(RowRejection(index, rejected.stage, tuple(rejected.problems)))
        return EncodedBatch(messages, rejections, filled, warnings)
