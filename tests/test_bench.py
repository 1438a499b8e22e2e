"""`carehub bench`: the report's shape and positive rates (never a timed assertion)."""

from __future__ import annotations

from pathlib import Path

import pytest

from carehub.bench import connector_brokers, run_bench
from carehub.hub import Hub
from carehub.settings import Settings


def test_bench_reports_connector_and_reconciler_rates_on_embedded(tmp_path: Path) -> None:
    steps: list[str] = []
    report = run_bench(Hub(Settings(home=tmp_path)), 300, progress=steps.append)
    assert report["broker"].startswith("embedded://")
    assert report["records published"] == report["records reconciled (whole topic)"] >= 300
    assert report["connector records/s"] > 0 and report["reconciler records/s"] > 0
    assert not any(key.startswith("connector records/s on") for key in report)  # one broker, one figure
    assert steps == ["generating 300 persons", "publishing on embedded", "reconciling"]


@pytest.mark.kafka
def test_bench_with_kafka_times_the_connector_on_both_brokers(tmp_path: Path, kafka_url: str, unique: str) -> None:
    settings = Settings(home=tmp_path, topic_prefix=f"t{unique}.")
    report = run_bench(Hub(settings), 200, progress=lambda _: None, kafka=kafka_url)
    assert report["connector records/s on embedded"] == report["connector records/s"] > 0
    assert report[f"connector records/s on {kafka_url}"] > 0
    assert report["records reconciled (whole topic)"] == report["records published"]


def test_connector_brokers() -> None:
    embedded, kafka = "embedded:///h/broker.db", "kafka://k:9092"
    assert connector_brokers(embedded, None, "embedded:///d.db") == [embedded]
    assert connector_brokers(embedded, kafka, "embedded:///d.db") == [embedded, kafka]
    assert connector_brokers(kafka, kafka, "embedded:///d.db") == [kafka, "embedded:///d.db"]

