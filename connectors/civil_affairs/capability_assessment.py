"""The capability-assessment record: a resident's scores and level on a named assessment scale."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field, NonNegativeInt, model_validator
from pydantic_core import PydanticCustomError

from carehub import codes
from connectors.canonical import CreditCode, HintedPersonRecord, PastDate, code


class CapabilityAssessment(HintedPersonRecord):
    """Only GB/T 42195-2022 scores are checked against that standard; a record on another scale
    keeps its own level codes, which are never translated into GB/T 42195 levels."""

    topic: ClassVar[str] = "src.civil_affairs.capability_assessment.v1"
    schema_path: ClassVar[str] = "civil_affairs/capability_assessment.avsc"
    life_dates: ClassVar[tuple[str, ...]] = ("assessment_date",)

    assessment_date: PastDate
    scale_code: Annotated[str, code(codes.ASSESSMENT_SCALES, "capability.scale")]
    self_care_score: NonNegativeInt | None = None
    mobility_score: NonNegativeInt | None = None
    mental_score: NonNegativeInt | None = None
    perception_score: NonNegativeInt | None = None
    total_score: NonNegativeInt | None = None
    level: str
    coma: bool = False
    dementia: bool = False
    care_risk_events_30d: NonNegativeInt = 0
    assessor: Annotated[str, Field(min_length=1, max_length=64)]
    assessing_org_credit_code: CreditCode | None = None

    @model_validator(mode="after")
    def _level_fits_scale(self) -> CapabilityAssessment:
        levels = codes.ASSESSMENT_SCALES[self.scale_code]
        if self.level not in levels:
            raise PydanticCustomError(
                "capability.level", "not a level of {scale}; valid: {valid}", {"scale": self.scale_code, "valid": ", ".join(levels)}
            )
        if self.scale_code == codes.GB_T_42195:
            self._check_gb_t_42195()
        return self

    def _check_gb_t_42195(self) -> None:
        scores = {name: getattr(self, name) for name in codes.CAPABILITY_DIMENSIONS}
        for name, value in scores.items():
            if value is not None and value > codes.CAPABILITY_DIMENSIONS[name]:
                raise PydanticCustomError(
                    "capability.score_range", "{field} exceeds its maximum {maximum}",
                    {"field": name, "maximum": codes.CAPABILITY_DIMENSIONS[name]},
                )
        if self.total_score is None:
            raise PydanticCustomError("capability.total_missing", "GB/T 42195 assessments need total_score")
        if self.total_score > codes.CAPABILITY_TOTAL_MAX:
            raise PydanticCustomError("capability.score_range", "total_score exceeds 90")
        if None not in scores.values() and sum(scores.values()) != self.total_score:
            raise PydanticCustomError("capability.total_mismatch", "total_score is not the sum of the four dimensions")
        # Coma means level 4 outright; dementia and >= 2 care-risk events in 30 days each make the
        # level one worse. Whether the two stack is not settled, so any level between the score's
        # own level and the fully adjusted one is accepted.
        band = codes.band_for(codes.CAPABILITY_LEVELS, self.total_score)
        assert band is not None  # bands cover 0-90
        lowest = highest = int(band.code)
        if self.coma:
            lowest = highest = 4
        else:
            highest = min(4, lowest + self.dementia + (self.care_risk_events_30d >= 2))
        if not lowest <= int(self.level) <= highest:
            raise PydanticCustomError(
                "capability.level_mismatch", "level does not follow from total_score and the adjustments"
            )
