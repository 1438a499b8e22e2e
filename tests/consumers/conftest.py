"""A small generated pilot region published by the demo's connectors: the source records the
reconciliation tests replay in every order, split and interleaving they choose."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from carehub.broker.base import TopicPartition
from carehub.db.engine import open_database
from carehub.demo.run import DemoResult, run_demo
from carehub.hub import Hub
from carehub.settings import Settings
from consumers.datasets import DATASETS
from consumers.export import rows
from consumers.findings import identity_conflict, risk_alert
from consumers.linking import person_link
from consumers.store import ROUTES, Incoming

REGION_PERSONS = 250


@dataclass(frozen=True)
class Region:
    """The region's published source records, and the hub they were published through."""

    hub: Hub
    result: DemoResult
    messages: list[tuple[str, bytes]]  # (source topic, Avro value) in publication order

    def incoming(self, messages: Iterable[tuple[str, bytes]] | None = None) -> list[Incoming]:
        decode = self.hub.codec.decode
        return [Incoming(topic, decode(value)[1], value) for topic, value in (self.messages if messages is None else messages)]


@pytest.fixture(scope="session")
def region(tmp_path_factory: pytest.TempPathFactory) -> Region:
    home = tmp_path_factory.mktemp("region")
    hub = Hub(Settings(home=home, broker=f"embedded://{home / 'broker.db'}", database_url=f"sqlite:///{home / 'hub.db'}"))
    result = run_demo(hub, REGION_PERSONS, seed=7)
    messages = []
    with hub.broker.admin() as admin:
        for topic in ROUTES:
            for partition in range(admin.list_topics().get(topic, 0)):
                offset = 0
                while batch := admin.read(TopicPartition(topic, partition), offset, 5000):
                    messages += [(topic, m.value) for m in batch]
                    offset = batch[-1].offset + 1
    return Region(hub, result, messages)


def snapshot(engine: sa.Engine) -> dict[str, Any]:
    """Everything reconciliation decided: every dataset row, link, conflict and alert."""
    with engine.connect() as conn:
        found: dict[str, Any] = {d.name: list(rows(conn, d)) for d in DATASETS}
        for table in (person_link, identity_conflict, risk_alert):
            found[table.name] = sorted(tuple(str(v) for v in r) for r in conn.execute(sa.select(table)))
    return found


@pytest.fixture
def fresh_database(tmp_path: Path) -> Callable[[str], sa.Engine]:
    """Fresh, migrated databases, one per call (SQLite files under this test's folder)."""
    made: list[sa.Engine] = []

    def make(name: str) -> sa.Engine:
        engine = open_database(f"sqlite:///{tmp_path / f'{name}.db'}")
        made.append(engine)
        return engine

    yield make
    for engine in made:
        engine.dispose()
