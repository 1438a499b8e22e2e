"""The risk rules: each fires on its pattern and not on a near miss, ignores record order, and finds
exactly what the demo generator plants in a region, nothing in a clean one."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from io import BytesIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastavro import parse_schema, schemaless_reader, schemaless_writer
from hypothesis import given, settings
from hypothesis import strategies as st

from carehub.avro import load_schema
from carehub.demo.connectors import API_KEY_ENV, EXAMPLES, examples_folder, source_row, text
from carehub.demo.noise import Noise, add_noise
from carehub.demo.region import build_region
from carehub.demo.risks import Rates, plant
from carehub.demo.services import activity
from carehub.pii import Protector
from connectors.sdk.config import load_config
from connectors.sdk.pipeline import Rejected, process
from connectors.sdk.record import Envelope
from connectors.sdk.sources import SourceRow
from consumers.alerts import RULES, Alert, caregiver_alerts, institution_alerts, person_alerts
from consumers.views import (
    ASSESSMENT,
    CHECKUP,
    DEATH,
    ENROLMENT,
    INSPECTION,
    INSTITUTION,
    PERSON,
    PRACTITIONER,
    REGISTRATION,
    SERVICE,
    SUBSIDY,
    EntityView,
    PersonFacts,
    SourceRec,
    SourceRef,
)

TODAY = date(2025, 12, 31)
BORN = date(1945, 5, 10)  # 80 on 2025-05-10
DIED = date(2025, 2, 10)


def rec(topic: str, record_id: str, on: date, **data: Any) -> SourceRec:
    return SourceRec(SourceRef(topic, topic.split(".")[1], record_id), datetime.combine(on, time(9), UTC), data)


def view(kind: str, key: str, *records: SourceRec) -> EntityView:
    grouped: dict[str, list[SourceRec]] = defaultdict(list)
    for r in records:
        grouped[r.ref.topic].append(r)
    return EntityView(kind, key, {t: tuple(sorted(rs, key=lambda r: (r.event_time, r.ref))) for t, rs in grouped.items()})


def payment(record_id: str, start: date, amount: str = "100.00", subsidy_type: str = "care_service") -> SourceRec:
    end = (start.replace(day=1) + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return rec(SUBSIDY, record_id, end, subsidy_type=subsidy_type, amount=Decimal(amount), period_start=start,
               period_end=end, payment_date=end, payer_division="320505")


def allowance(record_id: str, start: date) -> SourceRec:
    return payment(record_id, start, subsidy_type="old_age_allowance")


def service(record_id: str, day: date, provider: str = "PROVIDER-A", start: str = "09:00", minutes: int = 45) -> SourceRec:
    return rec(SERVICE, record_id, day, service_item="daily_living", provider_credit_code=provider,
               caregiver_person_key="carer", service_date=day, start_time=time.fromisoformat(start), duration_minutes=minutes)


def checkup(record_id: str, day: date, band: str = "mild") -> SourceRec:
    return rec(CHECKUP, record_id, day, check_date=day, self_care_band=band)


def enrolment(record_id: str, item: str, division: str, start: date, end: date | None = None) -> SourceRec:
    return rec(ENROLMENT, record_id, start, service_item=item, target_group="very_old", enrol_division=division,
               enrol_date=start, end_date=end)


def assessment(record_id: str, day: date, level: str, scale: str = "GB/T 42195-2022") -> SourceRec:
    return rec(ASSESSMENT, record_id, day, assessment_date=day, scale_code=scale, level=level)


def job(record_id: str, employer: str, start: date, end: date | None = None) -> SourceRec:
    return rec(PRACTITIONER, record_id, start, employer_credit_code=employer, employment_start=start,
               employment_end=end, certificate_no="4-10-01-05-00000001")


def registration(record_id: str, status: str, registered: date, cancelled: date | None = None) -> SourceRec:
    return rec(REGISTRATION, record_id, registered, status=status, registered_date=registered, cancelled_date=cancelled)


def institution(record_id: str, on: date, beds: int, residents: int) -> SourceRec:
    return rec(INSTITUTION, record_id, on, name="苏州市姑苏区测试养老院", beds=beds, residents=residents)


DEATH_REC = rec(DEATH, "D1", DIED, death_date=DIED)
DEAD = PersonFacts(BORN, DIED, DEATH_REC.ref)
ALIVE = PersonFacts(BORN, None, None)


def elder(*records: SourceRec) -> EntityView:
    return view("person", "elder-key", *records)


def rules_of(alerts: list[Alert]) -> list[str]:
    return [a.rule for a in alerts]


# person rules

def test_payments_for_periods_after_death_are_summed_as_the_amount_at_risk() -> None:
    alerts = person_alerts(elder(DEATH_REC, payment("PAY1", date(2025, 2, 1)), payment("PAY2", date(2025, 3, 1), "300.00"),
                                 payment("PAY3", date(2025, 4, 1), "300.00")), DEAD, TODAY)
    assert rules_of(alerts) == ["payment_after_death"]
    assert alerts[0].amount_at_risk == Decimal("600.00")
    assert {r.source_record_id for r in alerts[0].evidence} == {"D1", "PAY2", "PAY3"}
    assert alerts[0].subject == "elder" and alerts[0].subject_key == "elder-key"
    assert "身故后发放补贴" in alerts[0].detail and "600.00" in alerts[0].detail


def test_a_period_starting_on_the_death_date_is_no_payment_after_death() -> None:
    assert person_alerts(elder(DEATH_REC, payment("PAY1", DIED)), DEAD, TODAY) == []


@pytest.mark.parametrize(("rule", "make"), [("service_after_death", service), ("checkup_after_death", checkup)])
def test_records_dated_after_death_are_caught_and_those_on_the_day_are_not(rule: str, make: Any) -> None:
    assert person_alerts(elder(DEATH_REC, make("R1", DIED)), DEAD, TODAY) == []
    alerts = person_alerts(elder(DEATH_REC, make("R1", DIED), make("R2", DIED + timedelta(days=1))), DEAD, TODAY)
    assert rules_of(alerts) == [rule]
    assert {r.source_record_id for r in alerts[0].evidence} == {"D1", "R2"} and alerts[0].amount_at_risk is None


def test_records_dated_after_today_are_not_facts_yet() -> None:
    booked = service("SR1", TODAY + timedelta(days=3))
    assert person_alerts(elder(DEATH_REC, booked), DEAD, TODAY) == []
    assert rules_of(person_alerts(elder(DEATH_REC, booked), DEAD, TODAY + timedelta(days=3))) == ["service_after_death"]


def test_nothing_is_after_death_while_the_registry_knows_no_death() -> None:
    assert person_alerts(elder(payment("PAY1", date(2025, 3, 1)), service("SR1", date(2025, 3, 2))), ALIVE, TODAY) == []


def test_the_same_item_enrolled_in_two_divisions_at_once_is_a_double_enrolment() -> None:
    alerts = person_alerts(elder(enrolment("EN1", "04", "320505", date(2024, 1, 1)),
                                 enrolment("EN2", "04", "320506", date(2024, 6, 1))), ALIVE, TODAY)
    assert rules_of(alerts) == ["double_enrolment"]
    assert [r.source_record_id for r in alerts[0].evidence] == ["EN1", "EN2"]
    assert "320505" in alerts[0].detail and "320506" in alerts[0].detail


@pytest.mark.parametrize("second", [
    enrolment("EN2", "04", "320506", date(2024, 6, 1)),  # the first ended the day before
    enrolment("EN2", "05", "320506", date(2024, 3, 1)),  # another item
    enrolment("EN2", "04", "320505", date(2024, 3, 1)),  # the same division
], ids=["consecutive", "other item", "same division"])
def test_near_misses_are_no_double_enrolment(second: SourceRec) -> None:
    first = enrolment("EN1", "04", "320505", date(2024, 1, 1), end=date(2024, 5, 31))
    assert person_alerts(elder(first, second), ALIVE, TODAY) == []


def test_an_allowance_for_a_period_starting_before_the_threshold_age_is_at_risk() -> None:
    alerts = person_alerts(elder(enrolment("EN1", "03", "320505", date(2025, 3, 1)),
                                 allowance("PAY1", date(2025, 5, 9)), allowance("PAY2", date(2025, 5, 10))), ALIVE, TODAY)
    assert rules_of(alerts) == ["allowance_below_age"]
    assert [r.source_record_id for r in alerts[0].evidence] == ["EN1", "PAY1"]
    assert alerts[0].amount_at_risk == Decimal("100.00")
    assert "age 79" in alerts[0].detail and "below 80" in alerts[0].detail


def test_an_allowance_from_the_birthday_on_and_other_subsidies_below_the_age_are_lawful() -> None:
    records = elder(enrolment("EN1", "03", "320505", date(2025, 5, 20)), allowance("PAY1", date(2025, 5, 10)),
                    payment("PAY2", date(2024, 1, 1)))
    assert person_alerts(records, ALIVE, TODAY) == []
    assert person_alerts(records, PersonFacts(None, None, None), TODAY) == []


def test_a_latest_capability_level_the_nearest_check_up_contradicts_is_caught() -> None:
    alerts = person_alerts(elder(assessment("AS1", date(2025, 1, 10), "4"), checkup("HC1", date(2024, 12, 1), "independent"),
                                 checkup("HC2", date(2023, 12, 1), "dependent")), ALIVE, TODAY)
    assert rules_of(alerts) == ["capability_vs_self_care"]
    assert [r.source_record_id for r in alerts[0].evidence] == ["AS1", "HC1"]
    assert "能力完全丧失" in alerts[0].detail and "可自理" in alerts[0].detail


def test_only_the_latest_level_and_the_nearest_check_up_count() -> None:
    records = elder(assessment("AS1", date(2022, 1, 10), "0"), assessment("AS2", date(2025, 1, 10), "1"),
                    checkup("HC1", date(2025, 2, 1), "mild"), checkup("HC2", date(2022, 2, 1), "dependent"),
                    assessment("AS3", date(2025, 6, 1), "4", scale="MZ/T 039-2013"))
    assert person_alerts(records, ALIVE, TODAY) == []


# caregiver rules

def caregiver(*records: SourceRec) -> EntityView:
    return view("caregiver", "carer", *records)


def test_a_caregiver_at_two_providers_at_overlapping_times_is_double_booked() -> None:
    day = date(2025, 6, 3)
    alerts = caregiver_alerts(caregiver(service("SR1", day, "PROVIDER-A", "09:00"), service("SR2", day, "PROVIDER-B", "09:30")))
    assert rules_of(alerts) == ["caregiver_double_booked"]
    assert [r.source_record_id for r in alerts[0].evidence] == ["SR1", "SR2"]
    assert alerts[0].subject == "practitioner" and "09:00-09:45" in alerts[0].detail


def test_back_to_back_visits_and_overlaps_at_one_provider_are_no_double_booking() -> None:
    day = date(2025, 6, 3)
    records = caregiver(service("SR1", day, "PROVIDER-A", "09:00"), service("SR2", day, "PROVIDER-B", "09:45"),
                        service("SR3", day, "PROVIDER-A", "09:00", minutes=30),
                        service("SR4", day + timedelta(days=1), "PROVIDER-B", "09:00"))
    assert caregiver_alerts(records) == []


def test_employment_by_several_providers_at_once_is_certificate_lending() -> None:
    alerts = caregiver_alerts(caregiver(job("PR1", "PROVIDER-A", date(2020, 1, 1)), job("PR2", "PROVIDER-B", date(2023, 1, 1)),
                                        job("PR3", "PROVIDER-C", date(2015, 1, 1), end=date(2019, 12, 31))))
    assert rules_of(alerts) == ["caregiver_several_employers"]
    assert [r.source_record_id for r in alerts[0].evidence] == ["PR1", "PR2"]
    assert "PROVIDER-A" in alerts[0].detail and "PROVIDER-C" not in alerts[0].detail


def test_consecutive_employers_are_no_certificate_lending() -> None:
    records = caregiver(job("PR1", "PROVIDER-A", date(2020, 1, 1), end=date(2022, 12, 31)), job("PR2", "PROVIDER-B", date(2023, 1, 1)),
                        job("PR3", "PROVIDER-B", date(2023, 1, 1)))
    assert caregiver_alerts(records) == []


# institution rules

def provider(*records: SourceRec) -> EntityView:
    return view("institution", "PROVIDER-A", *records)


def test_services_after_the_registration_was_cancelled_are_unregistered() -> None:
    cancelled = registration("REG1", "cancelled", date(2015, 1, 1), cancelled=date(2025, 6, 1))
    alerts = institution_alerts(provider(cancelled, service("SR1", date(2025, 5, 31)), service("SR2", date(2025, 6, 1))), TODAY)
    assert rules_of(alerts) == ["institution_unregistered"]
    assert [r.source_record_id for r in alerts[0].evidence] == ["REG1", "SR2"]
    assert alerts[0].subject == "institution" and "2025-06-01" in alerts[0].detail


def test_a_provider_in_no_register_is_unregistered_and_one_in_force_is_not() -> None:
    assert rules_of(institution_alerts(provider(service("SR1", date(2025, 5, 31))), TODAY)) == ["institution_unregistered"]
    in_force = provider(registration("REG1", "cancelled", date(2015, 1, 1), cancelled=date(2025, 6, 1)),
                        registration("REG2", "active", date(2025, 6, 1)), service("SR1", date(2025, 6, 1)))
    assert institution_alerts(in_force, TODAY) == []


def test_more_residents_than_beds_in_the_latest_record_is_over_capacity() -> None:
    alerts = institution_alerts(provider(registration("REG1", "active", date(2015, 1, 1)),
                                         institution("INST1", date(2025, 1, 1), beds=100, residents=101)), TODAY)
    assert rules_of(alerts) == ["institution_over_capacity"]
    assert "101 residents in 100 beds" in alerts[0].detail


def test_a_full_home_and_an_outdated_overfull_record_are_not_over_capacity() -> None:
    records = provider(registration("REG1", "active", date(2015, 1, 1)), institution("INST1", date(2024, 1, 1), beds=100, residents=130),
                       institution("INST2", date(2025, 1, 1), beds=120, residents=120))
    assert institution_alerts(records, TODAY) == []


# alerts as a whole

def test_the_alert_id_names_rule_subject_and_evidence_whatever_their_order() -> None:
    refs = (SourceRef(SUBSIDY, "civil_affairs", "PAY2"), SourceRef(SUBSIDY, "civil_affairs", "PAY1"))
    one = Alert("payment_after_death", "elder", "elder-key", refs, Decimal("1.00"), "x")
    assert one.alert_id == Alert("payment_after_death", "elder", "elder-key", refs[::-1], None, "y").alert_id
    assert one.alert_id != Alert("payment_after_death", "elder", "elder-key", refs[:1], None, "x").alert_id
    assert one.alert_id != Alert("payment_after_death", "elder", "other-key", refs, None, "x").alert_id


def test_every_rule_is_catalogued_with_its_subject_and_term() -> None:
    assert set(RULES) == {f.name for f in fields(Rates)}
    assert {rule.subject for rule in RULES.values()} == {"elder", "practitioner", "institution"}
    assert all(rule.term and rule.term != rule.description for rule in RULES.values())


BUSY_DAY = date(2025, 6, 3)
BUSY_ELDER = elder(
    DEATH_REC, *(allowance(f"PAY{n}", date(2025, n, 1)) for n in range(1, 7)), service("SR1", date(2025, 3, 1)),
    checkup("HC1", date(2025, 1, 1), "independent"), checkup("HC2", date(2025, 1, 21), "dependent"),
    checkup("HC3", date(2025, 1, 21), "mild"), checkup("HC4", date(2025, 3, 1), "mild"),
    assessment("AS1", date(2025, 1, 11), "4"), assessment("AS2", date(2025, 1, 11), "0"),  # ties: the reference decides
    enrolment("EN1", "03", "320505", date(2024, 1, 1)), enrolment("EN2", "03", "320506", date(2024, 2, 1)),
    enrolment("EN3", "03", "320507", date(2024, 1, 1)),
)
BUSY_CAREGIVER = caregiver(
    *(service(f"SR{n}", BUSY_DAY, f"PROVIDER-{'ABC'[n % 3]}", f"{9 + n // 3:02d}:{n % 3 * 20:02d}") for n in range(9)),
    job("PR1", "PROVIDER-A", date(2020, 1, 1)), job("PR2", "PROVIDER-B", date(2021, 1, 1)), job("PR3", "PROVIDER-A", date(2021, 1, 1)),
)
BUSY_PROVIDER = provider(
    registration("REG1", "cancelled", date(2015, 1, 1), date(2025, 4, 1)), registration("REG2", "revoked", date(2024, 1, 1)),
    *(service(f"SR{n}", date(2025, 3, 25) + timedelta(days=n)) for n in range(10)),
    institution("INST1", date(2025, 1, 1), 50, 40), institution("INST2", date(2025, 1, 1), 50, 60),  # the reference decides
)


def shuffled(entity: EntityView, rng: random.Random) -> EntityView:
    topics = list(entity.records.items())
    rng.shuffle(topics)
    return EntityView(entity.kind, entity.key, {t: tuple(rng.sample(list(rs), len(rs))) for t, rs in topics})


@settings(max_examples=60, deadline=None)
@given(st.randoms(use_true_random=False))
def test_shuffled_records_give_the_same_alerts(rng: random.Random) -> None:
    assert person_alerts(shuffled(BUSY_ELDER, rng), DEAD, TODAY) == person_alerts(BUSY_ELDER, DEAD, TODAY)
    assert caregiver_alerts(shuffled(BUSY_CAREGIVER, rng)) == caregiver_alerts(BUSY_CAREGIVER)
    assert institution_alerts(shuffled(BUSY_PROVIDER, rng), TODAY) == institution_alerts(BUSY_PROVIDER, TODAY)


def test_the_busy_views_raise_every_rule_of_their_subject() -> None:
    """Guards the order test: it compares alerts of every rule, not empty lists."""
    raised = {a.rule for a in [*person_alerts(BUSY_ELDER, DEAD, TODAY), *caregiver_alerts(BUSY_CAREGIVER),
                               *institution_alerts(BUSY_PROVIDER, TODAY)]}
    assert raised == set(RULES)


# the demo generator's regions

#: Topics whose records belong to each kind of view, with the field that holds the view's key.
VIEW_KEYS = {
    "person": {topic: "person_key" for topic in (PERSON, DEATH, CHECKUP, ENROLMENT, ASSESSMENT, SUBSIDY, SERVICE)},
    "caregiver": {PRACTITIONER: "person_key", SERVICE: "caregiver_person_key"},
    "institution": {INSTITUTION: "credit_code", REGISTRATION: "credit_code", INSPECTION: "credit_code",
                    SERVICE: "provider_credit_code"},
}
REGION_DAY = date(2025, 6, 30)
#: More providers planted than by default, so that a small region has some of each pattern.
RICH = Rates(service_after_death=0.6, institution_unregistered=0.5, institution_over_capacity=0.5)
CLEAN = Rates(**{f.name: 0.0 for f in fields(Rates)})


@dataclass(frozen=True)
class Region:
    manifest: dict[str, dict[str, Any]]
    alerts: list[Alert]
    data: dict[SourceRef, dict[str, Any]]
    resident_ids: set[str]


def published(rows: dict[str, list[dict[str, Any]]]) -> Iterable[dict[str, Any]]:
    """The demo's rows as a reconciler decodes them: through each example connector's mapping,
    validation and PII protection, then Avro-encoded and decoded; rejected rows are left out."""
    protector = Protector(b"alert rules test secret")
    for record, name in EXAMPLES.items():
        config = load_config(examples_folder() / name, {API_KEY_ENV: "unused"})
        schema = parse_schema(load_schema(config.record_type.schema_path))
        envelope = Envelope(config.source_system, config.name, datetime.now(UTC), ZoneInfo(config.timezone))
        for n, row in enumerate(rows.get(record, [])):
            columns = source_row({"source_record_id": f"{record}-{n}", **row}, config)
            try:
                avro = process(SourceRow(f"{record}:{n}", {c: text(v) for c, v in columns.items()}), config, protector, envelope)
            except Rejected:
                continue
            buffer = BytesIO()
            schemaless_writer(buffer, schema, avro.record)
            buffer.seek(0)
            yield {"topic": config.target_topic, **schemaless_reader(buffer, schema)}


def region(persons: int, seed: int, rates: Rates, noise: Noise | None = None) -> Region:
    act = activity(build_region(persons, seed, REGION_DAY), seed)
    manifest = plant(act, seed, rates)
    act.providers_and_staff()
    if noise is not None:
        add_noise(act.rows, seed, noise)
    grouped: dict[tuple[str, str], dict[str, list[SourceRec]]] = defaultdict(lambda: defaultdict(list))
    data = {}
    for decoded in published(act.rows):
        topic = decoded.pop("topic")
        found = SourceRec(SourceRef(topic, decoded["source_system"], decoded["source_record_id"]), decoded["event_time"], decoded)
        data[found.ref] = decoded
        for kind, keys in VIEW_KEYS.items():
            if topic in keys and decoded.get(keys[topic]):
                grouped[kind, decoded[keys[topic]]][topic].append(found)
    alerts = []
    for (kind, key), records in grouped.items():
        entity = EntityView(kind, key, {t: tuple(sorted(rs, key=lambda r: (r.event_time, r.ref))) for t, rs in records.items()})
        if kind == "person":
            alerts += person_alerts(entity, facts(entity), REGION_DAY)
        elif kind == "caregiver":
            alerts += caregiver_alerts(entity)
        else:
            alerts += institution_alerts(entity, REGION_DAY)
    resident_ids = {str(r["resident_id"]) for rs in act.rows.values() for r in rs if r.get("resident_id")}
    return Region(manifest, alerts, data, resident_ids)


def facts(person: EntityView) -> PersonFacts:
    """What the elder dataset would decide: the latest registry birth date, the registered death."""
    registered, death = person.latest(PERSON), person.latest(DEATH)
    return PersonFacts(registered.data["birth_date"] if registered else None,
                       death.data["death_date"] if death else None, death.ref if death else None)


def found_as_the_manifest_names_it(rule: str, alert: Alert, data: dict[SourceRef, dict[str, Any]]) -> set[str]:
    """What an alert points at, in the manifest's terms: providers by credit code, lent
    certificates by number, every other pattern by its source records."""
    if RULES[rule].subject == "institution":
        return {alert.subject_key}
    if rule == "caregiver_several_employers":
        return {data[ref]["certificate_no"] for ref in alert.evidence}
    return {ref.source_record_id for ref in alert.evidence}


@pytest.fixture(scope="module")
def planted_region() -> Region:
    return region(1200, 7, RICH)


def test_the_rules_find_exactly_the_planted_patterns(planted_region: Region) -> None:
    by_rule = defaultdict(list)
    for alert in planted_region.alerts:
        by_rule[alert.rule].append(alert)
    for rule, pattern in planted_region.manifest.items():
        planted = set(pattern["records"])
        assert planted, f"{rule}: the region is too small to plant it"
        pointed = [found_as_the_manifest_names_it(rule, a, planted_region.data) for a in by_rule[rule]]
        assert planted <= set().union(*pointed), f"{rule} missed {sorted(planted - set().union(*pointed))}"
        assert all(p & planted for p in pointed), f"{rule} raised an alert on no planted record"
        assert len(pointed) == pattern["planted"], f"{rule}: one alert per planted case"
    assert set(by_rule) == set(RULES)


def test_alerts_carry_no_resident_id(planted_region: Region) -> None:
    details = "\n".join(a.detail for a in planted_region.alerts)
    assert "****" not in details
    assert not any(rid in details for rid in planted_region.resident_ids)


def test_a_region_without_planted_patterns_raises_nothing() -> None:
    assert region(1200, 7, CLEAN).alerts == []


def test_damaged_exports_raise_no_false_alert() -> None:
    """Noise rejects some rows (so a pattern can lose its counterpart) but never invents one."""
    noisy = region(1200, 7, RICH, Noise())
    for alert in noisy.alerts:
        assert found_as_the_manifest_names_it(alert.rule, alert, noisy.data) & set(noisy.manifest[alert.rule]["records"]), alert
