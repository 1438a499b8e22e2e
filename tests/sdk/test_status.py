"""connector_status: a connector's state, last poll, last error and running totals, and an
operator's pause and resume, as `carehub connect status / pause / resume` show and set them."""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from carehub.demo.persons import generate_persons
from carehub.demo.run import example_config
from carehub.errors import ServiceUnavailable
from carehub.hub import Hub
from carehub.settings import Settings
from connectors.sdk.config import load_config
from connectors.sdk.runner import ConnectorRunner, RunStats
from connectors.sdk.status import (
    ConnectorState,
    ConnectorStatus,
    UnknownConnector,
    connector_statuses,
    set_desired_state,
)
from tests.test_cli import connector_yaml, run
from tests.test_slice import drain


@pytest.fixture
def hub(tmp_path: Path, embedded_broker_url: str, database_url: str) -> Hub:
    return Hub(Settings(home=tmp_path / "home", broker=embedded_broker_url, database_url=database_url, retry_seconds=5))


def status(hub: Hub, name: str) -> ConnectorStatus:
    with hub.engine.connect() as conn:
        (found,) = [s for s in connector_statuses(conn) if s.connector == name]
    return found


def want(hub: Hub, name: str, desired: ConnectorState) -> None:
    with hub.engine.begin() as conn:
        set_desired_state(conn, name, desired, datetime.now(UTC))


def wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"waited {timeout_s} s for {what}"
        time.sleep(0.05)


@contextmanager
def polling(runner: ConnectorRunner) -> Iterator[None]:
    """The connector's poll loop in a thread, as `carehub connect run` runs it."""
    stop = threading.Event()
    worker = threading.Thread(target=runner.run_forever, args=(stop,))
    worker.start()
    try:
        yield
    finally:
        stop.set()
        worker.join(timeout=30)


def test_each_poll_adds_to_the_totals_and_records_a_running_connector(hub: Hub, tmp_path: Path) -> None:
    first = generate_persons(tmp_path / "persons.csv", 150, seed=41)
    runner = hub.connector(example_config(first.path))
    before = datetime.now(UTC)
    stats = runner.run_once()
    after_first = status(hub, runner.config.name)
    assert after_first.state is ConnectorState.RUNNING and after_first.desired_state is ConnectorState.RUNNING
    assert after_first.target_topic == runner.topic
    assert (after_first.read_total, after_first.published_total, after_first.rejected_total) == (
        stats.read, stats.published, stats.rejected)
    assert stats.rejected > 0 and before <= after_first.last_poll_at <= datetime.now(UTC)
    assert after_first.last_error is None

    generate_persons(first.path, 40, seed=43)  # a new export replaces the file
    again = runner.run_once()
    total = status(hub, runner.config.name)
    assert total.read_total == stats.read + again.read and again.read > 0
    assert total.published_total == stats.published + again.published
    assert total.last_poll_at > after_first.last_poll_at


def test_a_paused_connector_publishes_nothing_until_it_is_resumed(hub: Hub, tmp_path: Path) -> None:
    generated = generate_persons(tmp_path / "persons.csv", 60, seed=47)
    runner = hub.connector(example_config(generated.path).model_copy(update={"poll_interval_s": 0.1}))
    name = runner.config.name
    with polling(runner):
        wait_for(lambda: len(drain(hub, runner.topic)) == generated.rows - generated.bad_checksums, "the first file")
        want(hub, name, ConnectorState.PAUSED)
        wait_for(lambda: status(hub, name).state is ConnectorState.PAUSED, "the connector to pause")
        paused = status(hub, name)
        newer = generate_persons(tmp_path / "newer.csv", 30, seed=53)
        shutil.move(newer.path, generated.path)
        time.sleep(1)  # ten polls
        assert status(hub, name).read_total == paused.read_total
        want(hub, name, ConnectorState.RUNNING)
        wait_for(lambda: status(hub, name).read_total == paused.read_total + newer.rows, "the newer file")
    resumed = status(hub, name)
    assert resumed.state is ConnectorState.RUNNING and resumed.last_poll_at > paused.last_poll_at


def test_a_pause_stops_a_large_increment_after_the_current_batch_and_resume_continues_from_the_cursor(
    hub: Hub, tmp_path: Path
) -> None:
    generated = generate_persons(tmp_path / "persons.csv", 500, seed=59)
    runner = hub.connector(example_config(generated.path).model_copy(update={"batch_size": 50}))
    name = runner.config.name

    def pause_after_two_batches(stats: RunStats) -> None:
        if stats.read == 100:
            want(hub, name, ConnectorState.PAUSED)

    stopped = runner.run_once(pause_after_two_batches)
    assert stopped.paused and stopped.read == 100
    assert status(hub, name).state is ConnectorState.PAUSED
    assert runner.run_once().read == 0  # still paused
    want(hub, name, ConnectorState.RUNNING)
    rest = runner.run_once()
    assert not rest.paused and stopped.read + rest.read == generated.rows
    assert status(hub, name).read_total == generated.rows
    assert len(drain(hub, runner.topic)) == generated.rows - stopped.rejected - rest.rejected  # nothing twice


def test_an_unreachable_source_database_fails_with_an_error_naming_the_setting(hub: Hub, tmp_path: Path) -> None:
    example = (Path(__file__).parents[2] / "connectors/examples/registry_person_sql.yaml").read_text(encoding="utf-8")
    path = tmp_path / "registry_person_sql.yaml"
    path.write_text(example.replace("url: sqlite:///registry.db", "url: postgresql+psycopg://registry:secret@127.0.0.1:1/registry"),
                    encoding="utf-8")
    config = load_config(path)
    runner = hub.connector(config.model_copy(update={"source": config.source.model_copy(update={"retry_s": 0.5})}))
    started = datetime.now(UTC)
    with pytest.raises(ServiceUnavailable):
        runner.run_once()
    failed = status(hub, config.name)
    assert failed.state is ConnectorState.FAILED
    assert "cannot reach source database at" in failed.last_error and "127.0.0.1:1" in failed.last_error
    assert "source.url" in failed.last_error and "secret" not in failed.last_error
    assert started <= failed.last_error_at <= datetime.now(UTC)
    assert failed.last_poll_at is None


def test_a_polling_connector_recovers_from_a_failed_poll(hub: Hub, tmp_path: Path) -> None:
    path = tmp_path / "later.csv"
    runner = hub.connector(example_config(path).model_copy(update={"poll_interval_s": 0.1}))
    name = runner.config.name
    with polling(runner):
        wait_for(lambda: _state(hub, name) is ConnectorState.FAILED, "the missing file to fail a poll")
        failed = status(hub, name)
        assert str(path) in failed.last_error and "source.path" in failed.last_error
        generated = generate_persons(tmp_path / "staged.csv", 20, seed=61)
        generated.path.rename(path)
        wait_for(lambda: status(hub, name).read_total == generated.rows, "the file to be published")
        wait_for(lambda: status(hub, name).state is ConnectorState.RUNNING, "the next poll")
    recovered = status(hub, name)
    assert recovered.last_poll_at > failed.last_error_at
    assert recovered.last_error == failed.last_error  # kept as the last one seen, with its time


def _state(hub: Hub, name: str) -> ConnectorState | None:
    with hub.engine.connect() as conn:
        return next((s.state for s in connector_statuses(conn) if s.connector == name), None)


def test_pausing_an_unknown_connector_names_the_known_ones(hub: Hub, tmp_path: Path) -> None:
    with pytest.raises(UnknownConnector, match="start it once"):
        want(hub, "registry-persons", ConnectorState.PAUSED)
    hub.connector(example_config(generate_persons(tmp_path / "p.csv", 5, seed=67).path)).run_once()
    with pytest.raises(UnknownConnector, match="known connectors: registry-person-csv"):
        want(hub, "registry-persons", ConnectorState.PAUSED)


def test_the_command_line_shows_pauses_and_resumes_connectors(tmp_path: Path) -> None:
    env = {"CAREHUB_HOME": str(tmp_path / "home"), "COLUMNS": "250"}
    generated = generate_persons(tmp_path / "persons.csv", 40, seed=71)
    config = connector_yaml(tmp_path, generated.path)
    assert run(["connect", "run", str(config), "--once"], env).returncode == 0

    (shown,) = json.loads(run(["connect", "status", "--json"], env).stdout)
    assert shown["connector"] == "registry-person-csv" and shown["state"] == "RUNNING"
    assert shown["read_total"] == generated.rows and shown["rejected_total"] == generated.bad_checksums

    paused = run(["connect", "pause", "registry-person-csv"], env)
    assert paused.returncode == 0 and "next poll" in paused.stdout
    assert "PAUSING" in run(["connect", "status"], env).stdout  # asked, not yet seen by a run
    again = run(["connect", "run", str(config), "--once"], env)
    assert again.returncode == 0 and "connect resume registry-person-csv" in again.stderr
    assert json.loads(run(["connect", "status", "--json"], env).stdout)[0]["state"] == "PAUSED"
    assert run(["connect", "resume", "registry-person-csv"], env).returncode == 0

    generated.path.unlink()
    failed = run(["connect", "run", str(config), "--once"], env)
    assert failed.returncode != 0
    table = run(["connect", "status"], env).stdout
    assert "FAILED" in table and "does not exist" in table and "UTC" in table

    unknown = run(["connect", "pause", "nobody"], env)
    assert unknown.returncode == 1 and "known connectors: registry-person-csv" in unknown.stderr
