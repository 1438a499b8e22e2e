"""The risk rules as pure functions: one entity's view in, the alerts its source records support out.

Every function gives the same alerts, sorted, whatever the order of the records in the view:
each choice among records ("the latest", "the nearest") breaks ties by event time and source
reference. `today` is the day the rules judge on: a record dated after it (a payment scheduled, a
visit booked) is not a fact yet and counts for nothing."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import combinations
from typing import NamedTuple

from carehub import codes
from consumers.alerts.alert import RULES, Alert, raise_alert
from consumers.views import (
    ASSESSMENT,
    CHECKUP,
    ENROLMENT,
    INSTITUTION,
    PRACTITIONER,
    REGISTRATION,
    SERVICE,
    SUBSIDY,
    EntityView,
    PersonFacts,
    SourceRec,
    SourceRef,
)

Period = tuple[date, date]  # first and last day, both included


class _AfterDeath(NamedTuple):
    """A record type that must not be dated after its subject's death."""

    topic: str
    date_field: str
    records: str  # how the detail names the records and their dates
    amount_field: str | None = None


_AFTER_DEATH = {
    "payment_after_death": _AfterDeath(SUBSIDY, "period_start", "补贴发放 subsidy payment(s) for periods from", "amount"),
    "service_after_death": _AfterDeath(SERVICE, "service_date", "服务记录 service record(s) dated"),
    "checkup_after_death": _AfterDeath(CHECKUP, "check_date", "体检 check-up(s) dated"),
}


def person_alerts(view: EntityView, facts: PersonFacts, today: date) -> list[Alert]:
    """Risks of one elder: records after their death, double enrolment, an allowance paid below
    its age, a capability level the health record contradicts."""
    return _sorted([
        *_after_death(view, facts, today),
        *_double_enrolment(view, today),
        *_allowance_below_age(view, facts, today),
        *_capability_vs_self_care(view, today),
    ])


def caregiver_alerts(view: EntityView) -> list[Alert]:
    """Risks of one caregiver: at two providers at once, or employed by several at once."""
    return _sorted([*_double_booked(view), *_several_employers(view)])


def institution_alerts(view: EntityView, today: date) -> list[Alert]:
    """Risks of one provider: subsidised services without an active registration, more residents than beds."""
    return _sorted([*_unregistered(view, today), *_over_capacity(view)])


# person rules

def _after_death(view: EntityView, facts: PersonFacts, today: date) -> Iterator[Alert]:
    if facts.death_date is None:
        return
    for rule, kind in _AFTER_DEATH.items():
        late = [r for r in _dated(view, kind.topic, kind.date_field, today) if r.data[kind.date_field] > facts.death_date]
        if not late:
            continue
        amount = _total(late, kind.amount_field) if kind.amount_field else None
        detail = (f"{RULES[rule].term}: {len(late)} {kind.records} {_span(r.data[kind.date_field] for r in late)}, "
                  f"after the registered death on {facts.death_date}{_at_risk(amount)}")
        yield raise_alert(rule, view.key, [r.ref for r in late] + _refs(facts), detail, amount)


def _double_enrolment(view: EntityView, today: date) -> Iterator[Alert]:
    enrolments = sorted(_dated(view, ENROLMENT, "enrol_date", today), key=lambda r: (r.data["enrol_date"], r.ref))
    for first, second in combinations(enrolments, 2):
        a, b = first.data, second.data
        if a["service_item"] != b["service_item"] or a["enrol_division"] == b["enrol_division"]:
            continue
        if _overlap(_enrolled(first), _enrolled(second)):
            detail = (f"{RULES['double_enrolment'].term}: {_service_item(a['service_item'])} enrolled in "
                      f"{a['enrol_division']} from {a['enrol_date']} and in {b['enrol_division']} from {b['enrol_date']}")
            yield raise_alert("double_enrolment", view.key, [first.ref, second.ref], detail)


def _allowance_below_age(view: EntityView, facts: PersonFacts, today: date) -> Iterator[Alert]:
    born = facts.birth_date
    if born is None:
        return
    for subsidy_type, minimum in codes.SUBSIDY_MINIMUM_AGE.items():
        paid = [r for r in _dated(view, SUBSIDY, "period_start", today)
                if r.data["subsidy_type"] == subsidy_type and _age(born, r.data["period_start"]) < minimum]
        if not paid:
            continue
        item = codes.SUBSIDY_SERVICE_ITEMS[subsidy_type]
        enrolled = [r for r in _dated(view, ENROLMENT, "enrol_date", today)
                    if r.data["service_item"] == item and _age(born, r.data["enrol_date"]) < minimum]
        starts = [r.data["period_start"] for r in paid]
        amount = _total(paid, "amount")
        detail = (f"{RULES['allowance_below_age'].term}: {len(paid)} {codes.SUBSIDY_TYPES[subsidy_type]} payment(s) for "
                  f"periods from {_span(starts)}, at age {_age(born, min(starts))}, below {minimum}{_at_risk(amount)}")
        yield raise_alert("allowance_below_age", view.key, [r.ref for r in paid + enrolled], detail, amount)


def _capability_vs_self_care(view: EntityView, today: date) -> Iterator[Alert]:
    assessments = [r for r in _dated(view, ASSESSMENT, "assessment_date", today) if r.data["scale_code"] == codes.GB_T_42195]
    checkups = [r for r in _dated(view, CHECKUP, "check_date", today) if r.data.get("self_care_band") is not None]
    if not assessments or not checkups:
        return
    latest = max(assessments, key=lambda r: (r.data["assessment_date"], r.event_time, r.ref))
    assessed = latest.data["assessment_date"]
    # the nearest check-up in days; of two equally near, the later one
    nearest = min(checkups, key=lambda r: (abs((r.data["check_date"] - assessed).days), -r.data["check_date"].toordinal(), r.ref))
    level, band = latest.data["level"], nearest.data["self_care_band"]
    if band in codes.CAPABILITY_CONSISTENT_SELF_CARE[level]:
        return
    detail = (f"{RULES['capability_vs_self_care'].term}: level {level} "
              f"{codes.ASSESSMENT_SCALES[codes.GB_T_42195][level]} assessed on {assessed}, but self-care "
              f"{_label(codes.SELF_CARE_BANDS, band)} at the check-up of {nearest.data['check_date']}")
    yield raise_alert("capability_vs_self_care", view.key, [latest.ref, nearest.ref], detail)


# caregiver rules

def _double_booked(view: EntityView) -> Iterator[Alert]:
    visits = sorted(_visits(view), key=lambda v: (v[0], v[2].ref))
    for n, (start, end, first) in enumerate(visits):
        for later_start, later_end, second in visits[n + 1:]:
            if later_start >= end:
                break
            a, b = first.data["provider_credit_code"], second.data["provider_credit_code"]
            if a != b:
                detail = (f"{RULES['caregiver_double_booked'].term}: on {start.date()} {start:%H:%M}-{end:%H:%M} at {a} "
                          f"and {later_start:%H:%M}-{later_end:%H:%M} at {b}")
                yield raise_alert("caregiver_double_booked", view.key, [first.ref, second.ref], detail)


def _several_employers(view: EntityView) -> Iterator[Alert]:
    jobs = sorted((r for r in view.of(PRACTITIONER) if r.data.get("employer_credit_code")), key=lambda r: r.ref)
    lending = {}
    for first, second in combinations(jobs, 2):
        if first.data["employer_credit_code"] != second.data["employer_credit_code"] and _overlap(_employed(first), _employed(second)):
            lending.update({first.ref: first, second.ref: second})
    if not lending:
        return
    employers = sorted({r.data["employer_credit_code"] for r in lending.values()})
    detail = f"{RULES['caregiver_several_employers'].term}: employed at once by {len(employers)} providers: {', '.join(employers)}"
    yield raise_alert("caregiver_several_employers", view.key, list(lending), detail)


# institution rules

def _unregistered(view: EntityView, today: date) -> Iterator[Alert]:
    registrations = _dated(view, REGISTRATION, "registered_date", today)
    periods = [_registered(r) for r in registrations]
    unregistered = [r for r in _dated(view, SERVICE, "service_date", today)
                    if r.data["service_item"] in codes.SUBSIDISED_SERVICE_CATEGORIES
                    and not any(first <= r.data["service_date"] <= last for first, last in periods)]
    if not unregistered:
        return
    standing = "; ".join(
        f"{codes.REGISTRATION_STATUSES.get(r.data['status'], r.data['status'])} registered {r.data['registered_date']}"
        + (f", ended {r.data['cancelled_date']}" if r.data.get("cancelled_date") else "")
        for r in sorted(registrations, key=lambda r: (r.data["registered_date"], r.ref))
    ) or "in no register"
    detail = (f"{RULES['institution_unregistered'].term}: {len(unregistered)} subsidised service(s) dated "
              f"{_span(r.data['service_date'] for r in unregistered)}; registration: {standing}")
    yield raise_alert("institution_unregistered", view.key, [r.ref for r in registrations + unregistered], detail)


def _over_capacity(view: EntityView) -> Iterator[Alert]:
    latest = max(view.of(INSTITUTION), key=lambda r: (r.event_time, r.ref), default=None)
    if latest is None:
        return
    beds, residents = latest.data.get("beds"), latest.data.get("residents")
    if beds is None or residents is None or residents <= beds:
        return
    detail = f"{RULES['institution_over_capacity'].term}: {residents} residents in {beds} beds at {latest.data.get('name', view.key)}"
    yield raise_alert("institution_over_capacity", view.key, [latest.ref], detail)


# the records' dates, periods and amounts

def _dated(view: EntityView, topic: str, field: str, today: date) -> list[SourceRec]:
    """The topic's records whose `field` is known and not after `today`, in one fixed order."""
    return sorted((r for r in view.of(topic) if r.data.get(field) is not None and r.data[field] <= today),
                  key=lambda r: (r.event_time, r.ref))


def _age(born: date, day: date) -> int:
    """Full years on `day`; someone born on 29 February has a birthday on 1 March in other years."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _overlap(a: Period, b: Period) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def _enrolled(enrolment: SourceRec) -> Period:
    return enrolment.data["enrol_date"], enrolment.data.get("end_date") or date.max


def _employed(job: SourceRec) -> Period:
    return job.data.get("employment_start") or date.min, job.data.get("employment_end") or date.max


def _registered(registration: SourceRec) -> Period:
    """Days on which a registration was in force: from registration to the day before its
    cancellation; a registration cancelled or revoked on an unknown day proves no day at all."""
    first, cancelled = registration.data["registered_date"], registration.data.get("cancelled_date")
    if cancelled is not None:
        return first, cancelled - timedelta(days=1)
    return (first, date.max) if registration.data["status"] in codes.OPERATING_REGISTRATION_STATUSES else (first, date.min)


def _visits(view: EntityView) -> Iterator[tuple[datetime, datetime, SourceRec]]:
    """Service records with a start time, as (start, end, record) in local time."""
    for r in view.of(SERVICE):
        if r.data.get("start_time") is not None:
            start = datetime.combine(r.data["service_date"], r.data["start_time"])
            yield start, start + timedelta(minutes=r.data["duration_minutes"]), r


def _total(records: list[SourceRec], field: str) -> Decimal:
    return sum((r.data[field] for r in records), Decimal(0))


def _refs(facts: PersonFacts) -> list[SourceRef]:
    return [facts.death_ref] if facts.death_ref is not None else []


def _span(days: Iterable[date]) -> str:
    ordered = sorted(days)
    return str(ordered[0]) if ordered[0] == ordered[-1] else f"{ordered[0]} to {ordered[-1]}"


def _at_risk(amount: Decimal | None) -> str:
    return "" if amount is None else f"; {amount:.2f} 元 yuan at risk"


def _service_item(item: str) -> str:
    return codes.SERVICE_LIST_ITEMS.get(item, ("", item))[1]


def _label(bands: tuple[codes.Band, ...], code: str) -> str:
    return next((b.label for b in bands if b.code == code), code)


def _sorted(alerts: list[Alert]) -> list[Alert]:
    return sorted(alerts, key=Alert.sort_key)
