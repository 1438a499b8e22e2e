"""`carehub demo`: generate a registry export, publish it, reconcile it, say what happened."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import sqlalchemy as sa

from carehub.demo.persons import GeneratedPersons, generate_persons
from carehub.hub import Hub
from connectors.sdk.config import ConnectorConfig, load_config
from connectors.sdk.runner import RunStats
from consumers.elder import elder
from consumers.engine import ReconcileStats

EXAMPLE = "registry_person_csv.yaml"


def example_config(csv_path: Path) -> ConnectorConfig:
    """The shipped example connector, reading `csv_path`."""
    config = load_config(Path(str(files("connectors") / "examples" / EXAMPLE)))
    return config.model_copy(update={"source": config.source.model_copy(update={"path": csv_path})})


@dataclass(frozen=True)
class DemoResult:
    generated: GeneratedPersons
    connect: RunStats
    consume: ReconcileStats
    elders: int


def run_demo(hub: Hub, persons: int, *, on_connect=None, on_consume=None) -> DemoResult:  # noqa: ANN001
    generated = generate_persons(hub.settings.home / "demo" / "persons.csv", persons)
    connect = hub.connector(example_config(generated.path)).run_once(on_connect)
    consume = hub.reconciler().run(until_idle=True, on_batch=on_consume)
    with hub.engine.connect() as conn:
        elders = conn.scalar(sa.select(sa.func.count()).select_from(elder))
    return DemoResult(generated, connect, consume, elders)
