"""`carehub demo`: generate a pilot region, serve its health API, run every connector, reconcile, report."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
from consumers.datasets import DATASETS
from consumers.datasets.practitioner import practitioner
from consumers.findings import identity_conflict, risk_alert
from consumers.linking import person_link
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
class PatternFound:
    """A planted risk pattern against what the reconciler raised."""

    rule: str
    planted: int  # planted records (or caregivers, providers) in the manifest
    found: int  # of them, those named by an alert of the rule (as evidence or subject)
    alerts: int


@dataclass(frozen=True)
class DemoResult:
    generated: Generated
    connectors: list[ConnectorRun]
    consume: ReconcileStats
    rows: dict[str, int]  # dataset -> rows
    links: dict[str, int]  # link state -> records without a valid ID
    conflicts: int
    patterns: list[PatternFound]


def _patterns(conn: sa.Connection, manifest: dict) -> list[PatternFound]:
    named: dict[str, set[str]] = {}
    alerts: dict[str, int] = {}
    certificates = dict(conn.execute(sa.select(practitioner.c.person_key, practitioner.c.certificate_no)).all())
    for rule, subject_key, evidence in conn.execute(sa.select(risk_alert.c.rule, risk_alert.c.subject_key, risk_alert.c.evidence)):
        alerts[rule] = alerts.get(rule, 0) + 1
        named.setdefault(rule, set()).update({subject_key, certificates.get(subject_key), *(e["source_record_id"] for e in json.loads(evidence))})
    return [PatternFound(rule, len(set(p["records"])), len(set(p["records"]) & named.get(rule, set())), alerts.get(rule, 0))
            for rule, p in manifest["patterns"].items()]


@contextmanager
def demo_connector_configs(generated: Generated) -> Iterator[dict[str, ConnectorConfig]]:
    """Every example connector's config (by record type) reading the generated sources, while a
    health API serves the generated health data to the HTTP ones."""
    api_key = secrets.token_urlsafe(24)
    paged = {record: demo_config(path, None, api_key) for record, path in generated.configs.items()}
    with HealthApi(generated.folder / HEALTH_DATA, api_key, paged) as api:
        yield {record: demo_config(path, api.url, api_key) for record, path in generated.configs.items()}


def run_connectors(
    hub: Hub, generated: Generated, configs: dict[str, ConnectorConfig], *,
    on_start: Callable[[str, int], None] | None = None,
    on_batch: Callable[[str, RunStats], None] | None = None,
) -> list[ConnectorRun]:
    """Forget the connectors' cursors, then run each once over the whole of its generated source."""
    with hub.engine.begin() as conn:
        conn.execute(connector_cursor.delete().where(connector_cursor.c.connector.in_([c.name for c in configs.values()])))
    runs = []
    for record, config in configs.items():
        rows = generated.manifest["rows"].get(record, 0)
        if on_start:
            on_start(config.name, rows)
        stats = hub.connector(config).run_once((lambda s, name=config.name: on_batch(name, s)) if on_batch else None)
        runs.append(ConnectorRun(config.name, config.source.kind, rows, stats))
    return runs


def dataset_rows(conn: sa.Connection) -> dict[str, int]:
    """Rows in each basic dataset."""
    return {d.name: conn.scalar(sa.select(sa.func.count()).select_from(d.table)) for d in DATASETS}


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
    with demo_connector_configs(generated) as configs:
        runs = run_connectors(hub, generated, configs, on_start=on_start, on_batch=on_batch)
    consume = hub.reconciler().run(until_idle=True, on_batch=on_consume)
    with hub.engine.connect() as conn:
        rows = dataset_rows(conn)
        links = dict(conn.execute(sa.select(person_link.c.state, sa.func.count()).group_by(person_link.c.state)).all())
        conflicts = conn.scalar(sa.select(sa.func.count()).select_from(identity_conflict))
        patterns = _patterns(conn, generated.manifest)
    return DemoResult(generated, runs, consume, rows, links, conflicts, patterns)
