"""Each rule rejects under its own name without repeating a resident ID; unknown divisions warn."""

from datetime import date, timedelta

import pytest
from pydantic import ValidationError

from carehub.identifiers.resident_id import check_char
from connectors.sdk.record import Problem
from connectors.records import RECORD_TYPES
from tests.records.samples import CAREGIVER_ID, CARE_HOME, ELDER_ID, sample

TOMORROW = (date.today() + timedelta(days=1)).isoformat()
BAD_CHECKSUM_ID = ELDER_ID[:17] + "3"


def rejection(name: str, **changes: object) -> list[dict]:
    with pytest.raises(ValidationError) as caught:
        RECORD_TYPES[name].model_validate(sample(name, **changes))
    # the DLQ shows these, never the input: no message may repeat a resident ID
    errors = caught.value.errors(include_input=False, include_url=False)
    for error in errors:
        assert not any(rid[:14] in error["msg"] for rid in (ELDER_ID, CAREGIVER_ID, BAD_CHECKSUM_ID))
    return errors


@pytest.mark.parametrize(
    ("name", "changes", "rule"),
    [
        ("registry.death", {"resident_id": "1101051949"}, "resident_id.format"),
        ("registry.death", {"resident_id": BAD_CHECKSUM_ID}, "resident_id.checksum"),
        ("registry.death", {"resident_id": (b := "11010520990101002") + check_char(b)}, "resident_id.birth_date"),
        ("civil_affairs.service_record", {"caregiver_resident_id": CAREGIVER_ID[:17] + "0"}, "resident_id.checksum"),
        ("registry.person", {"birth_date": "1950-01-01"}, "birth_date.matches_id"),
        ("registry.person", {"sex": "男"}, "sex.code"),
        ("civil_affairs.institution", {"credit_code": CARE_HOME[:17]}, "credit_code.format"),
        ("civil_affairs.institution", {"credit_code": CARE_HOME[:17] + ("1" if CARE_HOME[17] != "1" else "2")}, "credit_code.checksum"),
        ("civil_affairs.service_record", {"provider_credit_code": "91350100M000100Y44"}, "credit_code.checksum"),
        ("civil_affairs.institution", {"division": "北京"}, "division.format"),
        ("registry.household_move", {"to_division": "11010"}, "division.format"),
        ("civil_affairs.subsidy_payment", {"amount": "-0.01"}, "amount.negative"),
        ("civil_affairs.subsidy_payment", {"amount": "10.005"}, "amount.precision"),
        ("civil_affairs.subsidy_payment", {"amount": "10000000000"}, "amount.precision"),
        ("civil_affairs.subsidy_payment", {"period_end": "2025-04-30"}, "date.order"),
        ("civil_affairs.subsidy_payment", {"payment_date": "1948-01-01"}, "date.before_birth"),
        ("registry.death", {"death_date": TOMORROW}, "date.future"),
        ("civil_affairs.service_record", {"service_date": "1949-12-30"}, "date.before_birth"),
        ("civil_affairs.service_record", {"duration_minutes": "0"}, "measurement.range"),
        ("civil_affairs.service_record", {"service_item": "massage"}, "service_category.code"),
        ("health.family_doctor_contract", {"contract_end": "2024-12-31"}, "date.order"),
        ("civil_affairs.enrolment", {"service_item": "16"}, "service_item.code"),
        ("civil_affairs.enrolment", {"target_group": "独居"}, "target_group.code"),
        ("health.checkup", {"health_record_no": "1101050010020001"}, "health_record_no.format"),
        ("health.checkup", {"temperature": "60"}, "measurement.range"),
        ("health.checkup", {"bp_right_diastolic": "140"}, "blood_pressure.order"),
        ("health.checkup", {"self_care_eating": "6"}, "score.range"),
        ("health.checkup", {"self_care_total": "6"}, "self_care.total_mismatch"),
        ("health.checkup", {"self_rated_health": "6"}, "self_rated_health.code"),
        ("health.checkup", {"diet": "balanced,spicy"}, "diet.code"),
        ("health.checkup", {"check_date": "1949-06-01"}, "date.before_birth"),
        ("civil_affairs.capability_assessment", {"scale_code": "Barthel"}, "capability.scale"),
        ("civil_affairs.capability_assessment", {"level": "5"}, "capability.level"),
        ("civil_affairs.capability_assessment", {"mental_score": "29", "total_score": "69"}, "capability.score_range"),
        ("civil_affairs.capability_assessment", {"total_score": "61"}, "capability.total_mismatch"),
        ("civil_affairs.capability_assessment", {"total_score": None}, "capability.total_missing"),
        ("civil_affairs.capability_assessment", {"level": "1"}, "capability.level_mismatch"),
        ("civil_affairs.capability_assessment", {"level": "3"}, "capability.level_mismatch"),
        ("civil_affairs.institution", {"grade": "6"}, "institution_grade.code"),
        ("civil_affairs.institution", {"longitude": "10.5"}, "measurement.range"),
        ("civil_affairs.institution", {"institution_type": "养老院"}, "institution_type.code"),
        ("civil_affairs.institution", {"services_offered": "day_care;karaoke"}, "institution_service.code"),
        ("civil_affairs.inspection", {"quality_score": "1001"}, "score.range"),
        ("civil_affairs.inspection", {"safety_findings": "消防通道堵塞"}, "json_list.format"),
        ("civil_affairs.inspection", {"rectification_due": "2025-03-01"}, "date.order"),
        ("civil_affairs.practitioner", {"skill_level": "6"}, "skill_level.code"),
        ("civil_affairs.practitioner", {"credit_events": '[{"event_date": "2023-01-01", "event_type": "gossip"}]'}, "credit_event.code"),
        ("civil_affairs.practitioner", {"employment_end": "2020-01-01"}, "date.order"),
        ("civil_affairs.provider_registration", {"registering_system": "tax"}, "registering_system.code"),
        ("civil_affairs.provider_registration", {"status": "dormant"}, "registration_status.code"),
        ("civil_affairs.provider_registration", {"cancelled_date": "2010-01-01"}, "date.order"),
    ],
)
def test_a_broken_rule_rejects_the_row_under_its_name(name: str, changes: dict, rule: str) -> None:
    assert rule in [e["type"] for e in rejection(name, **changes)]


def test_a_missing_required_value_is_reported_as_missing() -> None:
    assert [(e["loc"], e["type"]) for e in rejection("civil_affairs.subsidy_payment", amount="  ")] == [
        (("amount",), "missing")
    ]


def test_code_errors_name_the_valid_codes() -> None:
    [error] = rejection("civil_affairs.subsidy_payment", subsidy_type="高龄")
    assert "old_age_allowance" in error["msg"] and "nursing" in error["msg"]


@pytest.mark.parametrize(
    ("changes", "accepted"),
    [
        ({"dementia": "true", "level": "3"}, True),  # one level worse than total 60 gives
        ({"care_risk_events_30d": "2", "level": "3"}, True),
        ({"care_risk_events_30d": "1", "level": "3"}, False),  # one event is not enough
        ({"coma": "true", "level": "4"}, True),
        ({"coma": "true", "level": "2"}, False),
    ],
)
def test_capability_level_adjustments_follow_gb_t_42195(changes: dict, accepted: bool) -> None:
    model = RECORD_TYPES["civil_affairs.capability_assessment"]
    if accepted:
        assert model.model_validate(sample("civil_affairs.capability_assessment", **changes)).level == changes["level"]
    else:
        assert "capability.level_mismatch" in [
            e["type"] for e in rejection("civil_affairs.capability_assessment", **changes)
        ]


def test_an_unknown_division_code_is_accepted_with_a_warning() -> None:
    move = RECORD_TYPES["registry.household_move"].model_validate(
        sample("registry.household_move", from_division="999999")
    )
    assert move.warnings() == [
        Problem("from_division", "division.unknown", "not a GB/T 2260 division code known to have existed")
    ]


def test_a_resident_id_with_an_unknown_address_code_is_accepted_with_a_warning() -> None:
    body = "999999" + ELDER_ID[6:17]
    death = RECORD_TYPES["registry.death"].model_validate(sample("registry.death", resident_id=body + check_char(body)))
    [notice] = death.warnings()
    assert (notice.field, notice.rule) == ("resident_id", "resident_id.address_unknown")
    assert body not in notice.message


@pytest.mark.parametrize("name", sorted(RECORD_TYPES))
def test_valid_samples_carry_no_warnings(name: str) -> None:
    assert RECORD_TYPES[name].model_validate(sample(name)).warnings() == []
