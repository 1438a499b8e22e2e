"""Records from sources without reliable IDs: a missing or invalid resident ID plus a name and a birth
date is published with a warning and no person key; the invalid ID is encrypted and masked, never plain."""

from datetime import UTC, date, datetime
from io import BytesIO

import pytest
from fastavro import parse_schema, schemaless_reader, schemaless_writer

from carehub.avro import load_schema
from carehub.identifiers.resident_id import check_char
from carehub.pii import Protector
from connectors.canonical import HintedPersonRecord, masked_as_given
from connectors.records import RECORD_TYPES
from connectors.sdk.pipeline import Rejected, protect, validate
from connectors.sdk.record import CanonicalRecord, Envelope
from tests.records.samples import CAREGIVER_ID, ELDER_ID, HINTS, sample

PROTECTOR = Protector(b"u" * 40)
ENVELOPE = Envelope("civil-affairs", "test-connector", datetime(2025, 6, 2, 8, 0, tzinfo=UTC))
HINTED = sorted(name for name, t in RECORD_TYPES.items() if issubclass(t, HintedPersonRecord))
STRICT = ["registry.person", "registry.death", "registry.household_move", "civil_affairs.practitioner"]
BAD_CHECKSUM_ID = ELDER_ID[:17] + next(c for c in "0123456789X" if c != check_char(ELDER_ID[:17]))
#: Invalid IDs as sources hold them, as long as an ID or longer, with the rule each breaks.
INVALID_IDS = [
    (BAD_CHECKSUM_ID, "resident_id.checksum"),
    (ELDER_ID[:16], "resident_id.format"),
    (ELDER_ID + "7", "resident_id.format"),
    ("11010520991231002" + check_char("11010520991231002"), "resident_id.birth_date"),
    ("11010519491331002" + check_char("11010519491331002"), "resident_id.birth_date"),
    ("110105491331002", "resident_id.birth_date"),  # an old 15-digit ID with no such day
]


def published(name: str, **changes: object) -> tuple[CanonicalRecord, bytes, bytes, dict]:
    """(record, Kafka key, Avro bytes, record read back) of the sample of `name` with `changes`,
    through the connector's own validate and protect stages."""
    record = validate(sample(name, **changes), RECORD_TYPES[name])
    out = protect(record, PROTECTOR, ENVELOPE)
    parsed = parse_schema(load_schema(RECORD_TYPES[name].schema_path))
    buf = BytesIO()
    schemaless_writer(buf, parsed, out.record)
    return record, out.key, buf.getvalue(), schemaless_reader(BytesIO(buf.getvalue()), parsed, None)


def rules(name: str, **changes: object) -> list[tuple[str, str]]:
    with pytest.raises(Rejected) as caught:
        validate(sample(name, **changes), RECORD_TYPES[name])
    return [(p.field, p.rule) for p in caught.value.problems]


@pytest.mark.parametrize("name", HINTED)
def test_a_record_without_an_id_but_with_name_and_birth_date_is_published_with_a_warning(name: str) -> None:
    record, key, _, back = published(name, resident_id=" ")
    assert [(w.field, w.rule) for w in record.warnings()] == [("resident_id", "resident_id.missing")]
    assert (back["person_key"], back["resident_id_encrypted"], back["resident_id_masked"]) == (None, None, None)
    assert key == b"r-1"  # keyed by its source record id: every version of it on one partition
    assert {hint: back[hint] for hint in HINTS} == {**HINTS, "person_birth_date": date(1949, 12, 31)}


@pytest.mark.parametrize("name", HINTED)
@pytest.mark.parametrize(("given", "rule"), INVALID_IDS)
def test_an_invalid_id_with_hints_is_published_under_its_own_rule_encrypted_and_masked(name: str, given: str, rule: str) -> None:
    record, key, encoded, back = published(name, resident_id=given)
    assert [(w.field, w.rule) for w in record.warnings()] == [("resident_id", rule)]
    assert back["person_key"] is None and key == b"r-1"
    assert PROTECTOR.decrypt(back["resident_id_encrypted"]) == given
    assert back["resident_id_masked"] == given[:6] + "*" * (len(given) - 10) + given[-4:]
    assert given.encode() not in encoded and given[:14].encode() not in encoded
    assert not any(given[:14] in w.message for w in record.warnings())


@pytest.mark.parametrize("given", ["1", "12", "110105", "11010519491231"])
def test_a_short_invalid_id_is_masked_completely(given: str) -> None:
    record, _, _, back = published("civil_affairs.service_record", resident_id=given)
    assert [w.rule for w in record.warnings()] == ["resident_id.format"]
    assert back["resident_id_masked"] == "*" * len(given) and PROTECTOR.decrypt(back["resident_id_encrypted"]) == given


def test_a_full_width_invalid_id_is_kept_normalised_and_masked_like_a_valid_one() -> None:
    full_width = BAD_CHECKSUM_ID.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    _, _, encoded, back = published("civil_affairs.enrolment", resident_id=f" {full_width.lower()} ")
    assert PROTECTOR.decrypt(back["resident_id_encrypted"]) == BAD_CHECKSUM_ID
    assert back["resident_id_masked"] == BAD_CHECKSUM_ID[:6] + "********" + BAD_CHECKSUM_ID[-4:]
    assert full_width.encode() not in encoded and BAD_CHECKSUM_ID.encode() not in encoded


@pytest.mark.parametrize("length", range(1, 25))
def test_masking_an_id_as_given_never_shows_it_whatever_its_length(length: int) -> None:
    given = (ELDER_ID * 2)[:length]
    masked = masked_as_given(given)
    shown = [c for c in masked if c != "*"]
    assert len(masked) == length and masked != given
    assert len(shown) == (10 if length >= 15 else 0)  # the address code and the last four, as for a valid ID


@pytest.mark.parametrize("name", HINTED)
@pytest.mark.parametrize("missing", [("person_name",), ("person_birth_date",), ("person_name", "person_birth_date")])
def test_without_name_and_birth_date_a_record_without_a_valid_id_is_rejected_as_before(name: str, missing: tuple) -> None:
    without = {hint: None for hint in missing}
    assert rules(name, resident_id=None, **without) == [("resident_id", "missing")]
    assert rules(name, resident_id=BAD_CHECKSUM_ID, **without) == [("resident_id", "resident_id.checksum")]


def test_sex_and_division_alone_do_not_stand_in_for_the_id() -> None:
    assert rules("civil_affairs.subsidy_payment", resident_id=None, person_name=None, person_birth_date=None) == [
        ("resident_id", "missing")
    ]


def test_a_record_without_a_valid_id_and_another_broken_rule_is_rejected_naming_both() -> None:
    assert rules("civil_affairs.subsidy_payment", resident_id=BAD_CHECKSUM_ID, amount="-1") == [
        ("resident_id", "resident_id.checksum"), ("amount", "amount.negative")
    ]
    assert rules("civil_affairs.subsidy_payment", resident_id=None, person_name=None, amount="-1") == [
        ("resident_id", "missing"), ("amount", "amount.negative")
    ]
    assert rules("civil_affairs.subsidy_payment", resident_id=None, amount="-1") == [("amount", "amount.negative")]


def test_a_broken_hint_rejects_the_record_under_its_rule() -> None:
    assert ("person_sex", "sex.code") in rules("health.checkup", person_sex="男")
    assert ("person_division", "division.format") in rules("health.checkup", resident_id=None, person_division="苏州")
    assert ("person_birth_date", "date.future") in rules("health.checkup", resident_id=None, person_birth_date="2999-01-01")


@pytest.mark.parametrize("name", STRICT)
def test_the_registry_and_caregivers_keep_requiring_a_valid_id(name: str) -> None:
    assert ("resident_id", "resident_id.checksum") in rules(name, resident_id=BAD_CHECKSUM_ID)
    assert ("resident_id", "missing") in rules(name, resident_id=None)
    assert ("person_name", "extra_forbidden") in rules(name, person_name="张三")


def test_a_bad_caregiver_id_still_rejects_a_service_record_with_hints() -> None:
    assert rules("civil_affairs.service_record", caregiver_resident_id=CAREGIVER_ID[:17] + "0") == [
        ("caregiver_resident_id", "resident_id.checksum")
    ]


def test_without_a_valid_id_life_dates_are_checked_against_the_birth_date_the_source_gives() -> None:
    assert rules("civil_affairs.subsidy_payment", resident_id=None, person_birth_date="2025-05-15") == [
        ("date", "date.before_birth")
    ]
    assert rules("health.checkup", resident_id="12", person_birth_date="2025-04-11") == [("date", "date.before_birth")]
    record, *_ = published("health.checkup", resident_id="12", person_birth_date="2025-04-10")
    assert record.check_date == date(2025, 4, 10)


def test_with_a_valid_id_the_hints_are_kept_as_given_even_when_they_disagree() -> None:
    record, key, _, back = published(
        "civil_affairs.subsidy_payment", person_name="张山", person_sex="1", person_birth_date="2025-05-20", person_division="320505"
    )
    assert record.warnings() == [] and key.decode() == back["person_key"] == PROTECTOR.person_key(ELDER_ID)
    assert (back["person_name"], back["person_sex"], back["person_birth_date"], back["person_division"]) == (
        "张山", "1", date(2025, 5, 20), "320505"
    )


def test_a_valid_id_without_hints_is_published_as_before() -> None:
    record, key, _, back = published("civil_affairs.enrolment", **{hint: None for hint in HINTS})
    assert record.warnings() == [] and key.decode() == back["person_key"] == PROTECTOR.person_key(ELDER_ID)
    assert {hint: back[hint] for hint in HINTS} == dict.fromkeys(HINTS)


def test_an_unknown_hinted_division_is_accepted_with_a_warning() -> None:
    record, *_ = published("civil_affairs.enrolment", resident_id=None, person_division="999999")
    assert sorted((w.field, w.rule) for w in record.warnings()) == [
        ("person_division", "division.unknown"), ("resident_id", "resident_id.missing")
    ]

