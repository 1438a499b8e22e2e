"""Shared fixtures: real services (Kafka, PostgreSQL) named by marker, and per-test isolation.

`make services-up` starts both services; tests that need one fail (never skip) when it is down,
so a run that claims to cover Kafka and PostgreSQL really did."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

KAFKA_URL = os.environ.get("CAREHUB_TEST_KAFKA", "kafka://127.0.0.1:9092")
POSTGRES_URL = os.environ.get(
    "CAREHUB_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _require_listening(service: str, host: str, port: int) -> None:
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError as exc:
        pytest.fail(
            f"{service} is not running at {host}:{port} ({exc}); start it with `make services-up`",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def kafka_url() -> str:
    host, port = KAFKA_URL.removeprefix("kafka://").split(",")[0].rsplit(":", 1)
    _require_listening("Apache Kafka", host, int(port))
    return KAFKA_URL


@pytest.fixture(scope="session")
def postgres_server() -> str:
    url = sa.engine.make_url(POSTGRES_URL)
    _require_listening("PostgreSQL", url.host or "127.0.0.1", url.port or 5432)
    return POSTGRES_URL


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"carehub_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield sa.engine.make_url(postgres_server).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'carehub.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """Every database-backed behaviour runs on SQLite (the default) and on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def embedded_broker_url(tmp_path: Path) -> str:
    return f"embedded://{tmp_path / 'broker.db'}"


@pytest.fixture(params=["embedded", pytest.param("kafka", marks=pytest.mark.kafka)])
def broker_url(request: pytest.FixtureRequest) -> str:
    """Every broker-backed behaviour runs on the embedded log and on Apache Kafka."""
    return request.getfixturevalue("embedded_broker_url" if request.param == "embedded" else "kafka_url")


@pytest.fixture
def unique() -> str:
    """A suffix that keeps this test's topics and groups apart from every other test's."""
    return uuid.uuid4().hex[:10]
