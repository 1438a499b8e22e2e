"""Large increments run their stages in worker processes: the same records, dead letters and
collection quality as in one process, and a connector killed meanwhile leaves no worker behind."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from carehub.demo.persons import Noise, generate_persons
from carehub.demo.run import example_config
from carehub.hub import Hub
from carehub.settings import Settings
from connectors.sdk import workers
from connectors.sdk.quality import quality_report
from connectors.sdk.runner import RunStats
from connectors.sdk.status import ConnectorState, connector_statuses
from tests.test_cli import CAREHUB, connector_yaml
from tests.test_slice import drain

SECRET = "a test secret that is long enough for the hub"


@pytest.fixture
def workers_from_the_first_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start workers before the first batch and let it wait for them, so the run surely uses them."""
    monkeypatch.setattr(workers, "POOL_AFTER_ROWS", 0)
    monkeypatch.setattr(workers, "READY_WAIT_S", 60.0)


def _hub(home: Path) -> Hub:
    return Hub(Settings(home=home, broker=f"embedded://{home / 'broker.db'}", secret_key=SECRET, retry_seconds=5))


def _published(hub: Hub, topic: str) -> list[tuple[int, bytes, dict]]:
    """(partition, key, record) in partition order, without what differs between two runs."""
    shown = []
    for message in sorted(drain(hub, topic), key=lambda m: (m.partition, m.offset)):
        record = hub.codec.decode(message.value)[1]
        record["resident_id"] = hub.protector.decrypt(record.pop("resident_id_encrypted"))  # fresh nonce each run
        del record["ingest_time"]
        shown.append((message.partition, message.key, record))
    return shown


def _dead_letters(hub: Hub, topic: str) -> list[tuple[bytes | None, ...]]:
    return sorted((m.header("carehub.source.position"), m.header("carehub.rule"), m.header("carehub.error.message"))
                  for m in drain(hub, topic))


def test_workers_publish_what_one_process_publishes(tmp_path: Path, workers_from_the_first_batch: None) -> None:
    generated = generate_persons(tmp_path / "persons.csv", 1200, seed=31)
    assert generated.bad_checksums > 0
    config = example_config(generated.path).model_copy(update={"batch_size": 97})
    runs = {}
    for count in (0, 2):
        hub = _hub(tmp_path / f"workers-{count}")
        runner = hub.connector(config.model_copy(update={"workers": count}))
        stats = runner.run_once()
        again = runner.run_once()
        with hub.engine.connect() as conn:
            (quality,) = quality_report(conn)
        runs[count] = stats, again, quality, _published(hub, runner.topic), _dead_letters(hub, runner.dead_letter_topic)

    (alone, alone_again, alone_quality, alone_records, alone_dead), (pooled, pooled_again, pooled_quality, pooled_records, pooled_dead) = runs[0], runs[2]
    assert (alone.workers, pooled.workers) == (0, 2)
    assert (pooled.read, pooled.published, pooled.rejected, pooled.rejected_by_rule) == (
        alone.read, alone.published, alone.rejected, alone.rejected_by_rule)
    assert pooled.read == generated.rows and pooled.rejected >= generated.bad_checksums
    assert pooled_records == alone_records and len(pooled_records) == pooled.published
    assert pooled_dead == alone_dead and len(pooled_dead) == pooled.rejected
    assert pooled_quality == alone_quality
    assert alone_again.read == pooled_again.read == 0  # the cursor covers the whole file


def test_a_small_increment_stays_in_the_connector_s_process(tmp_path: Path) -> None:
    generated = generate_persons(tmp_path / "persons.csv", 300, seed=41)
    stats = _hub(tmp_path / "home").connector(example_config(generated.path).model_copy(update={"workers": 2})).run_once()
    assert stats.read == generated.rows < workers.POOL_AFTER_ROWS
    assert stats.workers == 0 and not _workers_of(os.getpid())


def test_auto_starts_one_worker_per_core_up_to_two_and_none_on_a_single_core() -> None:
    assert [workers.auto_workers(cpus) for cpus in (None, 1, 2, 3, 64)] == [0, 0, 2, 2, 2]


def test_a_worker_that_dies_fails_the_run_clearly_and_the_next_run_loses_nothing(
    tmp_path: Path, workers_from_the_first_batch: None
) -> None:
    generated = generate_persons(tmp_path / "persons.csv", 1000, seed=43, noise=Noise(bad_checksum=0.0))
    hub = _hub(tmp_path / "home")
    config = example_config(generated.path).model_copy(update={"batch_size": 50, "workers": 1})
    published: list[int] = []

    def kill_the_worker_after_one_batch(stats: RunStats) -> None:
        if not published:
            (worker,) = _workers_of(os.getpid())
            os.kill(worker, signal.SIGKILL)
        published.append(stats.published)

    with pytest.raises(workers.WorkerFailed, match="worker process exited .*workers: 0"):
        hub.connector(config).run_once(kill_the_worker_after_one_batch)
    with hub.engine.connect() as conn:
        (status,) = connector_statuses(conn)
    assert status.state is ConnectorState.FAILED and "worker process exited" in status.last_error
    assert status.published_total == published[-1] < generated.rows

    rest = hub.connector(config.model_copy(update={"workers": 0})).run_once()
    assert published[-1] + rest.published == generated.rows
    assert len({m.key for m in drain(hub, "src.registry.person.v1")}) == generated.distinct_persons


def _workers_of(pid: int) -> set[int]:
    """The live worker processes `pid` started."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[1]) == pid and fields[0] != "Z" and b"connectors.sdk.workers" in command:
            found.add(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_a_connector_killed_while_its_workers_run_leaves_none_behind_and_loses_nothing(tmp_path: Path, unique: str) -> None:
    generated = generate_persons(tmp_path / "persons.csv", 30000, seed=37, noise=Noise(bad_checksum=0.0))
    config = connector_yaml(tmp_path, generated.path)
    config.write_text(config.read_text(encoding="utf-8").replace("batch_size: 2000", "batch_size: 500\nworkers: 1"), encoding="utf-8")
    env = {**os.environ, "CAREHUB_HOME": str(tmp_path / "home")}
    command = CAREHUB + ["connect", "run", str(config), "--once"]

    connector = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    started: set[int] = set()
    while not started and connector.poll() is None and time.monotonic() < deadline:
        started = _workers_of(connector.pid)
        time.sleep(0.02)
    assert started, "the connector finished before its worker started: make the input larger"
    time.sleep(0.3)  # let the worker take batches
    connector.send_signal(signal.SIGKILL)
    connector.wait()
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in started) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in started)

    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    hub = Hub(Settings(home=tmp_path / "home"))
    published = {hub.codec.decode(m.value)[1]["source_record_id"] for m in drain(hub, "src.registry.person.v1")}
    with generated.path.open(encoding="utf-8") as f:
        expected = {line.split(",", 1)[0] for line in list(f)[1:]}
    assert expected - published == set()
