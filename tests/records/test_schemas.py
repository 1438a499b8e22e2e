"""Source schemas: parse, document every field bilingually, share the envelope, match the catalog."""

import re
from typing import Any

import pytest
from fastavro import parse_schema

from carehub import codes
from carehub.avro import load_schema
from carehub.topics import CATALOG, CREDIT_CODE_KEY, PERSON_KEY, PERSON_PARTITIONS
from connectors.canonical import HintedPersonRecord
from connectors.records import RECORD_TYPES

ENVELOPE = load_schema("registry/person.avsc")["fields"][:6]
IDENTITY = load_schema("registry/person.avsc")["fields"][6:9]
#: The identity of a record from a source without reliable IDs: nullable, followed by the identity hints.
HINTED_IDENTITY = load_schema("health/checkup.avsc")["fields"][6:13]
BILINGUAL = re.compile(r"[\u4e00-\u9fff].* / .*[A-Za-z]")
PLAINTEXT_ID_NAMES = re.compile(r"^(resident_id|.*_resident_id|id_number)$")
SCHEMAS = sorted({t.schema_path for t in RECORD_TYPES.values()})


def fields_of(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """Top-level fields and the fields of nested records (array items)."""
    found = []
    for field in schema["fields"]:
        found.append(field)
        items = field["type"].get("items") if isinstance(field["type"], dict) else None
        if isinstance(items, dict) and items.get("type") == "record":
            found.extend(fields_of(items))
    return found


@pytest.mark.parametrize("path", SCHEMAS)
def test_schema_parses_and_documents_every_field_in_both_languages(path: str) -> None:
    schema = load_schema(path)
    parse_schema(schema)
    assert BILINGUAL.search(schema["doc"])
    undocumented = [f["name"] for f in fields_of(schema) if not BILINGUAL.search(f.get("doc", ""))]
    assert undocumented == []


@pytest.mark.parametrize("path", SCHEMAS)
def test_schema_starts_with_the_common_envelope(path: str) -> None:
    assert load_schema(path)["fields"][:6] == ENVELOPE


@pytest.mark.parametrize("name", sorted(RECORD_TYPES))
def test_person_records_carry_protected_identity_and_never_a_plaintext_id(name: str) -> None:
    record_type = RECORD_TYPES[name]
    fields = load_schema(record_type.schema_path)["fields"]
    assert not [f["name"] for f in fields if PLAINTEXT_ID_NAMES.match(f["name"])]
    if issubclass(record_type, HintedPersonRecord):
        assert fields[6:13] == HINTED_IDENTITY
    elif record_type.key_field == "person_key":
        assert fields[6:9] == IDENTITY
    else:
        assert record_type.key_field == "credit_code"
        assert "credit_code" in [f["name"] for f in fields]


def test_records_from_sources_without_reliable_ids_carry_nullable_identity_and_the_four_hints() -> None:
    hinted = sorted(name for name, t in RECORD_TYPES.items() if issubclass(t, HintedPersonRecord))
    assert hinted == ["civil_affairs.capability_assessment", "civil_affairs.enrolment", "civil_affairs.service_record",
                      "civil_affairs.subsidy_payment", "health.checkup", "health.family_doctor_contract"]
    types = {f["name"]: f["type"] for f in HINTED_IDENTITY}
    assert types == {
        "person_key": ["null", "string"], "resident_id_encrypted": ["null", "bytes"], "resident_id_masked": ["null", "string"],
        "person_name": ["null", "string"], "person_sex": ["null", "string"],
        "person_birth_date": ["null", {"type": "int", "logicalType": "date"}], "person_division": ["null", "string"],
    }
    assert [f for f in IDENTITY if f["type"] != "string" and f["type"] != "bytes"] == []  # the registry's stay required


@pytest.mark.parametrize("path", SCHEMAS)
def test_nullable_fields_default_to_null(path: str) -> None:
    for field in load_schema(path)["fields"]:
        if isinstance(field["type"], list):
            assert field["type"][0] == "null" and field.get("default", "absent") is None, field["name"]


@pytest.mark.parametrize(
    ("path", "field", "table"),
    [
        ("civil_affairs/subsidy_payment.avsc", "subsidy_type", codes.SUBSIDY_TYPES),
        ("civil_affairs/institution.avsc", "institution_type", codes.INSTITUTION_TYPES),
        ("civil_affairs/practitioner.avsc", "skill_level", codes.SKILL_LEVELS),
        ("civil_affairs/enrolment.avsc", "target_group", codes.TARGET_GROUPS),
        ("civil_affairs/provider_registration.avsc", "registering_system", codes.REGISTERING_SYSTEMS),
    ],
)
def test_coded_fields_document_their_code_list(path: str, field: str, table: dict[str, str]) -> None:
    doc = next(f["doc"] for f in load_schema(path)["fields"] if f["name"] == field)
    assert all(f"{code} {label}" in doc for code, label in table.items())


def test_dates_timestamps_and_money_use_logical_types() -> None:
    payment = {f["name"]: f["type"] for f in load_schema("civil_affairs/subsidy_payment.avsc")["fields"]}
    assert payment["amount"] == {"type": "bytes", "logicalType": "decimal", "precision": 12, "scale": 2}
    assert payment["period_start"] == {"type": "int", "logicalType": "date"}
    assert payment["event_time"] == {"type": "long", "logicalType": "timestamp-millis"}


@pytest.mark.parametrize("name", sorted(RECORD_TYPES))
def test_every_record_type_has_a_catalog_topic_with_its_schema_and_key(name: str) -> None:
    record_type = RECORD_TYPES[name]
    topic = next(t for t in CATALOG if t.name == record_type.topic)
    assert re.fullmatch(r"src\.(registry|health|civil_affairs)\.[a-z_]+\.v1", topic.name)
    assert topic.name.split(".")[1] == name.split(".")[0]
    assert topic.schema == record_type.schema_path
    assert topic.description
    if record_type.key_field == "person_key":
        assert (topic.key, topic.partitions) == (PERSON_KEY, PERSON_PARTITIONS)
    else:
        assert topic.key == CREDIT_CODE_KEY


def test_the_catalog_lists_each_topic_once() -> None:
    names = [t.name for t in CATALOG]
    assert len(names) == len(set(names))
    assert len([name for name in names if name.startswith("src.")]) == len(RECORD_TYPES)
