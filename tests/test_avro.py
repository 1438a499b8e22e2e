"""Confluent wire format: what any Kafka tool with a Schema Registry deserializer expects."""

from __future__ import annotations

import json
import struct
from datetime import UTC, date, datetime
from io import BytesIO

import pytest
from fastavro import parse_schema, schemaless_reader

from carehub.avro import AvroCodec, UndecodableMessage, load_schema, subject_for
from carehub.db.engine import open_database
from carehub.registry.store import DatabaseRegistry

PERSON = {
    "source_system": "population-registry", "source_record_id": "R1", "source_version": None,
    "event_time": datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC), "ingest_time": datetime(2025, 1, 3, tzinfo=UTC),
    "connector": "c", "person_key": "ab" * 32, "resident_id_encrypted": b"\x01secret",
    "resident_id_masked": "110105********002X", "name": "张三", "sex": "2", "birth_date": date(1949, 12, 31),
    "household_division": "110105", "address": None,
}


@pytest.fixture
def codec(sqlite_url: str) -> tuple[AvroCodec, DatabaseRegistry]:
    registry = DatabaseRegistry(open_database(sqlite_url))
    return AvroCodec(registry), registry


def test_encoded_records_are_magic_byte_schema_id_and_plain_avro(codec) -> None:
    avro, registry = codec
    schema = load_schema("registry/person.avsc")
    payload = avro.encoder("src.registry.person.v1", schema)(PERSON)
    magic, schema_id = struct.unpack(">bI", payload[:5])
    assert magic == 0
    assert schema_id == registry.version(subject_for("src.registry.person.v1"), "latest").id
    # a standard Avro reader with the registered schema reads the body
    registered = parse_schema(json.loads(registry.schema_by_id(schema_id)))
    assert schemaless_reader(BytesIO(payload[5:]), registered, None) == PERSON
    assert avro.decode(payload) == (schema_id, PERSON)


@pytest.mark.parametrize(
    ("payload", "rule"),
    [(b"", "wire.magic_byte"), (b"{\"json\": 1}", "wire.magic_byte"), (b"\x00\x00\x00\x03\xe7\x02", "wire.unknown_schema")],
)
def test_undecodable_payloads_name_the_rule(codec, payload: bytes, rule: str) -> None:
    with pytest.raises(UndecodableMessage) as caught:
        codec[0].decode(payload)
    assert caught.value.rule == rule


def test_a_truncated_body_is_undecodable(codec) -> None:
    avro, _ = codec
    payload = avro.encoder("src.registry.person.v1", load_schema("registry/person.avsc"))(PERSON)
    with pytest.raises(UndecodableMessage) as caught:
        avro.decode(payload[:12])
    assert caught.value.rule == "wire.avro"


def test_a_message_whose_registry_is_unreachable_is_not_called_undecodable(codec) -> None:  # noqa: ANN001
    from carehub.errors import ServiceUnavailable
    from carehub.registry.client import HttpRegistry

    encoded = codec[0].encoder("src.registry.person.v1", load_schema("registry/person.avsc"))(PERSON)
    with pytest.raises(ServiceUnavailable, match="CAREHUB_REGISTRY_URL"):
        AvroCodec(HttpRegistry("http://127.0.0.1:1", retry_seconds=0.5)).decode(encoded)
