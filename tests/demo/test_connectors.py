"""Every example YAML loads, and publishes its demo source rejecting only the planted bad rows, by their
rules; rows whose ID the noise broke but whose identity hints stand in for it are published with a warning."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from carehub.broker import ConsumerOptions, Message
from carehub.demo.connectors import API_KEY_ENV, EXAMPLES, examples_folder
from carehub.demo.generate import Generated
from carehub.demo.noise import ID_DEFECT_RULES
from carehub.hub import Hub
from carehub.settings import Settings
from connectors.records import RECORD_TYPES
from connectors.sdk.config import ConnectorConfig, load_config
from connectors.sdk.quality import quality_report
from tests.demo.conftest import canonical

#: The rules an ID the noise broke is rejected or warned under.
ID_RULES = {rule for rules in ID_DEFECT_RULES.values() for rule in rules}


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
    expected, warned = generated.manifest["expected_rejects"], generated.manifest["expected_warnings"]
    assert sum(sum(rules.values()) for rules in warned.values()) > 0
    record = "civil_affairs.subsidy_payment"  # the source with the most rows without a valid ID
    given_ids = {r["resident_id"] for r in canonical(configs[record]) if r.get("resident_id")}  # before the files move
    topics = {}
    for name, config in configs.items():
        runner = hub.connector(config)
        stats = runner.run_once()
        topics[name] = runner.topic
        assert stats.read == generated.manifest["rows"][name], name
        assert dict(stats.rejected_by_rule) == expected.get(name, {}), name
        assert stats.published == stats.read - sum(expected.get(name, {}).values()) > 0, name
    with hub.engine.connect() as conn:
        report = {q.connector: q for q in quality_report(conn)}
    for name, config in configs.items():
        id_warnings = {rule: n for rule, n in report[config.name].warnings_by_rule.items() if rule in ID_RULES}
        assert id_warnings == warned.get(name, {}), name

    # the rows whose ID the noise broke are on the topic without a person key, exactly as the manifest says
    messages = _read(hub, topics[record])
    assert len(messages) == generated.manifest["rows"][record]
    keyless = {}
    for message in messages:
        value = hub.codec.decode(message.value)[1]
        if value["person_key"] is None:
            keyless[value["source_record_id"]] = value
            assert message.key == value["source_record_id"].encode()
    assert set(keyless) == set(generated.manifest["unidentified"][record]) != set()
    assert all(v["person_name"] and v["person_birth_date"] for v in keyless.values())
    assert len(given_ids) > 100 and not [m for m in messages if any(rid.encode() in m.value for rid in given_ids)]


def _read(hub: Hub, topic: str) -> list[Message]:
    """Every record of `topic`, read by a throwaway group."""
    messages: list[Message] = []
    options = ConsumerOptions(session_timeout_ms=6000, heartbeat_interval_ms=1000)
    with hub.broker.consumer(f"check-{uuid.uuid4().hex[:8]}", [topic], options) as consumer:
        idle = 0
        while idle < 3:
            batch = consumer.poll(10_000, timeout_s=0.5)
            messages.extend(batch)
            idle = 0 if batch else idle + 1
    return messages
