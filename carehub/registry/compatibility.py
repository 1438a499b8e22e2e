"""Avro schemas as the registry sees them: parsed, fingerprinted, and judged by a compatibility level."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import avro.schema
import fastavro
from avro.compatibility import (
    ReaderWriterCompatibilityChecker,
    SchemaCompatibilityType,
    lookup_writer_field,
    schema_name_equals,
)

from carehub.registry.base import InvalidCompatibilityLevel, InvalidSchema


class Compatibility(StrEnum):
    """Confluent's compatibility levels: which earlier versions a new schema must agree with."""

    BACKWARD = "BACKWARD"  # the new schema reads data written with the latest version
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"  # … with every version
    FORWARD = "FORWARD"  # the latest version reads data written with the new schema
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"  # every version reads it
    FULL = "FULL"  # both BACKWARD and FORWARD
    FULL_TRANSITIVE = "FULL_TRANSITIVE"
    NONE = "NONE"

    @classmethod
    def parse(cls, level: str) -> Compatibility:
        try:
            return cls(level.strip().upper())
        except ValueError:
            raise InvalidCompatibilityLevel(level, list(cls)) from None

    @property
    def new_reads_old(self) -> bool:
        return self.name.startswith(("BACKWARD", "FULL"))

    @property
    def old_reads_new(self) -> bool:
        return self.name.startswith(("FORWARD", "FULL"))

    @property
    def transitive(self) -> bool:
        return self.name.endswith("_TRANSITIVE")


DEFAULT_LEVEL = Compatibility.BACKWARD


@dataclass(frozen=True)
class ParsedSchema:
    """A valid Avro schema with the text the registry stores and the fingerprint it dedupes by."""

    text: str
    fingerprint: str
    avro: avro.schema.Schema


def parse_schema(text: str) -> ParsedSchema:
    """Check `text` is an Avro schema both Avro parsers accept (else `InvalidSchema`).

    The fingerprint covers the whole schema, defaults, logical types and docs included. Avro's
    parsing canonical form would be shorter but drops defaults and logical types, so a version
    that only adds a default (the usual fix for an incompatible change) would be taken for the
    version before it and never registered."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidSchema(f"it is not JSON ({exc})") from exc
    normalised = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
    try:
        # fastavro encodes our records and checks that defaults match their types; avro judges
        # compatibility. A schema either one rejects is of no use to the hub.
        fastavro.parse_schema(document)
        parsed = avro.schema.parse(normalised)
    except Exception as exc:  # both parsers report bad schemas with assorted exception types
        raise InvalidSchema(str(exc) or type(exc).__name__) from exc
    layout_free = json.dumps(document, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    return ParsedSchema(
        text=normalised,
        fingerprint=hashlib.sha256(layout_free.encode()).hexdigest(),
        avro=parsed,
    )


def compatibility_problems(
    subject: str,
    new: ParsedSchema,
    history: Sequence[tuple[int, ParsedSchema]],
    level: Compatibility,
) -> list[str]:
    """Why `new` may not follow `history` (version number and schema, oldest first) under
    `level`: one message per field at fault; empty when it may."""
    if level is Compatibility.NONE:
        return []
    checked = history if level.transitive else history[-1:]
    problems: list[str] = []
    for version, old in reversed(checked):
        if level.new_reads_old:
            problems += [
                f"{reason}: a reader of {subject} could not read data written with version {version}"
                for reason in _Explainer(new_is_reader=True).reasons(reader=new.avro, writer=old.avro)
            ]
        if level.old_reads_new:
            problems += [
                f"{reason}: a reader still on version {version} of {subject} could not read data "
                "written with the new schema"
                for reason in _Explainer(new_is_reader=False).reasons(reader=old.avro, writer=new.avro)
            ]
    return problems


@dataclass(frozen=True)
class _Explainer:
    """Says why data written with one schema cannot be read with another, one reason per field.

    Avro's checker decides; its locations lose track of fields inside unions, so this walks the
    two schemas field by field and asks the checker again at each level to find the field."""

    new_is_reader: bool

    def reasons(
        self,
        reader: avro.schema.Schema,
        writer: avro.schema.Schema,
        path: str = "",
        within: frozenset[str] = frozenset(),
    ) -> list[str]:
        """Reasons at `path`; `within` names the records being explained further up, so a
        recursive type (a record holding itself) is explained once."""
        verdict = ReaderWriterCompatibilityChecker().get_compatibility(reader, writer)
        if verdict.compatibility is SchemaCompatibilityType.compatible:
            return []
        if reader.type == writer.type == "record" and schema_name_equals(reader, writer):
            if reader.fullname in within:
                return []
            deeper = self._record_reasons(reader, writer, verdict.locations, path, within | {reader.fullname})
        elif reader.type == writer.type == "array":
            deeper = self.reasons(reader.items, writer.items, f"{path}[]", within)
        elif reader.type == writer.type == "map":
            deeper = self.reasons(reader.values, writer.values, f"{path}{{}}", within)
        elif "union" in (reader.type, writer.type):
            deeper = self._union_reasons(reader, writer, path, within)
        else:
            deeper = None
        if deeper is None:
            return [_changed(path, reader=reader, writer=writer, new_is_reader=self.new_is_reader)]
        return deeper

    def _record_reasons(
        self,
        reader: avro.schema.RecordSchema,
        writer: avro.schema.RecordSchema,
        locations: set[str],
        path: str,
        within: frozenset[str],
    ) -> list[str] | None:
        """The fields at fault in two versions of a record; None if none is (the record differs
        as a whole)."""
        reasons: list[str] = []
        for index, field in enumerate(reader.fields):
            field_path = f"{path}.{field.name}" if path else field.name
            writer_field = lookup_writer_field(writer_schema=writer, reader_field=field)
            if writer_field is not None:
                reasons += self.reasons(field.type, writer_field.type, field_path, within)
            elif any(_at_field(location, index) for location in locations):
                reasons.append(
                    f"field '{field_path}' was added without a default"
                    if self.new_is_reader
                    else f"field '{field_path}' was removed but has no default in the old schema"
                )
        return reasons or None

    def _union_reasons(
        self, reader: avro.schema.Schema, writer: avro.schema.Schema, path: str, within: frozenset[str]
    ) -> list[str] | None:
        """Reasons inside the named types a union shares with the other side (e.g. a nullable
        record whose fields changed); None when a branch itself is missing or changed kind."""
        reader_branches = reader.schemas if reader.type == "union" else [reader]
        writer_branches = writer.schemas if writer.type == "union" else [writer]
        reasons: list[str] = []
        for writer_branch in writer_branches:
            branch_verdict = ReaderWriterCompatibilityChecker().get_compatibility(reader, writer_branch)
            if branch_verdict.compatibility is SchemaCompatibilityType.compatible:
                continue
            counterpart = next((b for b in reader_branches if _same_named_type(b, writer_branch)), None)
            if counterpart is None:
                return None
            reasons += self.reasons(counterpart, writer_branch, path, within)
        return reasons


def _at_field(location: str, index: int) -> bool:
    """Whether a checker location (`/fields/3`, `/fields/3/type`) points at the field `index`."""
    return location == f"/fields/{index}" or location.startswith(f"/fields/{index}/")


def _same_named_type(a: avro.schema.Schema, b: avro.schema.Schema) -> bool:
    return isinstance(a, avro.schema.NamedSchema) and a.type == b.type and a.fullname == b.fullname


def _changed(path: str, *, reader: avro.schema.Schema, writer: avro.schema.Schema, new_is_reader: bool) -> str:
    """One line on how the type at `path` changed from the old schema to the new one."""
    what = f"field '{path}'" if path else "the schema"
    old, new = (writer, reader) if new_is_reader else (reader, writer)
    if reader.type == writer.type == "enum" and schema_name_equals(reader, writer):
        unreadable = ", ".join(sorted(set(writer.symbols) - set(reader.symbols)))
        if new_is_reader:
            return f"{what} dropped the enum symbols {unreadable}"
        return f"{what} added the enum symbols {unreadable} and the old enum has no default"
    if isinstance(old, avro.schema.NamedSchema) and old.type == new.type and old.fullname != new.fullname:
        return f"{what} renamed its {old.type} from {old.fullname} to {new.fullname} without an alias"
    return f"{what} changed type from {_describe(old)} to {_describe(new)}"


def _describe(schema: avro.schema.Schema) -> str:
    """A short human name for a type: `string`, `int (date)`, `[null, Address]`, `array<long>`."""
    if schema.type == "union":
        return "[" + ", ".join(_describe(branch) for branch in schema.schemas) + "]"
    if schema.type == "array":
        return f"array<{_describe(schema.items)}>"
    if schema.type == "map":
        return f"map<{_describe(schema.values)}>"
    if schema.type == "fixed":
        return f"fixed {schema.name}({schema.size})"
    if isinstance(schema, avro.schema.NamedSchema):
        return f"{schema.type} {schema.name}"
    logical = schema.props.get("logicalType")
    return f"{schema.type} ({logical})" if logical else schema.type
