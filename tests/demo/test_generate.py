"""The generator is reproducible, the planted risk patterns are in the sources exactly as the manifest
says, and so is whose each row without a valid resident ID is."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, time
from pathlib import Path

from carehub import codes
from carehub.demo.generate import MANIFEST, Generated, generate
from carehub.demo.noise import Noise
from carehub.demo.region import build_region
from carehub.demo.risks import planted
from carehub.demo.services import ALLOWANCE_AGE, CONSISTENT_SELF_CARE
from carehub.identifiers.resident_id import ResidentId
from connectors.canonical import HintedPersonRecord
from connectors.records import RECORD_TYPES
from connectors.sdk.config import ConnectorConfig
from tests.demo.conftest import PERSONS, SEED, canonical, file_fingerprints

HINTED = sorted(name for name, t in RECORD_TYPES.items() if issubclass(t, HintedPersonRecord))


def test_the_same_seed_writes_the_same_sources_and_another_seed_does_not(tmp_path: Path, generated: Generated) -> None:
    again = generate(tmp_path / "again", PERSONS, SEED)
    assert file_fingerprints(again.folder) == file_fingerprints(generated.folder)
    other = generate(tmp_path / "other", PERSONS, SEED + 1)
    assert file_fingerprints(other.folder)["manifest.json"] != file_fingerprints(generated.folder)["manifest.json"]


def test_the_manifest_is_written_beside_the_sources(generated: Generated) -> None:
    assert json.loads((generated.folder / MANIFEST).read_text(encoding="utf-8")) == generated.manifest


def test_every_pattern_is_planted_at_its_rate(generated: Generated) -> None:
    for name, pattern in generated.manifest["patterns"].items():
        assert pattern["planted"] > 0, name
        if name != "allowance_below_age":  # planted beside its base (lawful recipients), not inside it
            assert pattern["planted"] == planted(pattern["rate"], pattern["base"]), name


def _days(value: str) -> date:
    return date.fromisoformat(value[:10])


def _found(configs: dict[str, ConnectorConfig]) -> dict[str, int]:
    """Each risk pattern counted from the sources alone, as a reconciler would find it."""
    rows = {record: canonical(config) for record, config in configs.items()}
    died = {r["resident_id"]: _days(r["death_date"]) for r in rows["registry.death"]}
    after_death = lambda record, field: len({  # noqa: E731
        r["resident_id"] for r in rows[record] if r.get("resident_id") in died and _days(r[field]) > died[r["resident_id"]]})
    divisions = defaultdict(set)
    for r in rows["civil_affairs.enrolment"]:
        if r.get("resident_id"):
            divisions[r["resident_id"], r["service_item"]].add(r["enrol_division"])
    too_young = set()
    for r in rows["civil_affairs.subsidy_payment"]:
        if r.get("resident_id") and r["subsidy_type"] == "old_age_allowance":
            born, start = ResidentId(r["resident_id"]).birth_date, _days(r["period_start"])
            if start.year - born.year - ((start.month, start.day) < (born.month, born.day)) < ALLOWANCE_AGE:
                too_young.add(r["resident_id"])
    levels = defaultdict(set)
    for r in rows["civil_affairs.capability_assessment"]:
        levels[r.get("resident_id")].add(int(r["level"]))
    inconsistent = {r["resident_id"] for r in rows["health.checkup"] if r.get("resident_id") in levels
                    and any(codes.band_for(codes.SELF_CARE_BANDS, int(r["self_care_total"])).code not in CONSISTENT_SELF_CARE[level]
                            for level in levels[r["resident_id"]])}
    visits = defaultdict(list)
    for r in rows["civil_affairs.service_record"]:
        start = time.fromisoformat(r["start_time"])
        minute = start.hour * 60 + start.minute
        visits[r["caregiver_resident_id"], r["service_date"]].append((minute, minute + int(r["duration_minutes"]), r["provider_credit_code"]))
    double_booked = sum(1 for day in visits.values() for i, a in enumerate(day) for b in day[i + 1:]
                        if a[2] != b[2] and a[0] < b[1] and b[0] < a[1])
    employers = defaultdict(set)
    for r in rows["civil_affairs.practitioner"]:
        employers[r["resident_id"]].add(r["employer_credit_code"])
    active = {r["credit_code"] for r in rows["civil_affairs.provider_registration"] if r["status"] == "active"}
    providers = {r["provider_credit_code"] for r in rows["civil_affairs.service_record"]}
    return {
        "payment_after_death": after_death("civil_affairs.subsidy_payment", "period_start"),
        "service_after_death": after_death("civil_affairs.service_record", "service_date"),
        "checkup_after_death": after_death("health.checkup", "check_date"),
        "double_enrolment": len({rid for (rid, _), where in divisions.items() if len(where) > 1}),
        "allowance_below_age": len(too_young),
        "capability_vs_self_care": len(inconsistent),
        "caregiver_double_booked": double_booked,
        "caregiver_several_employers": sum(len(e) > 1 for e in employers.values()),
        "institution_unregistered": len(providers - active),
        "institution_over_capacity": sum(int(r["residents"]) > int(r["beds"]) for r in rows["civil_affairs.institution"]),
    }


def test_the_sources_hold_exactly_the_planted_patterns(generated: Generated, configs: dict[str, ConnectorConfig]) -> None:
    assert _found(configs) == {name: p["planted"] for name, p in generated.manifest["patterns"].items()}


def test_the_manifest_says_whose_each_row_without_a_valid_id_is_and_holds_no_plaintext_id(
    generated: Generated, configs: dict[str, ConnectorConfig],
) -> None:
    manifest = generated.manifest
    region = build_region(PERSONS, SEED, date.fromisoformat(manifest["today"]))
    unidentified = manifest["unidentified"]
    assert {record: len(rows) for record, rows in unidentified.items()} == {
        record: sum(rules.values()) for record, rules in manifest["expected_warnings"].items()
    }
    assert set(unidentified) == set(HINTED)  # every source with unreliable IDs has some
    for record, owners in unidentified.items():
        rows = {r["source_record_id"]: r for r in canonical(configs[record])}
        for source_id, index in owners.items():
            elder, row = region.elders[index], rows[source_id]
            assert row.get("resident_id") != elder.rid
            assert (row["person_sex"], row["person_birth_date"]) == (elder.sex, elder.birth.isoformat())
            assert _differing_characters(row["person_name"], elder.name) <= 1  # at most a typo
    text = (generated.folder / MANIFEST).read_text(encoding="utf-8")
    assert not [e for e in region.elders if e.rid[:14] in text]


def test_typos_and_birth_conflicts_reach_the_identity_hints(generated: Generated, configs: dict[str, ConnectorConfig]) -> None:
    region = build_region(PERSONS, SEED, date.fromisoformat(generated.manifest["today"]))
    elders = {e.rid: e for e in region.elders}
    noise = Noise()
    for record in HINTED:
        rows = [r for r in canonical(configs[record]) if r.get("resident_id") in elders]
        typos = sum(r["person_name"] != elders[r["resident_id"]].name for r in rows)
        shifted = sum(r["person_birth_date"] != elders[r["resident_id"]].birth.isoformat() for r in rows)
        assert typos <= 3 * noise.typo * len(rows) and shifted <= 3 * noise.birth_conflict * len(rows), record
        if len(rows) > 1000:
            assert typos > 0 and shifted > 0, record


def _differing_characters(a: str, b: str) -> int:
    return sum(x != y for x, y in zip(a, b, strict=True))
