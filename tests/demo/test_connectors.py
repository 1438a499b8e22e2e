"""Every example YAML loads, and publishes its demo source rejecting only the planted bad rows, by their rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from carehub.demo.connectors import API_KEY_ENV, EXAMPLES, examples_folder
from carehub.demo.generate import Generated
from carehub.hub import Hub
from carehub.settings import Settings
from connectors.records import RECORD_TYPES
from connectors.sdk.config import ConnectorConfig, load_config


def test_there_is_one_example_per_record_type() -> None:
    assert set(EXAMPLES) == set(RECORD_TYPES)


@pytest.mark.parametrize("path", sorted(examples_folder().glob("*.yaml")), ids=lambda p: p.name)
def test_every_example_loads(path: Path) -> None:
    config = load_config(path, {API_KEY_ENV: "k", "REGISTRY_API_TOKEN": "t"})
    assert path.stem.startswith(config.record.replace(".", "_"))


def test_every_connector_publishes_its_source_rejecting_only_the_planted_bad_rows(
    tmp_path: Path, generated: Generated, configs: dict[str, ConnectorConfig], embedded_broker_url: str, sqlite_url: str,
) -> None:
    hub = Hub(Settings(home=tmp_path / "home", broker=embedded_broker_url, database_url=sqlite_url, retry_seconds=5))
    expected = generated.manifest["expected_rejects"]
    for record, config in configs.items():
        stats = hub.connector(config).run_once()
        assert stats.read == generated.manifest["rows"][record], record
        assert dict(stats.rejected_by_rule) == expected.get(record, {}), record
        assert stats.published == stats.read - sum(expected.get(record, {}).values()) > 0, record
