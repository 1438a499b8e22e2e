"""One valid source row per record type, as a connector's mapping would hand it over."""

from __future__ import annotations

from carehub.identifiers.credit_code import check_char

ELDER_ID = "11010519491231002X"  # born 1949-12-31
CAREGIVER_ID = "330106196003151232"


def credit_code(first17: str) -> str:
    return first17 + check_char(first17)


CARE_HOME = credit_code("52110105MJ0000017")
HOSPITAL = credit_code("12330106470000001")
COMPANY = "91350100M000100Y43"  # a commonly cited real code

#: What a health or civil-affairs source says about the elder beside the ID: the identity hints.
HINTS = {"person_name": "张三", "person_sex": "2", "person_birth_date": "1949-12-31", "person_division": "110105"}

_ENVELOPE = {"source_record_id": "r-1", "source_version": "2025-06-01 10:00:00", "event_time": "2025-06-01T10:00:00"}

SAMPLES: dict[str, dict[str, object]] = {
    "registry.person": {
        "resident_id": ELDER_ID, "name": "张三", "sex": "1", "birth_date": "1949-12-31",
        "household_division": "110105", "address": "北京市朝阳区",
    },
    "registry.death": {
        "resident_id": ELDER_ID, "death_date": "2025-05-20", "death_place": "家中",
        "death_division": "110105", "certificate_no": "D110105202500123",
    },
    "registry.household_move": {
        "resident_id": ELDER_ID, "from_division": "110105", "to_division": "441900", "move_date": "2020-03-01",
    },
    "health.checkup": {
        "resident_id": ELDER_ID, **HINTS, "health_record_no": "11010500100200012", "check_date": "2025-04-10",
        "institution_credit_code": HOSPITAL, "self_rated_health": "2", "exercise_frequency": "daily",
        "diet": "balanced、salty", "smoking_status": "never", "drinking_frequency": "occasionally",
        "cognition_screening": "negative", "mood_screening": "negative", "temperature": "36.5", "pulse": "72",
        "respiration": "18", "bp_left_systolic": "138", "bp_left_diastolic": "86", "bp_right_systolic": "135",
        "bp_right_diastolic": "84", "height": "165", "weight": "62.5", "waist": "84", "bmi": "23.0",
        "vision_left": "4.8", "vision_right": "4.9", "hearing": "heard", "movement": "able", "hemoglobin": "130",
        "white_cell_count": "6.2", "platelet_count": "210", "urine_routine": "normal", "alt": "22", "ast": "25",
        "total_bilirubin": "12", "serum_creatinine": "80", "blood_urea": "5.1", "fasting_glucose": "6.4",
        "total_cholesterol": "5.2", "triglycerides": "1.6", "ldl_cholesterol": "3.1", "hdl_cholesterol": "1.2",
        "ecg": "normal", "abdominal_ultrasound": "abnormal", "guidance_hypertension": "true",
        "guidance_fall_prevention": "true", "self_care_eating": "0", "self_care_washing": "1",
        "self_care_dressing": "0", "self_care_toileting": "1", "self_care_moving": "3", "self_care_total": "5",
    },
    "health.family_doctor_contract": {
        "resident_id": ELDER_ID, **HINTS, "team_code": "T-0012", "team_name": "朝阳社区1团队", "doctor_name": "李医生",
        "institution_credit_code": HOSPITAL, "contract_start": "2025-01-01", "contract_end": "2025-12-31",
        "service_package": "老年人基础包",
    },
    "civil_affairs.enrolment": {
        "resident_id": ELDER_ID, **HINTS, "service_item": "03", "target_group": "very_old", "enrol_division": "110105",
        "enrol_date": "2024-01-01",
    },
    "civil_affairs.capability_assessment": {
        "resident_id": ELDER_ID, **HINTS, "assessment_date": "2025-03-02", "scale_code": "GB/T 42195-2022",
        "self_care_score": "20", "mobility_score": "10", "mental_score": "20", "perception_score": "10",
        "total_score": "60", "level": "2", "assessor": "王评估", "assessing_org_credit_code": CARE_HOME,
    },
    "civil_affairs.subsidy_payment": {
        "resident_id": ELDER_ID, **HINTS, "subsidy_type": "old_age_allowance", "amount": "300.00",
        "period_start": "2025-05-01", "period_end": "2025-05-31", "payment_date": "2025-06-05",
        "payer_division": "110105",
    },
    "civil_affairs.service_record": {
        "resident_id": ELDER_ID, **HINTS, "service_item": "daily_living", "provider_credit_code": CARE_HOME,
        "caregiver_resident_id": CAREGIVER_ID, "service_date": "2025-06-01", "start_time": "09:30",
        "duration_minutes": "60",
    },
    "civil_affairs.institution": {
        "credit_code": CARE_HOME, "name": "朝阳区康乐养老院", "institution_type": "care_home", "division": "110105",
        "address": "北京市朝阳区某路1号", "longitude": "116.44", "latitude": "39.92", "beds": "120",
        "residents": "95", "grade": "3", "services_offered": "residential_care,rehabilitation,dementia_care",
    },
    "civil_affairs.inspection": {
        "credit_code": CARE_HOME, "inspection_date": "2025-04-01", "inspector_org": "朝阳区民政局",
        "quality_score": "812", "safety_findings": '["消防通道堵塞"]', "rectification_due": "2025-05-01",
        "rectification_done": "2025-04-20",
    },
    "civil_affairs.practitioner": {
        "resident_id": CAREGIVER_ID, "name": "赵护理", "sex": "2", "skill_level": "4", "certificate_no": "S2021000123",
        "employer_credit_code": CARE_HOME, "employment_start": "2021-03-01",
        "credit_events": '[{"event_date": "2023-09-10", "event_type": "commendation", "description": "优秀护理员"}]',
    },
    "civil_affairs.provider_registration": {
        "credit_code": CARE_HOME, "name": "北京市朝阳区康乐养老院", "registering_system": "social_organisation",
        "status": "active", "registration_division": "110105", "registered_date": "2015-08-18",
    },
}


def sample(name: str, **changes: object) -> dict[str, object]:
    """The valid row of `name` with the envelope, some fields changed (None drops a field)."""
    row = {**_ENVELOPE, **SAMPLES[name], **changes}
    return {k: v for k, v in row.items() if v is not None}
