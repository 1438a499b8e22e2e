"""Reconciliation is a function of the set of source records: any order, any batching, any
number of redeliveries gives the same datasets, links, conflicts and alerts."""

from __future__ import annotations

import random

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consumers.changelog import changelog_outbox
from tests.consumers.conftest import snapshot


def _apply(region, engine, incoming, batch_sizes) -> None:  # noqa: ANN001
    reconciliation = region.hub.reconciliation()
    start, sizes = 0, iter(batch_sizes)
    while start < len(incoming):
        size = next(sizes, 500)
        with engine.begin() as conn:
            reconciliation.apply(conn, incoming[start:start + size])
        start += size


def test_the_demo_region_fills_all_six_datasets_with_links_conflicts_and_alerts(region, fresh_database) -> None:  # noqa: ANN001
    engine = fresh_database("in-order")
    _apply(region, engine, region.incoming(), [])
    found = snapshot(engine)
    assert all(found[name] for name in ("elder", "health_record", "care_service", "institution", "practitioner", "supervision"))
    assert found["person_link"] and found["risk_alert"] and found["identity_conflict"]
    # the consumer-group path of `carehub demo` decided exactly the same
    assert snapshot(region.hub.engine) == found


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), batch_sizes=st.lists(st.integers(1, 3000), min_size=1, max_size=20))
def test_any_order_and_batching_gives_the_same_datasets(region, fresh_database, seed: int, batch_sizes: list[int]) -> None:  # noqa: ANN001
    baseline = fresh_database(f"baseline-{seed}")
    _apply(region, baseline, region.incoming(), [])
    shuffled = region.incoming()
    random.Random(seed).shuffle(shuffled)
    engine = fresh_database(f"shuffled-{seed}")
    _apply(region, engine, shuffled, batch_sizes)
    assert snapshot(engine) == snapshot(baseline)


def test_redelivered_records_change_nothing_and_publish_nothing(region, fresh_database) -> None:  # noqa: ANN001
    engine = fresh_database("redelivered")
    _apply(region, engine, region.incoming(), [])
    before = snapshot(engine)
    with engine.begin() as conn:
        conn.execute(changelog_outbox.delete())
    _apply(region, engine, region.incoming(), [700])
    assert snapshot(engine) == before
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(changelog_outbox)) == 0
