"""Indicators of the pilot's closed loop (数据采集 → 信息分析 → 政策完善), by household division.

For each county: elders alive, the share with a health check this year, the share assessed and
their capability levels, subsidy coverage by type, the monthly visiting-care coverage of the
visiting-care target groups, and open alerts by rule (an elder's by household division, a provider's by its division, a
caregiver's under "unknown"). A summary of the datasets."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa

from carehub import codes
from consumers.datasets.care_service import care_service
from consumers.datasets.elder import elder
from consumers.datasets.health_record import health_record
from consumers.datasets.institution import institution
from consumers.findings import risk_alert

#: Target groups the 2022 visiting-care guidance asks to visit every month.
VISITING_GROUPS = frozenset({"living_alone", "empty_nest", "left_behind", "disabled", "severely_disabled", "special_family"})
VISIT_WINDOW = timedelta(days=31)
UNKNOWN_DIVISION = "unknown"


@dataclass
class DivisionIndicators:
    division: str
    elders_alive: int = 0
    checked_this_year: int = 0
    assessed: int = 0
    by_capability_level: Counter = field(default_factory=Counter)
    subsidised_by_type: Counter = field(default_factory=Counter)
    visiting_targets: int = 0
    visited_last_month: int = 0
    alerts_by_rule: Counter = field(default_factory=Counter)

    def share(self, count: int, of: int | None = None) -> float:
        base = self.elders_alive if of is None else of
        return round(count / base, 4) if base else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "division": self.division, "elders_alive": self.elders_alive,
            "health_check_this_year": self.share(self.checked_this_year),
            "assessed": self.share(self.assessed),
            "capability_levels": dict(sorted(self.by_capability_level.items())),
            "subsidy_coverage": {t: self.share(self.subsidised_by_type[t]) for t in codes.SUBSIDY_TYPES},
            "visiting_targets": self.visiting_targets,
            "visiting_coverage_last_month": self.share(self.visited_last_month, self.visiting_targets),
            "alerts_by_rule": dict(sorted(self.alerts_by_rule.items())),
        }


def indicators(conn: sa.Connection, today: date) -> list[DivisionIndicators]:
    by_division: dict[str, DivisionIndicators] = {}
    division_of: dict[str, str] = {}

    def of(division: str | None) -> DivisionIndicators:
        key = division or UNKNOWN_DIVISION
        return by_division.setdefault(key, DivisionIndicators(key))

    alive = set()
    for key, division in conn.execute(sa.select(elder.c.person_key, elder.c.household_division).where(elder.c.alive)):
        alive.add(key)
        division_of[key] = division or UNKNOWN_DIVISION
        of(division).elders_alive += 1
    for key, checked in conn.execute(sa.select(health_record.c.person_key, health_record.c.last_check_date)):
        if key in alive and checked and checked.year == today.year:
            of(division_of[key]).checked_this_year += 1
    rows = conn.execute(sa.select(care_service.c.person_key, care_service.c.capability_level, care_service.c.subsidies_by_type,
                                  care_service.c.target_groups, care_service.c.last_visit_date))
    for key, level, subsidies, groups, visited in rows:
        if key not in alive:
            continue
        summary = of(division_of[key])
        if level is not None:
            summary.assessed += 1
            summary.by_capability_level[level] += 1
        summary.subsidised_by_type.update(json.loads(subsidies).keys())
        if VISITING_GROUPS & set(json.loads(groups)):
            summary.visiting_targets += 1
            summary.visited_last_month += bool(visited and visited >= today - VISIT_WINDOW)
    division_of.update(conn.execute(sa.select(institution.c.credit_code, institution.c.division)).all())
    counted: defaultdict[str, Counter] = defaultdict(Counter)
    for rule, key in conn.execute(sa.select(risk_alert.c.rule, risk_alert.c.subject_key)):
        counted[division_of.get(key, UNKNOWN_DIVISION)][rule] += 1
    for division, rules in counted.items():
        of(None if division == UNKNOWN_DIVISION else division).alerts_by_rule.update(rules)
    return sorted(by_division.values(), key=lambda d: d.division)
