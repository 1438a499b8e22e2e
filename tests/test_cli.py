"""The command line as an operator uses it: separate processes, clear one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from carehub.demo.persons import generate_persons

CAREHUB = [sys.executable, "-m", "carehub.cli"]


def run(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(CAREHUB + args, env={**os.environ, **env}, capture_output=True, text=True, timeout=timeout)


def connector_yaml(tmp_path: Path, csv_path: Path) -> Path:
    example = (Path(__file__).parents[1] / "connectors/examples/registry_person_csv.yaml").read_text(encoding="utf-8")
    path = tmp_path / "connector.yaml"
    path.write_text(example.replace("path: persons.csv", f"path: {csv_path}"), encoding="utf-8")
    return path


def test_connector_and_reconciler_run_as_separate_processes(tmp_path: Path) -> None:
    env = {"CAREHUB_HOME": str(tmp_path / "home")}
    generated = generate_persons(tmp_path / "persons.csv", 200, seed=3)
    config = connector_yaml(tmp_path, generated.path)

    published = run(["connect", "run", str(config), "--once"], env)
    assert published.returncode == 0, published.stderr
    assert "published" in published.stdout and "rejected" in published.stdout

    consumed = run(["consume", "run", "--until-idle"], env)
    assert consumed.returncode == 0, consumed.stderr
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'home' / 'carehub.db'}")
    with engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT count(*) FROM elder")) == generated.distinct_persons


def test_unreachable_kafka_fails_with_one_line_naming_the_url_and_setting(tmp_path: Path) -> None:
    started = time.monotonic()
    result = run(["consume", "run", "--until-idle"],
                 {"CAREHUB_HOME": str(tmp_path), "CAREHUB_BROKER": "kafka://127.0.0.1:1", "CAREHUB_RETRY_SECONDS": "2"})
    assert result.returncode == 3
    last = result.stderr.strip().splitlines()[-1]
    assert "kafka://127.0.0.1:1" in last and "CAREHUB_BROKER" in last
    assert "Traceback" not in result.stderr
    assert time.monotonic() - started < 60


def test_unreachable_database_fails_with_one_line_naming_the_setting(tmp_path: Path) -> None:
    result = run(["consume", "run", "--until-idle"], {
        "CAREHUB_HOME": str(tmp_path), "CAREHUB_RETRY_SECONDS": "1",
        "CAREHUB_DATABASE_URL": "postgresql+psycopg://nobody:secret@127.0.0.1:1/none",
    })
    assert result.returncode == 3
    last = result.stderr.strip().splitlines()[-1]
    assert "127.0.0.1:1" in last and "CAREHUB_DATABASE_URL" in last and "secret" not in result.stderr


def test_malformed_broker_url_is_refused_at_start(tmp_path: Path) -> None:
    result = run(["consume", "run"], {"CAREHUB_HOME": str(tmp_path), "CAREHUB_BROKER": "localhost:9092"})
    assert result.returncode == 2
    assert "CAREHUB_BROKER='localhost:9092' is not a broker URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_connect_check_shows_masked_mapped_records_without_publishing(tmp_path: Path) -> None:
    generated = generate_persons(tmp_path / "persons.csv", 20, seed=5)
    result = run(["connect", "check", str(connector_yaml(tmp_path, generated.path)), "--sample", "3"],
                 {"CAREHUB_HOME": str(tmp_path / "home"), "COLUMNS": "250"})
    assert result.returncode == 0, result.stderr
    assert "configuration valid" in result.stdout
    assert "********" in result.stdout
    assert not (tmp_path / "home" / "broker.db").exists()
