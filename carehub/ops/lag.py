"""Consumer lag: read every group's offsets from the broker, sample them, and judge each group.

Lag in records is the end offset minus the committed one; lag in seconds is the age of the oldest
unconsumed record, read from the timestamp of the record at the committed offset (never an
estimate from rates). Every measurement stores a sample per group and partition, and the status
comes from the rules in `carehub.ops.rules` over the window of samples.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from carehub.broker import Admin, TopicPartition
from carehub.db.engine import with_database_retry
from carehub.ops.rules import LagPolicy, Sample, Status, evaluate, worst
from carehub.ops.samples import GroupPartition, load_windows, store

#: How long to wait for the record at a committed offset before its age counts as unknown.
READ_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class Reading:
    """What the broker says about one group on one partition, now."""

    key: GroupPartition
    committed: int
    end: int
    lag_seconds: float | None


@dataclass(frozen=True, slots=True)
class PartitionLag:
    topic: str
    partition: int
    committed: int
    end: int
    lag: int
    lag_seconds: float | None
    status: Status
    rule: str  # the rule that decided the status


@dataclass(frozen=True, slots=True)
class HistoryPoint:
    at: datetime
    lag: int  # records, summed over the group's partitions
    lag_seconds: float | None  # the oldest partition's


@dataclass(frozen=True, slots=True)
class GroupLag:
    group: str
    status: Status
    lag: int
    lag_seconds: float | None
    consumed_per_s: float | None  # over the window; None until two samples are apart
    produced_per_s: float | None
    partitions: tuple[PartitionLag, ...]
    history: tuple[HistoryPoint, ...]


@dataclass(frozen=True, slots=True)
class LagView:
    at: datetime
    groups: tuple[GroupLag, ...]

    def as_json(self) -> dict:
        """Plain JSON types: moments as ISO 8601 strings, statuses as their names."""
        return {
            "at": self.at.isoformat(),
            "groups": [
                {
                    "group": g.group, "status": g.status.value, "lag": g.lag, "lag_seconds": g.lag_seconds,
                    "consumed_per_s": g.consumed_per_s, "produced_per_s": g.produced_per_s,
                    "partitions": [
                        {
                            "topic": p.topic, "partition": p.partition, "committed": p.committed,
                            "end": p.end, "lag": p.lag, "lag_seconds": p.lag_seconds,
                            "status": p.status.value, "rule": p.rule,
                        }
                        for p in g.partitions
                    ],
                    "history": [
                        {"at": h.at.isoformat(), "lag": h.lag, "lag_seconds": h.lag_seconds} for h in g.history
                    ],
                }
                for g in self.groups
            ],
        }


# -- the pure core ------------------------------------------------------------------------------


def extend(window: Sequence[Sample], reading: Reading, at: datetime, policy: LagPolicy) -> list[Sample]:
    """`window` with the sample of `reading` taken at `at` appended, trimmed to the policy."""
    unchanged = bool(window) and window[-1].committed == reading.committed
    since = window[-1].committed_since if unchanged else at
    sample = Sample(at, reading.committed, reading.end, since, reading.lag_seconds)
    kept = [s for s in window if (at - s.at).total_seconds() < policy.window_s]
    return [*kept, sample][-policy.window_samples:]


def _rate(window: Sequence[Sample], offset_of: Callable[[Sample], int]) -> float | None:
    """Records per second by which `offset_of` moved over the window (a rewind counts as none)."""
    span_s = (window[-1].at - window[0].at).total_seconds()
    if span_s <= 0:
        return None
    return max(offset_of(window[-1]) - offset_of(window[0]), 0) / span_s


def _total_rate(windows: Iterable[Sequence[Sample]], offset_of: Callable[[Sample], int]) -> float | None:
    rates = [rate for window in windows if (rate := _rate(window, offset_of)) is not None]
    return sum(rates) if rates else None


def _oldest(ages: Iterable[float | None]) -> float | None:
    known = [age for age in ages if age is not None]
    return max(known) if known else None


def _history(windows: Iterable[Sequence[Sample]]) -> tuple[HistoryPoint, ...]:
    """Per sampling moment, the group's lag (all its partitions are sampled at one moment)."""
    by_moment: dict[datetime, list[Sample]] = {}
    for window in windows:
        for sample in window:
            by_moment.setdefault(sample.at, []).append(sample)
    return tuple(
        HistoryPoint(at, sum(s.lag for s in samples), _oldest(s.lag_seconds for s in samples))
        for at, samples in sorted(by_moment.items())
    )


def judge(windows: dict[GroupPartition, list[Sample]], policy: LagPolicy, at: datetime) -> LagView:
    """The lag view of the groups in `windows`, each window ending with the newest sample."""
    groups: dict[str, dict[GroupPartition, list[Sample]]] = {}
    for key, window in sorted(windows.items()):
        groups.setdefault(key.group, {})[key] = window
    judged = []
    for group, partitions in groups.items():
        rows = []
        for key, window in partitions.items():
            verdict = evaluate(window, policy)
            newest = window[-1]
            rows.append(PartitionLag(
                key.topic, key.partition, newest.committed, newest.end, newest.lag, newest.lag_seconds,
                verdict.status, verdict.rule,
            ))
        judged.append(GroupLag(
            group=group,
            status=worst([row.status for row in rows]),
            lag=sum(row.lag for row in rows),
            lag_seconds=_oldest(row.lag_seconds for row in rows),
            consumed_per_s=_total_rate(partitions.values(), lambda sample: sample.committed),
            produced_per_s=_total_rate(partitions.values(), lambda sample: sample.end),
            partitions=tuple(rows),
            history=_history(partitions.values()),
        ))
    return LagView(at, tuple(judged))


# -- the shell: broker and database -------------------------------------------------------------


def _oldest_unconsumed_ms(
    admin: Admin, positions: dict[TopicPartition, set[int]]
) -> dict[tuple[TopicPartition, int], int]:
    """The timestamp of the first record at or after each committed offset of each partition:
    one broker round per offset a partition is read from (one per group behind on it, at most)."""
    stamps: dict[tuple[TopicPartition, int], int] = {}
    remaining = {tp: sorted(offsets) for tp, offsets in positions.items()}
    while remaining:
        batch = {tp: offsets.pop() for tp, offsets in remaining.items()}
        for tp, timestamp_ms in admin.record_timestamps(batch, READ_TIMEOUT_S).items():
            stamps[tp, batch[tp]] = timestamp_ms
        remaining = {tp: offsets for tp, offsets in remaining.items() if offsets}
    return stamps


def read_offsets(admin: Admin, groups: Collection[str] | None, at: datetime) -> list[Reading]:
    """Every partition each group (all groups when None, active or not) has committed on."""
    committed = {
        group: admin.committed_offsets(group)
        for group in (admin.list_groups() if groups is None else sorted(groups))
    }
    ends = admin.end_offsets(sorted({tp for offsets in committed.values() for tp in offsets}))
    behind: dict[TopicPartition, set[int]] = {}
    for offsets in committed.values():
        for tp, offset in offsets.items():
            if ends[tp] > offset:
                behind.setdefault(tp, set()).add(offset)
    stamps = _oldest_unconsumed_ms(admin, behind)
    readings = []
    for group, offsets in committed.items():
        for tp, offset in sorted(offsets.items()):
            if ends[tp] <= offset:
                lag_seconds: float | None = 0.0
            elif (tp, offset) in stamps:
                lag_seconds = max(at.timestamp() - stamps[tp, offset] / 1000, 0.0)
            else:
                lag_seconds = None  # no record after the committed offset came back (retention, timeout)
            readings.append(Reading(GroupPartition(group, *tp), offset, ends[tp], lag_seconds))
    return readings


def measure(
    admin: Admin,
    engine: sa.Engine,
    policy: LagPolicy = LagPolicy(),
    groups: Collection[str] | None = None,
    *,
    retry_seconds: float = 30.0,
) -> LagView:
    """Read the groups' offsets now, store them as samples, and judge each group's window."""
    at = datetime.now(UTC)
    readings = read_offsets(admin, groups, at)

    def sample() -> dict[GroupPartition, list[Sample]]:
        with engine.begin() as conn:
            stored = load_windows(conn, {r.key.group for r in readings}, policy, at)
            windows = {r.key: extend(stored.get(r.key, []), r, at, policy) for r in readings}
            store(conn, ((key, window[-1]) for key, window in windows.items()), policy)
        return windows

    return judge(with_database_retry(engine, sample, retry_seconds=retry_seconds), policy, at)
