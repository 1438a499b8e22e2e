"""`carehub bench`: the report's shape, consistent counts and positive rates (never a timed assertion)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from carehub.bench import SMALLER_BY, E2EReport, connector_brokers, run_bench, run_e2e
from carehub.cli import app
from carehub.errors import CarehubError
from carehub.demo.connectors import EXAMPLES
from carehub.hub import Hub
from carehub.settings import Settings
from consumers.datasets import DATASETS


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


def _assert_consistent(report: E2EReport) -> dict:
    figures = report.as_json()
    assert [run["persons"] for run in figures["runs"]] == [300, 300 // SMALLER_BY]
    for run in figures["runs"]:
        assert run["records reconciled"] == run["source records"] > 0
        assert run["source records"] + run["rejected to dead-letter topics"] == run["source rows read"]
        assert run["source records"] == sum(c["published"] for c in run["connectors"])
        assert len(run["connectors"]) == len(EXAMPLES)  # every example connector ran
        assert run["connector records/s"] > 0 and run["reconciler records/s"] > 0
        assert 0 < run["end-to-end records/s"] < min(run["connector records/s"], run["reconciler records/s"])
        assert run["connector peak MiB"] > 0 and run["reconciler peak MiB"] > 0
    first = figures["runs"][0]
    assert set(first["rows added per dataset"]) == {d.name for d in DATASETS}
    assert all(rows > 0 for rows in first["rows added per dataset"].values())
    return figures


def test_e2e_bench_on_embedded_and_sqlite_reports_every_figure_but_raw_kafka(tmp_path: Path) -> None:
    steps: list[str] = []
    report = run_e2e(Settings(home=tmp_path), 300, steps.append)
    figures = _assert_consistent(report)
    assert figures["raw kafka-python"].startswith("skipped")
    assert figures["notes"] == []  # a fresh database
    assert "generating 300 persons (seed 2024)" in steps and "generating 75 persons (seed 2025)" in steps
    assert figures["runs"][1]["rows added per dataset"]["elder"] > 0  # the next seed's region: mostly other elders


@pytest.mark.kafka
@pytest.mark.postgres
def test_e2e_bench_on_kafka_and_postgres_compares_with_bare_kafka_python(
    tmp_path: Path, kafka_url: str, postgres_url: str, unique: str,
) -> None:
    settings = Settings(home=tmp_path, broker=kafka_url, database_url=postgres_url, topic_prefix=f"t{unique}.")
    figures = _assert_consistent(run_e2e(settings, 300, lambda _: None))
    raw = figures["raw kafka-python"]
    assert raw["records"] == figures["runs"][0]["source records"]
    assert raw["produce records/s"] > 0 and raw["consume records/s"] > 0
    assert raw["end-to-end / raw produce"] == pytest.approx(figures["runs"][0]["end-to-end records/s"] / raw["produce records/s"], abs=1e-3)
    assert figures["runs"][0]["topic prefix"].startswith(f"t{unique}.bench-")
    assert figures["notes"] == []  # a fresh database, Kafka: nothing to warn about


def test_e2e_cli_prints_json_and_warns_when_the_datasets_already_hold_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CAREHUB_HOME", str(tmp_path))
    result = CliRunner().invoke(app, ["bench", "--e2e", "--persons", "40", "--batch-size", "100", "--json"], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    first = json.loads(result.stdout)
    assert first["reconciler batch size"] == 100
    assert first["runs"][0]["records reconciled"] == first["runs"][0]["source records"] > 0
    assert first["target met"] is (first["runs"][0]["end-to-end records/s"] >= 10_000)
    again = run_e2e(Settings(home=tmp_path), 40, lambda _: None).as_json()
    assert any("fresh database" in note for note in again["notes"])
    assert again["runs"][0]["rows added per dataset"]["elder"] == 0  # the same region again adds no one


def test_e2e_bench_says_in_one_line_which_service_a_phase_could_not_reach(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, broker="kafka://127.0.0.1:1", retry_seconds=1)
    with pytest.raises(CarehubError, match=r"^the bench's connector phase failed: cannot reach Apache Kafka at .*CAREHUB_BROKER"):
        run_e2e(settings, 20, lambda _: None)


def test_e2e_refuses_a_second_kafka(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAREHUB_HOME", str(tmp_path))
    result = CliRunner().invoke(app, ["bench", "--e2e", "--kafka", "kafka://127.0.0.1:9092"])
    assert result.exit_code == 2
    assert "CAREHUB_BROKER" in result.output
