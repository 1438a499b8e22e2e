"""Parsing, fingerprinting and judging schema changes at every compatibility level."""

from __future__ import annotations

import json

import pytest

from carehub.registry.base import InvalidCompatibilityLevel, InvalidSchema
from carehub.registry.compatibility import Compatibility, compatibility_problems, parse_schema

from .avro_schemas import BIRTH_DATE_WITHOUT_DEFAULT, NAME, OPTIONAL_PHONE, SUBJECT, person

V1 = person()
WITH_PHONE = person(OPTIONAL_PHONE)
WITH_BIRTH_DATE = person(BIRTH_DATE_WITHOUT_DEFAULT)
WITHOUT_NAME = person(name=None)


def problems(new: str, *history: str, level: Compatibility) -> list[str]:
    versions = [(number, parse_schema(text)) for number, text in enumerate(history, start=1)]
    return compatibility_problems(SUBJECT, parse_schema(new), versions, level)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{not json", "it is not JSON"),
        (person(name={"name": "name", "type": "strng"}), "strng"),
        (person({"name": "age", "type": "int", "default": "old"}), "Default value <old> must match"),
    ],
)
def test_a_schema_avro_cannot_use_is_invalid(text: str, reason: str) -> None:
    with pytest.raises(InvalidSchema, match="not a valid Avro schema") as refused:
        parse_schema(text)
    assert reason in str(refused.value)


def test_layout_does_not_change_the_fingerprint_but_a_default_does() -> None:
    assert parse_schema(person(indent=4)).fingerprint == parse_schema(V1).fingerprint
    optional_name = {"name": "name", "type": ["null", "string"]}
    assert (
        parse_schema(person(name={**optional_name, "default": None})).fingerprint
        != parse_schema(person(name=optional_name)).fingerprint
    )


def test_the_stored_text_is_compact_json_of_the_schema_as_given() -> None:
    parsed = parse_schema(person(indent=4))
    assert parsed.text == json.dumps(json.loads(V1), separators=(",", ":"))


def test_backward_accepts_a_new_field_with_a_default() -> None:
    assert problems(WITH_PHONE, V1, level=Compatibility.BACKWARD) == []


def test_backward_names_a_field_added_without_a_default() -> None:
    assert problems(WITH_BIRTH_DATE, V1, level=Compatibility.BACKWARD) == [
        f"field 'birth_date' was added without a default: a reader of {SUBJECT} could not read "
        "data written with version 1"
    ]


def test_backward_names_a_field_whose_type_changed() -> None:
    [problem] = problems(person(name={"name": "name", "type": "int"}), V1, level=Compatibility.BACKWARD)
    assert problem.startswith("field 'name' changed type from string to int")


def test_backward_only_compares_with_the_latest_version_but_transitive_with_all() -> None:
    # v1 wrote age as a number, v2 dropped it, v3 brings it back as text with a default.
    age_as_int = person({"name": "age", "type": "int"})
    age_as_text = person({"name": "age", "type": "string", "default": ""})
    assert problems(age_as_text, age_as_int, V1, level=Compatibility.BACKWARD) == []
    [problem] = problems(age_as_text, age_as_int, V1, level=Compatibility.BACKWARD_TRANSITIVE)
    assert problem.startswith("field 'age' changed type from int to string")
    assert problem.endswith("written with version 1")


def test_forward_lets_old_readers_ignore_a_new_field_but_not_miss_a_removed_one() -> None:
    assert problems(WITH_BIRTH_DATE, V1, level=Compatibility.FORWARD) == []
    [problem] = problems(WITHOUT_NAME, V1, level=Compatibility.FORWARD)
    assert problem == (
        f"field 'name' was removed but has no default in the old schema: a reader still on "
        f"version 1 of {SUBJECT} could not read data written with the new schema"
    )
    assert problems(WITHOUT_NAME, V1, level=Compatibility.BACKWARD) == []


def test_full_needs_both_directions() -> None:
    assert problems(WITH_PHONE, V1, level=Compatibility.FULL) == []
    assert problems(WITH_BIRTH_DATE, V1, level=Compatibility.FULL) != []
    assert problems(WITHOUT_NAME, V1, level=Compatibility.FULL) != []


def test_forward_transitive_and_full_transitive_check_every_version() -> None:
    # v1 has a required name; v2 gives it a default; v3 drops it: v2's readers cope, v1's cannot.
    name_with_default = person(name={**NAME, "default": ""})
    for level in (Compatibility.FORWARD, Compatibility.FULL):
        assert problems(WITHOUT_NAME, V1, name_with_default, level=level) == []
    for level in (Compatibility.FORWARD_TRANSITIVE, Compatibility.FULL_TRANSITIVE):
        [problem] = problems(WITHOUT_NAME, V1, name_with_default, level=level)
        assert problem.startswith("field 'name' was removed")
        assert "still on version 1 " in problem


def test_none_accepts_any_change() -> None:
    assert problems('"string"', V1, level=Compatibility.NONE) == []


def test_nested_fields_are_named_by_their_path() -> None:
    address_v1 = {"type": "record", "name": "Address", "fields": [{"name": "city", "type": "string"}]}
    address_v2 = {**address_v1, "fields": [*address_v1["fields"], {"name": "zip", "type": "string"}]}
    visit_v1 = {"type": "record", "name": "Visit", "fields": [{"name": "at", "type": "long"}]}
    visit_v2 = {**visit_v1, "fields": [{"name": "at", "type": "int"}]}
    old = person({"name": "address", "type": ["null", address_v1], "default": None},
                 {"name": "visits", "type": {"type": "array", "items": visit_v1}})
    new = person({"name": "address", "type": ["null", address_v2], "default": None},
                 {"name": "visits", "type": {"type": "array", "items": visit_v2}})
    reasons = [problem.split(":")[0] for problem in problems(new, old, level=Compatibility.BACKWARD)]
    assert reasons == [
        "field 'address.zip' was added without a default",
        "field 'visits[].at' changed type from long to int",
    ]


def test_dropped_enum_symbols_are_named() -> None:
    def with_status(*symbols: str) -> str:
        return person({"name": "status", "type": {"type": "enum", "name": "Status", "symbols": list(symbols)}})

    [problem] = problems(with_status("ALIVE"), with_status("ALIVE", "DECEASED"), level=Compatibility.BACKWARD)
    assert problem.startswith("field 'status' dropped the enum symbols DECEASED")


def test_levels_are_read_in_any_case_and_unknown_ones_are_refused() -> None:
    assert Compatibility.parse("full_transitive") is Compatibility.FULL_TRANSITIVE
    with pytest.raises(InvalidCompatibilityLevel, match="use one of BACKWARD, BACKWARD_TRANSITIVE"):
        Compatibility.parse("LENIENT")


def test_a_recursive_record_is_explained_once() -> None:
    def node(value_type: str) -> str:
        return json.dumps({"type": "record", "name": "Node", "fields": [
            {"name": "value", "type": value_type},
            {"name": "next", "type": ["null", "Node"], "default": None},
        ]})

    [problem] = problems(node("string"), node("int"), level=Compatibility.BACKWARD)
    assert problem.startswith("field 'value' changed type from int to string")
