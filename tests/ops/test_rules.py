"""The lag rules: each named rule fires on the window it describes, and the first that fires wins."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from carehub.ops.lag import Reading, extend, judge
from carehub.ops.rules import RULES, LagPolicy, Sample, Status, evaluate, worst
from carehub.ops.samples import GroupPartition

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
POLICY = LagPolicy(window_samples=20, window_s=3600, trend_samples=3, trend_span_s=60, stop_after_s=300)
KEY = GroupPartition("carehub-reconciler", "src.registry.person.v1", 0)


def window_of(*readings: tuple[float, int, int], policy: LagPolicy = POLICY) -> list[Sample]:
    """The window the sampler keeps after readings (seconds after T0, committed, end)."""
    window: list[Sample] = []
    for seconds, committed, end in readings:
        window = extend(window, Reading(KEY, committed, end, None), T0 + timedelta(seconds=seconds), policy)
    return window


CASES = {
    "committed_offset_went_back": (
        Status.REWIND, [(0, 500, 900), (30, 650, 900), (60, 200, 900), (90, 300, 900)],
    ),
    "caught_up": (Status.OK, [(0, 100, 400), (30, 100, 400), (60, 100, 400), (90, 400, 400)]),
    "commits_stopped": (Status.STOP, [(0, 100, 400), (30, 120, 400), (200, 120, 400), (400, 120, 400)]),
    "committed_offset_stuck": (Status.STALL, [(0, 100, 400), (30, 100, 420), (60, 100, 450)]),
    "lag_only_grows": (Status.WARN, [(0, 100, 200), (30, 150, 300), (60, 180, 340), (90, 200, 500)]),
    "consuming": (Status.OK, [(0, 100, 400), (30, 200, 450), (60, 300, 420), (90, 350, 500)]),
}


def test_every_rule_has_a_case() -> None:
    assert [rule.name for rule in RULES] == list(CASES)


@pytest.mark.parametrize("rule", list(CASES))
def test_each_rule_decides_the_window_it_describes(rule: str) -> None:
    status, readings = CASES[rule]
    verdict = evaluate(window_of(*readings), POLICY)
    assert (verdict.rule, verdict.status) == (rule, status)


@pytest.mark.parametrize(
    ("readings", "expected"),
    [
        # A rewind is reported even once the consumer caught up again.
        ([(0, 300, 300), (30, 100, 300), (60, 300, 300)], "committed_offset_went_back"),
        # Stuck for longer than stop_after_s is STOP, not STALL.
        ([(0, 100, 400), (200, 100, 400), (400, 100, 400)], "commits_stopped"),
        # Lag that grows while the committed offset stands still is STALL, not WARN.
        ([(0, 100, 200), (30, 100, 300), (60, 100, 400)], "committed_offset_stuck"),
    ],
)
def test_the_first_rule_that_fires_wins(readings: list[tuple[float, int, int]], expected: str) -> None:
    assert evaluate(window_of(*readings), POLICY).rule == expected


@pytest.mark.parametrize(
    "readings",
    [
        [(0, 100, 400), (1, 100, 410)],  # two readings between two commits of a healthy consumer
        [(0, 100, 400), (10, 100, 410), (20, 100, 420)],  # three, but over less than trend_span_s
    ],
)
def test_a_trend_needs_enough_samples_over_enough_time(readings: list[tuple[float, int, int]]) -> None:
    assert evaluate(window_of(*readings), POLICY).status is Status.OK


def test_stop_counts_from_the_first_sample_at_the_committed_offset_even_past_the_window() -> None:
    policy = LagPolicy(window_samples=3, stop_after_s=300, trend_samples=10)
    readings = [(t, 100, 400) for t in range(0, 420, 60)]
    window = window_of(*readings, policy=policy)
    assert len(window) == 3 and window[0].at == T0 + timedelta(seconds=240)
    assert window[-1].committed_since == T0
    assert evaluate(window, policy).status is Status.STOP


def test_the_window_keeps_the_newest_samples_within_its_age() -> None:
    policy = LagPolicy(window_samples=4, window_s=100)
    window = window_of(*[(t, t, 1000) for t in (0, 10, 20, 30, 40, 50)], policy=policy)
    assert [s.committed for s in window] == [20, 30, 40, 50]
    later = window_of(*[(t, t, 1000) for t in (0, 10, 20, 150)], policy=policy)
    assert [s.committed for s in later] == [150]


def test_a_group_takes_the_status_of_its_worst_partition() -> None:
    assert worst([Status.OK, Status.STALL, Status.WARN]) is Status.STALL
    assert worst([Status.STOP, Status.REWIND]) is Status.REWIND
    assert worst([]) is Status.OK
    stuck = window_of(*CASES["committed_offset_stuck"][1])
    fine = window_of(*CASES["consuming"][1])
    other = GroupPartition(KEY.group, KEY.topic, 1)
    view = judge({KEY: stuck, other: fine}, POLICY, T0)
    (group,) = view.groups
    assert group.status is Status.STALL
    assert group.lag == stuck[-1].lag + fine[-1].lag
    assert [p.status for p in group.partitions] == [Status.STALL, Status.OK]


def test_rates_and_history_come_from_the_window() -> None:
    window = window_of((0, 100, 1000), (10, 300, 1500))
    (group,) = judge({KEY: window}, POLICY, T0).groups
    assert group.consumed_per_s == pytest.approx(20.0)
    assert group.produced_per_s == pytest.approx(50.0)
    assert [(h.at, h.lag) for h in group.history] == [(T0, 900), (T0 + timedelta(seconds=10), 1200)]
