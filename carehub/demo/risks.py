"""Plant the risk patterns of DOMAIN.md at known rates and record where: the manifest to check against."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from carehub.demo.region import Elder
from carehub.demo.services import ALLOWANCE_AGE, CONSISTENT_SELF_CARE, MONTHS_PAID, PAID_ITEMS, Activity, Row, months_paid

DESCRIPTIONS = {
    "payment_after_death": "subsidy paid for a month starting after the registry's death date (deceased recipients)",
    "service_after_death": "home-care service recorded after the death date (deceased care-service recipients)",
    "checkup_after_death": "health check-up dated after the death date (deceased elders under health management)",
    "double_enrolment": "the same service item enrolled in two divisions (enrolled elders)",
    "allowance_below_age": f"old-age allowance paid below age {ALLOWANCE_AGE} (relative to the lawful recipients)",
    "capability_vs_self_care": "capability level inconsistent with the check-up's self-care band (elders with both)",
    "caregiver_double_booked": "a caregiver serving at two providers at the same hour (service records)",
    "caregiver_several_employers": "a caregiver employed by several providers at once (caregivers)",
    "institution_unregistered": "a provider of subsidised services without an active registration (providers)",
    "institution_over_capacity": "more residents than beds (residential institutions)",
}


@dataclass(frozen=True)
class Rates:
    """Share of each pattern's base that is planted; `DESCRIPTIONS` names the base."""

    payment_after_death: float = 0.3
    service_after_death: float = 0.3
    checkup_after_death: float = 0.3
    double_enrolment: float = 0.02
    allowance_below_age: float = 0.05
    capability_vs_self_care: float = 0.05
    caregiver_double_booked: float = 0.02
    caregiver_several_employers: float = 0.05
    institution_unregistered: float = 0.1
    institution_over_capacity: float = 0.1


def planted(rate: float, base: int) -> int:
    return round(rate * base)


class Planter:
    def __init__(self, act: Activity, rates: Rates, seed: int):
        self.act, self.rates, self.today = act, rates, act.today
        self.rng = random.Random(f"{seed}-risks")
        self.manifest: dict[str, dict[str, Any]] = {}

    def _choose(self, name: str, base: list) -> list:
        chosen = self.rng.sample(base, planted(getattr(self.rates, name), len(base)))
        self.manifest[name] = {"description": DESCRIPTIONS[name], "rate": getattr(self.rates, name),
                               "base": len(base), "planted": len(chosen), "records": []}
        return chosen

    def _mark(self, name: str, row: Row | None, ref: str | None = None) -> None:
        if row is not None:
            row["_planted"] = True  # noise never touches a planted row: the manifest stays exact
            self.manifest[name]["records"].append(ref or row["source_record_id"])

    def _after(self, day: date, low: int, high: int) -> date:
        return min(day + timedelta(days=self.rng.randrange(low, high)), self.today - timedelta(days=1))

    def after_death(self) -> None:
        elders = self.act.region.elders
        paid = {e.rid for item in PAID_ITEMS for e in self.act.enrolled[item]}
        for e in self._choose("payment_after_death", [e for e in elders if e.died and e.rid in paid]):
            item = next(i for i in PAID_ITEMS if e in self.act.enrolled[i])
            first = (e.died.replace(day=1) + timedelta(days=32)).replace(day=1)
            for _ in range(self.rng.randint(1, 3)):
                last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
                if last >= self.today:
                    break
                self._mark("payment_after_death", self.act.pay(e, item, first, last))
                first = last + timedelta(days=1)
        served = {e.rid for e in self.act.enrolled["04"]}
        for e in self._choose("service_after_death", [e for e in elders if e.died and e.rid in served]):
            self._mark("service_after_death", self.act.book(e, self._after(e.died, 1, 60)))
        for e in self._choose("checkup_after_death", [e for e in elders if e.died and e.rid in self.act.checked]):
            band = self.rng.choice(CONSISTENT_SELF_CARE[e.frailty])
            self._mark("checkup_after_death", self.act.checkup(e, self._after(e.died, 10, 100), band))

    def enrolments(self) -> None:
        rows = self.act.rows["civil_affairs.enrolment"]
        first_enrolment: dict[str, Row] = {}
        for row in rows:
            first_enrolment.setdefault(str(row["resident_id"]), row)
        elders = {e.rid: e for e in self.act.region.elders}
        for row in self._choose("double_enrolment", list(first_enrolment.values())):
            e = elders[str(row["resident_id"])]
            elsewhere = self.rng.choice([c.code for c in self.act.region.counties if c.code != row["enrol_division"]])
            day = self._after(date.fromisoformat(str(row["enrol_date"])), 0, 200)
            self._mark("double_enrolment", self.act.enrol(e, str(row["service_item"]), str(row["target_group"]),
                                                          min(day, e.died or day), elsewhere))
        window = months_paid(self.today)[0][0]
        lawful = self.act.enrolled["03"]
        too_young = [e for e in self.act.region.elders
                     if 70 <= e.age_on(window) < ALLOWANCE_AGE - 1 and e.died is None and e not in lawful]
        chosen = self.rng.sample(too_young, min(len(too_young), planted(self.rates.allowance_below_age, len(lawful))))
        self.manifest["allowance_below_age"] = {"description": DESCRIPTIONS["allowance_below_age"],
                                                "rate": self.rates.allowance_below_age, "base": len(lawful),
                                                "planted": len(chosen), "records": []}
        for e in chosen:
            self._mark("allowance_below_age", self.act.enrol(e, "03", "very_old", window - timedelta(days=self.rng.randrange(5, 90))))
            for first, last in months_paid(self.today)[-self.rng.randint(1, MONTHS_PAID):]:
                self._mark("allowance_below_age", self.act.pay(e, "03", first, last))

    def capability(self) -> None:
        both = [e for e in self.act.region.elders if e.rid in self.act.assessed and e.rid in self.act.checked]
        for e in self._choose("capability_vs_self_care", both):
            wrong = 0 if e.frailty >= 2 else 4
            for row in self.act.rows["civil_affairs.capability_assessment"]:
                if row["resident_id"] == e.rid:
                    row.update(self.act.scores(wrong))
                    self._mark("capability_vs_self_care", row)

    def caregivers(self) -> None:
        act = self.act
        alive: list[Elder] = [e for e in act.region.elders if e.died is None]
        for row in self._choose("caregiver_double_booked", list(act.rows["civil_affairs.service_record"])):
            provider = self.rng.choice([p for p in act.providers if p.credit_code != row["provider_credit_code"]])
            day = date.fromisoformat(str(row["service_date"]))
            self._mark("caregiver_double_booked", act.serve(
                self.rng.choice(alive), day, provider, str(row["caregiver_resident_id"]), int(str(row["start_time"])[:2]),
                int(str(row["duration_minutes"]))))
        institutions = act.region.institutions
        for c in self._choose("caregiver_several_employers", act.region.caregivers):
            others = [i.credit_code for i in institutions if i.credit_code != c.employer]
            c.extra_employers = self.rng.sample(others, min(len(others), self.rng.randint(1, 2)))
            self.manifest["caregiver_several_employers"]["records"].append(c.certificate)

    def institutions(self) -> None:
        providing = {row["provider_credit_code"] for row in self.act.rows["civil_affairs.service_record"]}
        institutions = self.act.region.institutions
        for i in self._choose("institution_unregistered", [i for i in institutions if i.credit_code in providing]):
            i.registration = self.rng.choice((None, "cancelled", "revoked"))
            self.manifest["institution_unregistered"]["records"].append(i.credit_code)
        for i in self._choose("institution_over_capacity", [i for i in institutions if i.kind in ("care_home", "medical_care")]):
            i.residents = i.beds + self.rng.randrange(5, 30)
            self.manifest["institution_over_capacity"]["records"].append(i.credit_code)


def plant(act: Activity, seed: int, rates: Rates = Rates()) -> dict[str, dict[str, Any]]:
    """Add the risk patterns to the rows (and to the providers and caregivers not yet written);
    returns per pattern its rate, base, how many were planted and the records that carry it."""
    planter = Planter(act, rates, seed)
    planter.after_death()
    planter.enrolments()
    planter.capability()
    planter.caregivers()
    planter.institutions()
    return planter.manifest

