"""`carehub demo`: generate a pilot region, serve its health API, run every connector, reconcile, report."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from carehub.demo.connectors import demo_config, examples_folder
from carehub.demo.generate import HEALTH_DATA, Generated, generate
from carehub.demo.health_api import HealthApi
from carehub.hub import Hub
from connectors.sdk.config import ConnectorConfig, load_config
from connectors.sdk.cursor import connector_cursor
from connectors.sdk.runner import RunStats
from consumers.elder import elder
from consumers.engine import ReconcileStats

DEFAULT_PERSONS, DEFAULT_SEED = 5000, 2024


def example_config(csv_path: Path) -> ConnectorConfig:
    """The registry CSV example reading `csv_path`: the single-export path that tests/test_slice.py drives."""
    config = load_config(examples_folder() / "registry_person_csv.yaml")
    return config.model_copy(update={"source": config.source.model_copy(update={"path": csv_path})})


@dataclass(frozen=True)
class ConnectorRun:
    name: str
    kind: str
    rows: int  # rows the demo wrote into its source
    stats: RunStats


@dataclass(frozen=True)
class DemoResult:
    generated: Generated
    connectors: list[ConnectorRun]
    consume: ReconcileStats
    elders: int


def run_demo(
    hub: Hub, persons: int = DEFAULT_PERSONS, seed: int = DEFAULT_SEED, *,
    on_start: Callable[[str, int], None] | None = None,
    on_batch: Callable[[str, RunStats], None] | None = None,
    on_consume: Callable[[ReconcileStats], None] | None = None,
) -> DemoResult:
    """Each run replaces the demo folder ($CAREHUB_HOME/demo) with freshly generated sources and
    forgets the demo connectors' cursors, so it reads the whole region again; the reconciler
    ignores records it already applied, so the datasets do not double."""
    generated = generate(hub.settings.home / "demo", persons, seed)
    api_key = secrets.token_urlsafe(24)
    paged = {record: demo_config(path, None, api_key) for record, path in generated.configs.items()}
    runs = []
    with HealthApi(generated.folder / HEALTH_DATA, api_key, paged) as api:
        configs = {record: demo_config(path, api.url, api_key) for record, path in generated.configs.items()}
        with hub.engine.begin() as conn:
            conn.execute(connector_cursor.delete().where(connector_cursor.c.connector.in_([c.name for c in configs.values()])))
        for record, config in configs.items():
            rows = generated.manifest["rows"].get(record, 0)
            if on_start:
                on_start(config.name, rows)
            stats = hub.connector(config).run_once((lambda s, name=config.name: on_batch(name, s)) if on_batch else None)
            runs.append(ConnectorRun(config.name, config.source.kind, rows, stats))
    consume = hub.reconciler().run(until_idle=True, on_batch=on_consume)
    with hub.engine.connect() as conn:
        elders = conn.scalar(sa.select(sa.func.count()).select_from(elder))
    return DemoResult(generated, runs, consume, elders)
