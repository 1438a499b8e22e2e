"""What a risk warning (风险预警) is, and the catalogue of rules that raise one."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import NamedTuple

from consumers.views import SourceRef


class Rule(NamedTuple):
    """A risk rule as supervisors and `carehub` list it: whom it concerns and what it finds."""

    subject: str  # "elder" | "practitioner" | "institution"
    description: str  # "<中文 English term>: <what it finds>"

    @property
    def term(self) -> str:
        """The rule's name for people: Chinese term and English, as alert details begin."""
        return self.description.split(": ", 1)[0]


RULES: Mapping[str, Rule] = MappingProxyType({
    "payment_after_death": Rule(
        "elder", "身故后发放补贴 payment after death: a subsidy paid for a period that starts after the registry's death date"),
    "service_after_death": Rule(
        "elder", "身故后服务记录 service after death: a home-care service recorded after the registry's death date"),
    "checkup_after_death": Rule(
        "elder", "身故后体检记录 check-up after death: a health check-up dated after the registry's death date"),
    "double_enrolment": Rule(
        "elder", "重复享受 double enrolment: the same service-list item enrolled in two divisions for overlapping periods"),
    "allowance_below_age": Rule(
        "elder", "未达年龄领取高龄津贴 allowance below age: an old-age allowance paid for a period that starts "
                 "before the recipient reached the threshold age"),
    "capability_vs_self_care": Rule(
        "elder", "能力等级与自理评估不符 capability vs self-care: the latest capability level disagrees with the "
                 "self-care band of the health check-up nearest to it in time"),
    "caregiver_double_booked": Rule(
        "practitioner", "护理员分身服务 caregiver double-booked: service records of one caregiver at two providers "
                        "overlapping in time"),
    "caregiver_several_employers": Rule(
        "practitioner", "多处执业 / 挂证 several employers: a caregiver employed by several providers in overlapping "
                        "periods (certificate lending)"),
    "institution_unregistered": Rule(
        "institution", "无有效登记提供补贴服务 unregistered provider: subsidised services delivered on days without an "
                       "active registration"),
    "institution_over_capacity": Rule(
        "institution", "超床位收住 over capacity: more residents than beds in the latest institution record"),
})


@dataclass(frozen=True)
class Alert:
    """One risk warning about one elder, caregiver or provider, with the records that prove it.

    `evidence` is kept sorted and without repeats, so equal findings are equal alerts. `detail`
    is one line for a supervisor: Chinese term and English, never a resident ID."""

    rule: str
    subject: str
    subject_key: str  # person key or credit code
    evidence: tuple[SourceRef, ...]
    amount_at_risk: Decimal | None  # yuan
    detail: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "evidence", tuple(sorted(set(self.evidence))))

    @property
    def alert_id(self) -> str:
        """The same rule, subject and evidence always give the same id, on every machine."""
        parts = [self.rule, self.subject_key, *(f"{r.topic}\x1e{r.source_system}\x1e{r.source_record_id}" for r in self.evidence)]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]

    def sort_key(self) -> tuple[str, str, tuple[SourceRef, ...]]:
        return self.rule, self.subject_key, self.evidence


def raise_alert(rule: str, subject_key: str, evidence: list[SourceRef], detail: str,
                amount_at_risk: Decimal | None = None) -> Alert:
    """An alert of a catalogued rule, its subject taken from the catalogue."""
    return Alert(rule, RULES[rule].subject, subject_key, tuple(evidence), amount_at_risk, detail)
