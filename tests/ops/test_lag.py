"""Sampling consumer lag from a real broker (embedded and Kafka) into the hub database."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from carehub.broker import Broker, TopicPartition, open_broker
from carehub.db.engine import open_database
from carehub.ops.lag import LagView, measure
from carehub.ops.rules import LagPolicy, Status
from carehub.ops.samples import lag_sample
from tests.ops.conftest import commit, produce

#: Judge a trend from two samples at once, so a test need not wait a minute.
EAGER = LagPolicy(trend_samples=2, trend_span_s=0)


def lag(broker: Broker, engine: sa.Engine, policy: LagPolicy, groups: list[str] | None = None) -> LagView:
    """What one `carehub lag` call measures and stores."""
    with broker.admin() as admin:
        return measure(admin, engine, policy, groups)


@pytest.fixture
def broker(broker_url: str) -> Broker:
    return open_broker(broker_url, retry_seconds=10)


@pytest.fixture
def engine(sqlite_url: str) -> sa.Engine:
    return open_database(sqlite_url)


def test_lag_in_records_and_seconds_for_a_group_without_members(broker: Broker, engine: sa.Engine, unique: str) -> None:
    behind, caught_up = f"test.lag.behind.{unique}", f"test.lag.done.{unique}"
    five_minutes_ago_ms = int(time.time() * 1000) - 300_000
    produce(broker, behind, 10, timestamp_ms=five_minutes_ago_ms)
    produce(broker, caught_up, 5)
    group = f"g.lag.{unique}"
    commit(broker, group, {TopicPartition(behind, 0): 4, TopicPartition(caught_up, 0): 5})

    view = lag(broker, engine, EAGER, [group])

    (judged,) = view.groups
    partitions = {p.topic: p for p in judged.partitions}
    assert (partitions[behind].committed, partitions[behind].end, partitions[behind].lag) == (4, 10, 6)
    # the age of the record at offset 4, not an estimate from rates
    assert partitions[behind].lag_seconds == pytest.approx(300 - 0.004, abs=5)
    assert (partitions[caught_up].lag, partitions[caught_up].lag_seconds) == (0, 0)
    assert judged.lag == 6 and judged.lag_seconds == partitions[behind].lag_seconds
    assert judged.status is Status.OK  # one sample is no trend
    with engine.connect() as conn:
        stored = conn.execute(sa.select(lag_sample.c.topic, lag_sample.c.committed, lag_sample.c.end_offset)
                              .where(lag_sample.c.group_id == group).order_by(lag_sample.c.topic)).all()
    assert stored == [(behind, 4, 10), (caught_up, 5, 5)]


def test_every_measurement_adds_a_sample_and_the_rules_judge_the_window(
    broker: Broker, engine: sa.Engine, unique: str
) -> None:
    topic, group = f"test.lag.window.{unique}", f"g.window.{unique}"
    tp = TopicPartition(topic, 0)
    produce(broker, topic, 20)
    commit(broker, group, {tp: 5})

    lag(broker, engine, EAGER, [group])
    stalled = lag(broker, engine, EAGER, [group])
    assert (stalled.groups[0].status, stalled.groups[0].partitions[0].rule) == (Status.STALL, "committed_offset_stuck")
    assert [h.lag for h in stalled.groups[0].history] == [15, 15]

    commit(broker, group, {tp: 20})
    assert lag(broker, engine, EAGER, [group]).groups[0].status is Status.OK

    commit(broker, group, {tp: 2})
    rewound = lag(broker, engine, EAGER, [group]).groups[0]
    assert (rewound.status, rewound.lag) == (Status.REWIND, 18)
    assert [h.lag for h in rewound.history] == [15, 15, 0, 18]


def test_lag_covers_every_group_unless_told_which(broker: Broker, engine: sa.Engine, unique: str) -> None:
    topic = f"test.lag.all.{unique}"
    produce(broker, topic, 3)
    first, second = f"g.all.a.{unique}", f"g.all.b.{unique}"
    commit(broker, first, {TopicPartition(topic, 0): 1})
    commit(broker, second, {TopicPartition(topic, 0): 3})

    everything = {g.group for g in lag(broker, engine, EAGER).groups}
    chosen = [g.group for g in lag(broker, engine, EAGER, [second]).groups]

    assert {first, second} <= everything
    assert chosen == [second]


def test_the_stored_window_stays_bounded(database_url: str, embedded_broker_url: str, unique: str) -> None:
    broker, engine = open_broker(embedded_broker_url), open_database(database_url)
    topic, group = f"test.lag.bounded.{unique}", f"g.bounded.{unique}"
    produce(broker, topic, 10, partitions=2)
    commit(broker, group, {TopicPartition(topic, 0): 0, TopicPartition(topic, 1): 0})
    policy = LagPolicy(window_samples=3)

    for _ in range(5):
        view = lag(broker, engine, policy, [group])

    with engine.connect() as conn:
        per_partition = dict(conn.execute(
            sa.select(lag_sample.c.partition, sa.func.count()).group_by(lag_sample.c.partition)
        ).all())
    assert per_partition == {0: 3, 1: 3}
    assert len(view.groups[0].history) == 3
    engine.dispose()
