"""What happens to the region's elders: enrolments, assessments, payments, services, check-ups, contracts.

Rows are canonical field names to source text (dates ISO, `event_time` a datetime). Health and
civil-affairs rows also say who the elder is beside the ID (`hints`): name, sex, birth date and
household division, the columns their exports and APIs carry."""

from __future__ import annotations

import json
import random
from collections import defaultdict
from datetime import date, timedelta

from faker import Faker

from carehub import codes
from carehub.demo.region import Elder, Institution, Region, stamp

Row = dict[str, object]
Rows = dict[str, list[Row]]  # record type (registry.person …) → rows

PAID_ITEMS = {"03": "old_age_allowance", "04": "care_service", "05": "nursing"}
ALLOWANCE_AGE = 80  # 高龄津贴 threshold set locally; the pilot's is 80
MONTHS_PAID, SERVICE_DAYS, CHECKUP_YEARS = 6, 90, 2
HOME_SERVICE_KINDS = ("community_centre", "day_care", "medical_care")
#: Self-care bands (public-health form) a check-up may show for each GB/T 42195 level: what an
#: assessment and a check-up of the same elder agree on. Outside it is a risk, not an entry error.
CONSISTENT_SELF_CARE = {0: ("independent",), 1: ("independent", "mild"), 2: ("mild", "moderate"),
                        3: ("moderate", "dependent"), 4: ("dependent",)}
#: The register a provider is in, by the registering authority (first character of its credit code).
REGISTERS_BY_AUTHORITY = {"5": "social_organisation", "1": "public_institution", "9": "enterprise_credit"}
FINDINGS = ("消防通道堆放杂物", "灭火器过期未更换", "食品留样记录不全", "护理记录缺失", "床位扶手松动", "应急预案未演练")


def months_paid(today: date) -> list[tuple[date, date]]:
    """The last complete months: (first day, last day), oldest first."""
    months, first = [], today.replace(day=1)
    for _ in range(MONTHS_PAID):
        last = first - timedelta(days=1)
        first = last.replace(day=1)
        months.append((first, last))
    return months[::-1]


def split(total: int, maxima: list[int], rng: random.Random) -> list[int]:
    """`total` spread over items with the given maxima."""
    parts = [total * m // sum(maxima) for m in maxima]
    while sum(parts) < total:
        i = rng.choice([i for i, m in enumerate(maxima) if parts[i] < m])
        parts[i] += 1
    return parts


class Activity:
    """Builds the rows of every source record type from a region; `risks` adds more through it."""

    def __init__(self, region: Region, seed: int):
        self.region, self.today = region, region.today
        self.rng = random.Random(f"{seed}-activity")
        self.fake = Faker("zh_CN")
        self.fake.seed_instance(seed + 1)
        self.rows: Rows = defaultdict(list)
        self.enrolled: dict[str, list[Elder]] = defaultdict(list)  # service item → elders
        self.assessed: dict[str, int] = {}  # elder rid → level assessed
        self.checked: set[str] = set()
        self.booked: set[tuple[str, date, int]] = set()  # caregiver, day, hour
        self.providers = [i for i in region.institutions if i.kind in HOME_SERVICE_KINDS] or region.institutions
        self.staff: dict[str, list[str]] = defaultdict(list)
        for c in region.caregivers:
            self.staff[c.employer].append(c.rid)
        self.health_no = {e.rid: f"{e.division}{self.rng.randrange(1, 20):03d}{self.rng.randrange(1, 40):03d}{n:05d}"
                          for n, e in enumerate(region.elders)}

    @staticmethod
    def hints(e: Elder, day: date) -> Row:
        """The identity hints a health or civil-affairs source holds about `e` on `day`."""
        return {"person_name": e.name, "person_sex": e.sex, "person_birth_date": e.birth.isoformat(),
                "person_division": e.division_on(day)}

    def _add(self, record: str, prefix: str, day: date, row: Row) -> Row:
        row = {"source_record_id": f"{prefix}{len(self.rows[record]) + 1:07d}", **row,
               "event_time": stamp(self.rng, day, self.today)}
        self.rows[record].append(row)
        return row

    # the registry
    def registry(self) -> None:
        for e in self.region.elders:
            person = {"resident_id": e.rid, "name": e.name, "sex": e.sex, "birth_date": e.birth.isoformat(),
                      "household_division": e.division, "address": e.address, "event_time": e.registered}
            self.rows["registry.person"].append(person)
            if e.moved:
                moved, to = e.moved
                county = next(c for c in self.region.counties if c.code == to)
                self.rows["registry.person"].append({**person, "household_division": to, "address": e.address.replace(
                    next(c.name for c in self.region.counties if c.code == e.division), county.name),
                    "event_time": stamp(self.rng, moved, self.today)})
                self._add("registry.household_move", "M", moved, {"resident_id": e.rid, "from_division": e.division,
                                                                   "to_division": to, "move_date": moved.isoformat()})
            if e.died:
                self._add("registry.death", "D", e.died, {
                    "resident_id": e.rid, "death_date": e.died.isoformat(), "death_division": e.division_on(e.died),
                    "death_place": self.rng.choice(("家中", "苏州市立医院", "苏州大学附属第一医院", "养老机构")),
                    "certificate_no": f"K{e.division_on(e.died)}{self.rng.randrange(10**8):08d}"})

    # civil affairs: who is enrolled, assessed, paid and served
    def enrol(self, e: Elder, item: str, group: str, day: date, division: str | None = None) -> Row:
        self.enrolled[item].append(e)
        return self._add("civil_affairs.enrolment", "EN", day, {
            "resident_id": e.rid, **self.hints(e, day), "service_item": item, "target_group": group,
            "enrol_division": division or e.division_on(day), "enrol_date": day.isoformat()})

    def scores(self, level: int) -> Row:
        """GB/T 42195 dimension scores and total of an assessment at `level` (no adjustments)."""
        band = codes.CAPABILITY_LEVELS[level]
        total = self.rng.randint(band.low, band.high)
        parts = split(total, list(codes.CAPABILITY_DIMENSIONS.values()), self.rng)
        return {**{name: str(s) for name, s in zip(codes.CAPABILITY_DIMENSIONS, parts, strict=True)},
                "total_score": str(total), "level": str(level)}

    def assess(self, e: Elder, level: int, day: date) -> Row:
        self.assessed[e.rid] = level
        inst = self.rng.choice(self.providers)
        return self._add("civil_affairs.capability_assessment", "AS", day, {
            "resident_id": e.rid, **self.hints(e, day), "assessment_date": day.isoformat(), "scale_code": codes.GB_T_42195,
            **self.scores(level), "coma": "false", "dementia": "false",
            "care_risk_events_30d": "0", "assessor": self.fake.name(), "assessing_org_credit_code": inst.credit_code})

    def pay(self, e: Elder, item: str, first: date, last: date) -> Row:
        amount = {"03": 100 if e.age_on(first) < 90 else 300, "04": 300, "05": 500 if e.frailty < 4 else 800}[item]
        paid = min(last + timedelta(days=10), self.today - timedelta(days=1))
        return self._add("civil_affairs.subsidy_payment", "PAY", paid, {
            "resident_id": e.rid, **self.hints(e, first), "subsidy_type": PAID_ITEMS[item], "amount": f"{amount}.00",
            "period_start": first.isoformat(), "period_end": last.isoformat(), "payment_date": paid.isoformat(),
            "payer_division": e.division_on(first)})

    def serve(self, e: Elder, day: date, provider: Institution, caregiver: str, hour: int, minutes: int) -> Row:
        self.booked.add((caregiver, day, hour))
        item = self.rng.choice([s for s in provider.services if s in codes.SERVICE_CATEGORIES] or ["daily_living"])
        return self._add("civil_affairs.service_record", "SR", day, {
            "resident_id": e.rid, **self.hints(e, day), "service_item": item, "provider_credit_code": provider.credit_code,
            "caregiver_resident_id": caregiver, "service_date": day.isoformat(), "start_time": f"{hour:02d}:00",
            "duration_minutes": str(minutes)})

    def civil_affairs(self) -> None:
        window = self.today - timedelta(days=MONTHS_PAID * 31 + 31)
        for e in self.region.elders:
            eighty = date(e.birth.year + ALLOWANCE_AGE, e.birth.month, 28 if e.birth.month == 2 else e.birth.day)
            allowance_from = eighty + timedelta(days=self.rng.randrange(10, 60))
            if e.age_on(window) > ALLOWANCE_AGE and e.alive_on(allowance_from) and self.rng.random() < 0.9:
                self.enrol(e, "03", "very_old", allowance_from)
            if e.frailty >= 2 and self.rng.random() < 0.6:
                self._care(e, "04", "low_income" if self.rng.random() < 0.3 else "disabled", window)
            if e.frailty >= 3 and self.rng.random() < 0.7:
                self._care(e, "05", "severely_disabled" if e.frailty == 4 else "disabled", window)
            if e.alive_on(window) and self.rng.random() < 0.05:
                self.enrol(e, "13", self.rng.choice(("living_alone", "empty_nest")), window - timedelta(days=self.rng.randrange(30, 400)))
        for item in PAID_ITEMS:
            for e in self.enrolled[item]:
                for first, last in months_paid(self.today):
                    if e.alive_on(first) and first >= self.enrol_date(e, item):
                        self.pay(e, item, first, last)
        for e in self.enrolled["04"]:
            for _ in range(4):
                day = self.today - timedelta(days=self.rng.randrange(2, SERVICE_DAYS))
                if e.alive_on(day):
                    self.book(e, day)

    def _care(self, e: Elder, item: str, group: str, window: date) -> None:
        """Assessed first, then enrolled, as the care-service subsidies require."""
        enrolled = window - timedelta(days=self.rng.randrange(0, 40))
        if not e.alive_on(enrolled):
            return
        if e.rid not in self.assessed:
            self.assess(e, e.frailty, enrolled - timedelta(days=self.rng.randrange(20, 400)))
        self.enrol(e, item, group, enrolled)

    def enrol_date(self, e: Elder, item: str) -> date:
        return min(date.fromisoformat(str(r["enrol_date"])) for r in self.rows["civil_affairs.enrolment"]
                   if r["resident_id"] == e.rid and r["service_item"] == item)

    def book(self, e: Elder, day: date, exclude: str | None = None) -> Row | None:
        """A visit by a caregiver free at that hour; None when nobody is (the visit is not made)."""
        near = [p for p in self.providers if p.division == e.division_on(day) and p.credit_code != exclude]
        provider = self.rng.choice(near or [p for p in self.providers if p.credit_code != exclude])
        for hour in self.rng.sample(range(8, 18), 10):
            for caregiver in self.staff[provider.credit_code]:
                if (caregiver, day, hour) not in self.booked:
                    return self.serve(e, day, provider, caregiver, hour, self.rng.randrange(30, 56))
        return None

    def providers_and_staff(self) -> None:
        for i in self.region.institutions:
            self.rows["civil_affairs.institution"].append({
                "source_record_id": i.credit_code, "credit_code": i.credit_code, "name": i.name, "institution_type": i.kind,
                "division": i.division, "address": i.address, "longitude": str(i.longitude), "latitude": str(i.latitude),
                "beds": str(i.beds), "residents": str(i.residents), "grade": str(i.grade) if i.grade else None,
                "services_offered": "、".join(i.services), "event_time": stamp(self.rng, self.today - timedelta(days=30), self.today)})
            if i.registration:
                cancelled = i.registration != "active"
                self._add("civil_affairs.provider_registration", "REG", i.registered, {
                    "credit_code": i.credit_code, "name": i.name, "registering_system": REGISTERS_BY_AUTHORITY[i.credit_code[0]],
                    "status": i.registration, "registration_division": i.division, "registered_date": i.registered.isoformat(),
                    "cancelled_date": (self.today - timedelta(days=self.rng.randrange(30, 300))).isoformat() if cancelled else None})
            if i.kind in ("care_home", "medical_care"):
                for year in range(CHECKUP_YEARS):
                    day = self.today - timedelta(days=365 * year + self.rng.randrange(20, 330))
                    found = self.rng.sample(FINDINGS, self.rng.choice((0, 0, 1, 2)))
                    done = day + timedelta(days=20)
                    self._add("civil_affairs.inspection", "INS", day, {
                        "credit_code": i.credit_code, "inspection_date": day.isoformat(), "inspector_org": "苏州市民政局",
                        "quality_score": str(self.rng.randrange(500, 960)), "safety_findings": json.dumps(found, ensure_ascii=False),
                        "rectification_due": (day + timedelta(days=30)).isoformat() if found else None,
                        "rectification_done": done.isoformat() if found and done < self.today else None})
        for c in self.region.caregivers:
            for employer in (c.employer, *c.extra_employers):
                self.employ(c.rid, c.name, c.sex, c.skill, c.certificate, employer, c.start)

    def employ(self, rid: str, name: str, sex: str, skill: str, certificate: str, employer: str, start: date) -> Row:
        return self._add("civil_affairs.practitioner", "PR", start, {
            "resident_id": rid, "name": name, "sex": sex, "skill_level": skill, "certificate_no": certificate,
            "employer_credit_code": employer, "employment_start": start.isoformat()})

    # health: check-ups of the 65+ under health management, family-doctor contracts
    def checkup(self, e: Elder, day: date, band: str) -> Row:
        low, high = next((b.low, b.high) for b in codes.SELF_CARE_BANDS if b.code == band)
        total = self.rng.randint(low, high)
        items = split(total, list(codes.SELF_CARE_ITEMS.values()), self.rng)
        self.checked.add(e.rid)
        r, u = self.rng, self.rng.uniform
        systolic = r.randrange(105, 175)
        height, weight = round(u(148, 178), 1), round(u(42, 85), 1)
        org = r.choice(self.region.institutions)
        return self._add("health.checkup", "HC", day, {
            "resident_id": e.rid, **self.hints(e, day), "health_record_no": self.health_no[e.rid], "check_date": day.isoformat(),
            "institution_credit_code": org.credit_code,
            "self_rated_health": str(r.randint(1, 5)), "exercise_frequency": r.choice(list(codes.EXERCISE_FREQUENCIES)),
            "smoking_status": r.choice(list(codes.SMOKING_STATUSES)), "drinking_frequency": r.choice(list(codes.DRINKING_FREQUENCIES)),
            "cognition_screening": "positive" if r.random() < 0.08 else "negative",
            "mood_screening": "positive" if r.random() < 0.06 else "negative",
            "temperature": f"{u(36.0, 37.2):.1f}", "pulse": str(r.randrange(58, 96)), "respiration": str(r.randrange(14, 21)),
            "bp_left_systolic": str(systolic), "bp_left_diastolic": str(systolic - r.randrange(35, 60)),
            "bp_right_systolic": str(systolic + r.randrange(-6, 7)), "bp_right_diastolic": str(systolic - r.randrange(35, 60)),
            "height": str(height), "weight": str(weight), "waist": f"{u(68, 102):.0f}", "bmi": f"{weight / (height / 100) ** 2:.1f}",
            "vision_left": f"{u(0.3, 1.2):.1f}", "vision_right": f"{u(0.3, 1.2):.1f}",
            "hearing": "impaired" if r.random() < 0.15 else "heard", "movement": "unable" if e.frailty >= 3 else "able",
            "hemoglobin": str(r.randrange(105, 160)), "fasting_glucose": f"{u(4.2, 9.5):.1f}",
            "total_cholesterol": f"{u(3.5, 6.6):.2f}", "serum_creatinine": str(r.randrange(50, 115)),
            "ecg": "abnormal" if r.random() < 0.2 else "normal", "guidance_hypertension": "true" if systolic >= 140 else "false",
            "guidance_fall_prevention": "true" if e.frailty >= 2 else "false",
            **{name: str(v) for name, v in zip(codes.SELF_CARE_ITEMS, items, strict=True)}, "self_care_total": str(total)})

    def health(self) -> None:
        for e in self.region.elders:
            if e.age_on(self.today) >= 65 and self.rng.random() < 0.7:
                band = self.rng.choice(CONSISTENT_SELF_CARE[e.frailty])
                for year in range(CHECKUP_YEARS):
                    day = self.today - timedelta(days=365 * year + self.rng.randrange(10, 300))
                    if e.alive_on(day):
                        self.checkup(e, day, band)
            start = self.today - timedelta(days=self.rng.randrange(30, 700))
            if self.rng.random() < 0.5 and e.alive_on(start):
                team = self.rng.randrange(1, 30)
                org = self.region.institutions[team % len(self.region.institutions)]
                self._add("health.family_doctor_contract", "FD", start, {
                    "resident_id": e.rid, **self.hints(e, start), "team_code": f"{e.division}-T{team:02d}",
                    "team_name": f"家庭医生团队{team}", "doctor_name": self.fake.name(), "institution_credit_code": org.credit_code,
                    "contract_start": start.isoformat(), "contract_end": (start + timedelta(days=364)).isoformat(),
                    "service_package": self.rng.choice(("基础包", "高血压管理包", "糖尿病管理包", "失能老人上门包"))})


def activity(region: Region, seed: int) -> Activity:
    """The natural rows about elders: no risk pattern and no noise yet. Providers and caregivers
    are written by `providers_and_staff` once the risks are planted in them."""
    act = Activity(region, seed)
    act.registry()
    act.civil_affairs()
    act.health()
    return act

