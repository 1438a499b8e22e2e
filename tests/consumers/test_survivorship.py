"""Survivorship: the trusted source's value wins, then the latest event time, never arrival order."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hypothesis import given
from hypothesis import strategies as st

from consumers.datasets.elder import build_elder, identity_conflicts
from consumers.views import DEATH, PERSON, SUBSIDY, EntityView, SourceRec, SourceRef


def rec(topic: str, record_id: str, day: int, **data: object) -> SourceRec:
    at = datetime(2026, 1, day, tzinfo=UTC)
    return SourceRec(SourceRef(topic, topic.split(".")[1], record_id), at, {"event_time": at, "person_key": "k", **data})


def view(*records: SourceRec) -> EntityView:
    by_topic: dict[str, list[SourceRec]] = {}
    for r in records:
        by_topic.setdefault(r.ref.topic, []).append(r)
    return EntityView("person", "k", {t: tuple(sorted(rs, key=lambda r: (r.event_time, r.ref))) for t, rs in by_topic.items()})


REGISTRY_OLD = rec(PERSON, "p1", 1, name="王秀英", sex="2", birth_date=date(1940, 3, 1), household_division="110101")
REGISTRY_NEW = rec(PERSON, "p1v2", 5, name="王秀英", sex="2", birth_date=date(1940, 3, 1), household_division="110105")
CIVIL = rec(SUBSIDY, "s1", 9, person_name="汪秀英", person_birth_date=date(1940, 3, 2), person_division="120101")
DEATH_RECORD = rec(DEATH, "d1", 3, death_date=date(2025, 12, 1), death_division="110105")


def test_the_registry_outranks_a_later_civil_affairs_value_and_the_conflict_is_recorded() -> None:
    row = build_elder(view(REGISTRY_OLD, CIVIL))
    assert (row["name"], row["birth_date"], row["household_division"]) == ("王秀英", date(1940, 3, 1), "110101")
    assert row["status"] == "registered"
    conflicts = {c["field"]: c for c in identity_conflicts(view(REGISTRY_OLD, CIVIL))}
    assert set(conflicts) == {"name", "birth_date"} and conflicts["name"]["chosen"] == "王秀英"


def test_within_a_source_the_latest_event_time_wins_and_death_comes_from_the_registry() -> None:
    row = build_elder(view(REGISTRY_NEW, REGISTRY_OLD, DEATH_RECORD))
    assert row["household_division"] == "110105"
    assert (row["alive"], row["death_date"]) == (False, date(2025, 12, 1))
    assert '"household_division":{"event_time":"2026-01-05T00:00:00+00:00","source_record_id":"p1v2"' in row["provenance"]


@given(st.permutations([REGISTRY_OLD, REGISTRY_NEW, CIVIL, DEATH_RECORD]))
def test_the_elder_row_does_not_depend_on_the_order_records_are_listed(records: list[SourceRec]) -> None:
    assert build_elder(view(*records)) == build_elder(view(REGISTRY_OLD, REGISTRY_NEW, CIVIL, DEATH_RECORD))
