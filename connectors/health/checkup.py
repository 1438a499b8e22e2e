"""The elderly health-management record: one annual check of a resident aged 65+ (老年人健康管理)."""

from __future__ import annotations

import re
from typing import Annotated, ClassVar

from pydantic import AfterValidator, computed_field, model_validator
from pydantic_core import PydanticCustomError

from carehub import codes
from connectors.canonical import Codes, CreditCode, HintedPersonRecord, PastDate, code, measured, score

_HEALTH_RECORD_NO = re.compile(r"^\d{17}$")


def _health_record_no(value: str) -> str:
    if not _HEALTH_RECORD_NO.match(value):
        raise PydanticCustomError(
            "health_record_no.format", "must be 17 digits: county 6, township 3, village 3, sequence 5"
        )
    return value


Systolic = Annotated[int, measured("systolic")]
Diastolic = Annotated[int, measured("diastolic")]
Vision = Annotated[float, measured("vision")]
Lab = Annotated[float, measured("lab")]
ExamResult = Annotated[str, code(codes.EXAM_RESULTS, "exam_result.code")]


class Checkup(HintedPersonRecord):
    topic: ClassVar[str] = "src.health.checkup.v1"
    schema_path: ClassVar[str] = "health/checkup.avsc"
    life_dates: ClassVar[tuple[str, ...]] = ("check_date",)

    health_record_no: Annotated[str, AfterValidator(_health_record_no)]
    check_date: PastDate
    institution_credit_code: CreditCode | None = None
    # lifestyle and self-assessment
    self_rated_health: Annotated[int, code(codes.SELF_RATED_HEALTH, "self_rated_health.code")] | None = None
    exercise_frequency: Annotated[str, code(codes.EXERCISE_FREQUENCIES, "exercise.code")] | None = None
    diet: Annotated[list[Annotated[str, code(codes.DIET_HABITS, "diet.code")]], Codes] = []
    smoking_status: Annotated[str, code(codes.SMOKING_STATUSES, "smoking.code")] | None = None
    drinking_frequency: Annotated[str, code(codes.DRINKING_FREQUENCIES, "drinking.code")] | None = None
    cognition_screening: Annotated[str, code(codes.SCREENING_RESULTS, "screening.code")] | None = None
    mood_screening: Annotated[str, code(codes.SCREENING_RESULTS, "screening.code")] | None = None
    # physical examination
    temperature: Annotated[float, measured("temperature")] | None = None
    pulse: Annotated[int, measured("pulse")] | None = None
    respiration: Annotated[int, measured("respiration")] | None = None
    bp_left_systolic: Systolic | None = None
    bp_left_diastolic: Diastolic | None = None
    bp_right_systolic: Systolic | None = None
    bp_right_diastolic: Diastolic | None = None
    height: Annotated[float, measured("height")] | None = None
    weight: Annotated[float, measured("weight")] | None = None
    waist: Annotated[float, measured("waist")] | None = None
    bmi: Annotated[float, measured("bmi")] | None = None
    vision_left: Vision | None = None
    vision_right: Vision | None = None
    hearing: Annotated[str, code(codes.HEARING_RESULTS, "hearing.code")] | None = None
    movement: Annotated[str, code(codes.MOVEMENT_RESULTS, "movement.code")] | None = None
    # lab tests
    hemoglobin: Lab | None = None
    white_cell_count: Lab | None = None
    platelet_count: Lab | None = None
    urine_routine: ExamResult | None = None
    alt: Lab | None = None
    ast: Lab | None = None
    total_bilirubin: Lab | None = None
    serum_creatinine: Lab | None = None
    blood_urea: Lab | None = None
    fasting_glucose: Lab | None = None
    total_cholesterol: Lab | None = None
    triglycerides: Lab | None = None
    ldl_cholesterol: Lab | None = None
    hdl_cholesterol: Lab | None = None
    ecg: ExamResult | None = None
    abdominal_ultrasound: ExamResult | None = None
    # health guidance
    guidance_hypertension: bool = False
    guidance_diabetes: bool = False
    guidance_referral: bool = False
    guidance_vaccination: bool = False
    guidance_fall_prevention: bool = False
    # self-care ability (老年人生活自理能力评估表)
    self_care_eating: Annotated[int, score(codes.SELF_CARE_ITEMS["self_care_eating"])] | None = None
    self_care_washing: Annotated[int, score(codes.SELF_CARE_ITEMS["self_care_washing"])] | None = None
    self_care_dressing: Annotated[int, score(codes.SELF_CARE_ITEMS["self_care_dressing"])] | None = None
    self_care_toileting: Annotated[int, score(codes.SELF_CARE_ITEMS["self_care_toileting"])] | None = None
    self_care_moving: Annotated[int, score(codes.SELF_CARE_ITEMS["self_care_moving"])] | None = None
    self_care_total: Annotated[int, score(sum(codes.SELF_CARE_ITEMS.values()))] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Checkup:
        for side in ("left", "right"):
            systolic, diastolic = getattr(self, f"bp_{side}_systolic"), getattr(self, f"bp_{side}_diastolic")
            if systolic is not None and diastolic is not None and diastolic >= systolic:
                raise PydanticCustomError("blood_pressure.order", "{side} diastolic is not below systolic", {"side": side})
        items = [getattr(self, name) for name in codes.SELF_CARE_ITEMS]
        if self.self_care_total is not None and None not in items and sum(items) != self.self_care_total:
            raise PydanticCustomError("self_care.total_mismatch", "self_care_total is not the sum of the five items")
        return self

    @computed_field  # type: ignore[prop-decorator]
    @property
    def self_care_band(self) -> str | None:
        """The band of the self-care total (or of the items' sum when no total was given)."""
        items = [getattr(self, name) for name in codes.SELF_CARE_ITEMS]
        total = self.self_care_total if self.self_care_total is not None else (None if None in items else sum(items))
        band = None if total is None else codes.band_for(codes.SELF_CARE_BANDS, total)
        return band.code if band else None
