"""Judge one partition's consumer from a window of offset samples: ordered, named rules, first match wins.

As in LinkedIn Burrow's evaluator, a status comes from a window of samples, not one reading: each
sample records the group's committed offset and the partition's end offset at one moment, and the
rules below read the window of recent samples, oldest first, as a decision table.

| rule                       | status | fires when (over the window)                                     |
|----------------------------|--------|------------------------------------------------------------------|
| committed_offset_went_back | REWIND | the committed offset is lower than in the sample before it       |
| caught_up                  | OK     | the newest sample has no lag                                     |
| commits_stopped            | STOP   | lag, and the committed offset has not moved for `stop_after_s`   |
| committed_offset_stuck     | STALL  | a trend; every sample lags and has the same committed offset     |
| lag_only_grows             | WARN   | a trend; lag never shrinks from one sample to the next, and grew |
| consuming                  | OK     | always (the consumer moves and is not falling behind)            |

A *trend* needs at least `trend_samples` samples spanning at least `trend_span_s`, so that two
readings a second apart, between two commits of a healthy consumer, do not raise an alarm.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Status(StrEnum):
    """A consumer's status, from best to worst (the order `worst` ranks by)."""

    OK = "OK"
    WARN = "WARN"
    STALL = "STALL"
    STOP = "STOP"
    REWIND = "REWIND"


SEVERITY: dict[Status, int] = {status: rank for rank, status in enumerate(Status)}


@dataclass(frozen=True, slots=True)
class Sample:
    """One reading of a group's position on one partition."""

    at: datetime
    committed: int
    end: int
    committed_since: datetime  # when the committed offset was first seen at this value
    lag_seconds: float | None = None  # age of the oldest unconsumed record; None: unknown

    @property
    def lag(self) -> int:
        return max(self.end - self.committed, 0)


@dataclass(frozen=True, slots=True)
class LagPolicy:
    """How many samples a window keeps and the thresholds the rules use."""

    window_samples: int = 60  # a window keeps at most this many samples per partition (a few
    # dashboards polling every 5 s still leave it minutes long) ...
    window_s: float = 3600.0  # ... none older than this
    trend_samples: int = 3  # WARN and STALL judge a trend over at least this many samples ...
    trend_span_s: float = 60.0  # ... spanning at least this long
    stop_after_s: float = 300.0  # STOP: lag, and no commit seen for this long


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    status: Status
    fires: Callable[[Sequence[Sample], LagPolicy], bool]


@dataclass(frozen=True, slots=True)
class Verdict:
    status: Status
    rule: str


def _pairs(window: Sequence[Sample]) -> Iterator[tuple[Sample, Sample]]:
    return zip(window, window[1:])


def _is_trend(window: Sequence[Sample], policy: LagPolicy) -> bool:
    span_s = (window[-1].at - window[0].at).total_seconds()
    return len(window) >= policy.trend_samples and span_s >= policy.trend_span_s


def _went_back(window: Sequence[Sample], policy: LagPolicy) -> bool:
    return any(later.committed < earlier.committed for earlier, later in _pairs(window))


def _caught_up(window: Sequence[Sample], policy: LagPolicy) -> bool:
    return window[-1].lag == 0


def _commits_stopped(window: Sequence[Sample], policy: LagPolicy) -> bool:
    newest = window[-1]
    return newest.lag > 0 and (newest.at - newest.committed_since).total_seconds() >= policy.stop_after_s


def _stuck(window: Sequence[Sample], policy: LagPolicy) -> bool:
    return (
        _is_trend(window, policy)
        and all(sample.lag > 0 for sample in window)
        and len({sample.committed for sample in window}) == 1
    )


def _lag_only_grows(window: Sequence[Sample], policy: LagPolicy) -> bool:
    return (
        _is_trend(window, policy)
        and all(later.lag >= earlier.lag for earlier, later in _pairs(window))
        and window[-1].lag > window[0].lag
    )


RULES: tuple[Rule, ...] = (
    Rule("committed_offset_went_back", Status.REWIND, _went_back),
    Rule("caught_up", Status.OK, _caught_up),
    Rule("commits_stopped", Status.STOP, _commits_stopped),
    Rule("committed_offset_stuck", Status.STALL, _stuck),
    Rule("lag_only_grows", Status.WARN, _lag_only_grows),
    Rule("consuming", Status.OK, lambda window, policy: True),
)


def evaluate(window: Sequence[Sample], policy: LagPolicy = LagPolicy()) -> Verdict:
    """The verdict of the first rule that fires on `window` (oldest sample first)."""
    if not window:
        raise ValueError("a window needs at least one sample")
    rule = next(rule for rule in RULES if rule.fires(window, policy))
    return Verdict(rule.status, rule.name)


def worst(statuses: Sequence[Status]) -> Status:
    """The most severe of `statuses` (OK for none): a group's status from its partitions'."""
    return max(statuses, key=SEVERITY.__getitem__, default=Status.OK)
