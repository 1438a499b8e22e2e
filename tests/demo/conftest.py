"""A small generated region and its health API, shared by the demo tests."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest

from carehub.demo.connectors import demo_config
from carehub.demo.generate import HEALTH_DATA, Generated, generate
from carehub.demo.health_api import HealthApi
from connectors.sdk.config import ConnectorConfig
from connectors.sdk.pipeline import map_row

PERSONS, SEED, KEY = 1500, 7, "test-key"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    return generate(tmp_path_factory.mktemp("demo") / "demo", PERSONS, SEED)


@pytest.fixture(scope="module")
def configs(generated: Generated) -> Iterator[dict[str, ConnectorConfig]]:
    paged = {record: demo_config(path, None, KEY) for record, path in generated.configs.items()}
    with HealthApi(generated.folder / HEALTH_DATA, KEY, paged) as api:
        yield {record: demo_config(path, api.url, KEY) for record, path in generated.configs.items()}


def canonical(config: ConnectorConfig) -> list[dict]:
    """Every row of a source as the connector maps it, resident IDs normalised (full-width)."""
    rows = [map_row(row, config) for batch in config.source.open().batches(None, 100_000) for row in batch.rows]
    for row in rows:
        for key in ("resident_id", "caregiver_resident_id"):
            if row.get(key):
                row[key] = unicodedata.normalize("NFKC", row[key]).strip()
    return rows


def file_fingerprints(folder: Path) -> dict[str, object]:
    """What each generated file says: bytes of text files, cell values of workbooks, SQLite rows."""
    import sqlite3

    import openpyxl

    found: dict[str, object] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = str(path.relative_to(folder))
        if path.suffix == ".xlsx":
            found[name] = [tuple(r) for r in openpyxl.load_workbook(path, read_only=True).worksheets[0].iter_rows(values_only=True)]
        elif path.suffix == ".db":
            with sqlite3.connect(path) as conn:
                tables = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
                found[name] = {t: conn.execute(f"SELECT * FROM {t} ORDER BY id").fetchall() for t in tables}
        else:
            found[name] = path.read_bytes()
    return found
