"""Avro in Confluent's wire format: magic byte 0, 4-byte big-endian schema id, Avro binary."""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from importlib.resources import files
from io import BytesIO
from typing import TYPE_CHECKING, Any

from fastavro import parse_schema, schemaless_reader, schemaless_writer

from carehub.errors import CarehubError, ServiceUnavailable

if TYPE_CHECKING:  # the registry package loads its HTTP server; connector workers need none of it
    from carehub.registry.base import SchemaRegistry

MAGIC = 0
_HEADER = struct.Struct(">bI")

Encoder = Callable[[dict[str, Any]], bytes]


class UndecodableMessage(CarehubError):
    """A message is not Confluent-framed Avro, or names a schema the registry does not know."""

    def __init__(self, rule: str, message: str):
        self.rule = rule
        super().__init__(message)


def load_schema(relative_path: str) -> dict[str, Any]:
    """A schema shipped in the `schemas` package, e.g. 'registry/person.avsc'."""
    return json.loads((files("schemas") / relative_path).read_text(encoding="utf-8"))


def wire_header(schema_id: int) -> bytes:
    """Confluent's prefix of every value: magic byte 0, then the 4-byte big-endian schema id."""
    return _HEADER.pack(MAGIC, schema_id)


def framed_encoder(header: bytes, schema: dict[str, Any]) -> Encoder:
    """Record → `header` + Avro binary: the encoder for one registered schema."""
    parsed = parse_schema(schema)

    def encode(record: dict[str, Any]) -> bytes:
        buf = BytesIO()
        buf.write(header)
        schemaless_writer(buf, parsed, record)
        return buf.getvalue()

    return encode


def subject_for(topic: str) -> str:
    """Confluent's TopicNameStrategy for record values."""
    return f"{topic}-value"


class AvroCodec:
    """Encodes records for a topic under its registered schema; decodes any framed message."""

    def __init__(self, registry: SchemaRegistry):
        self._registry = registry
        self._writers: dict[int, Any] = {}

    def encoder(self, topic: str, schema: dict[str, Any]) -> Encoder:
        """Register `schema` under the topic's subject and return a record → bytes function."""
        return framed_encoder(wire_header(self._registry.register(subject_for(topic), json.dumps(schema))), schema)

    def decode(self, payload: bytes | None) -> tuple[int, dict[str, Any]]:
        """(schema id, record) of a framed message; raises UndecodableMessage."""
        if not payload or len(payload) < _HEADER.size or payload[0] != MAGIC:
            raise UndecodableMessage(
                "wire.magic_byte", "not Confluent wire format (expected magic byte 0 and a schema id)"
            )
        _, schema_id = _HEADER.unpack_from(payload)
        writer = self._writers.get(schema_id)
        if writer is None:
            try:
                writer = parse_schema(json.loads(self._registry.schema_by_id(schema_id)))
            except ServiceUnavailable:
                raise  # the registry is down, the message is fine: wait, do not dead-letter it
            except CarehubError as exc:
                raise UndecodableMessage("wire.unknown_schema", f"schema id {schema_id}: {exc}") from exc
            self._writers[schema_id] = writer
        try:
            return schema_id, schemaless_reader(BytesIO(payload[_HEADER.size :]), writer, None)
        except Exception as exc:  # fastavro raises many types on corrupt input
            raise UndecodableMessage(
                "wire.avro", f"Avro body does not match schema id {schema_id}: {type(exc).__name__}"
            ) from exc
