"""Every record type: a valid row validates, protects its IDs and survives Avro write and read."""

from datetime import UTC, date, datetime, time
from decimal import Decimal
from io import BytesIO

import pytest
from fastavro import parse_schema, schemaless_reader, schemaless_writer

from carehub.avro import load_schema
from carehub.pii import Protector
from connectors.canonical import HintedPersonRecord
from connectors.records import RECORD_TYPES
from connectors.sdk.record import Envelope
from tests.records.samples import CAREGIVER_ID, CARE_HOME, ELDER_ID, HINTS, sample

PROTECTOR = Protector(b"s" * 40)
ENVELOPE = Envelope("pilot-source", "test-connector", datetime(2025, 6, 2, 8, 0, tzinfo=UTC))


def round_trip(name: str, **changes: object) -> tuple[bytes, dict]:
    """(Kafka key, record read back from Avro binary) of the sample row of `name`."""
    record_type = RECORD_TYPES[name]
    avro = record_type.model_validate(sample(name, **changes)).to_avro(PROTECTOR, ENVELOPE)
    schema = load_schema(record_type.schema_path)
    assert set(avro) == {f["name"] for f in schema["fields"]}
    parsed = parse_schema(schema)
    buf = BytesIO()
    schemaless_writer(buf, parsed, avro)
    assert ELDER_ID.encode() not in buf.getvalue() and CAREGIVER_ID.encode() not in buf.getvalue()
    return avro[record_type.key_field].encode(), schemaless_reader(BytesIO(buf.getvalue()), parsed, None)


@pytest.mark.parametrize("name", sorted(RECORD_TYPES))
def test_a_valid_row_round_trips_through_avro_keyed_by_person_or_credit_code(name: str) -> None:
    key, back = round_trip(name)
    assert back["source_record_id"] == "r-1" and back["connector"] == "test-connector"
    if RECORD_TYPES[name].key_field == "person_key":
        resident = CAREGIVER_ID if name == "civil_affairs.practitioner" else ELDER_ID
        assert key.decode() == back["person_key"] == PROTECTOR.person_key(resident)
        assert PROTECTOR.decrypt(back["resident_id_encrypted"]) == resident
        assert back["resident_id_masked"] == resident[:6] + "********" + resident[-4:]
        if issubclass(RECORD_TYPES[name], HintedPersonRecord):
            assert {hint: back[hint] for hint in HINTS} == {**HINTS, "person_birth_date": date(1949, 12, 31)}
    else:
        assert key.decode() == back["credit_code"] == CARE_HOME


def test_money_dates_and_times_keep_their_values() -> None:
    _, payment = round_trip("civil_affairs.subsidy_payment", amount="1234.5")
    assert payment["amount"] == Decimal("1234.50") and payment["period_end"] == date(2025, 5, 31)
    _, service = round_trip("civil_affairs.service_record")
    assert service["start_time"] == time(9, 30) and service["duration_minutes"] == 60
    assert service["caregiver_person_key"] == PROTECTOR.person_key(CAREGIVER_ID)


def test_the_checkup_carries_the_self_care_band_of_its_total() -> None:
    _, checkup = round_trip("health.checkup")
    assert (checkup["self_care_total"], checkup["self_care_band"]) == (5, "mild")
    assert checkup["diet"] == ["balanced", "salty"] and checkup["guidance_hypertension"] is True
    _, unscored = round_trip("health.checkup", self_care_total="", self_care_moving="")
    assert unscored["self_care_band"] is None and unscored["hemoglobin"] == 130.0


def test_lists_and_nested_events_arrive_as_arrays() -> None:
    _, institution = round_trip("civil_affairs.institution")
    assert institution["services_offered"] == ["residential_care", "rehabilitation", "dementia_care"]
    assert institution["grade"] == 3
    _, practitioner = round_trip("civil_affairs.practitioner")
    assert practitioner["credit_events"] == [
        {"event_date": date(2023, 9, 10), "event_type": "commendation", "description": "优秀护理员"}
    ]


def test_optional_values_a_source_lacks_become_null() -> None:
    _, death = round_trip("registry.death", death_place=None, death_division="  ", certificate_no=None)
    assert (death["death_place"], death["death_division"], death["certificate_no"]) == (None, None, None)


def test_full_width_input_is_normalised() -> None:
    _, institution = round_trip(
        "civil_affairs.institution", credit_code=" " + CARE_HOME.lower().translate(str.maketrans("0123456789", "０１２３４５６７８９")), beds="１２０"
    )
    assert institution["credit_code"] == CARE_HOME and institution["beds"] == 120


def test_records_on_another_scale_keep_their_own_levels() -> None:
    _, assessment = round_trip(
        "civil_affairs.capability_assessment", scale_code="MZ/T 039-2013", level="3", total_score=None,
        self_care_score=None, mobility_score=None, mental_score=None, perception_score=None,
    )
    assert (assessment["scale_code"], assessment["level"], assessment["total_score"]) == ("MZ/T 039-2013", "3", None)
