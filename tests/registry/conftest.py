"""A hub registry over the test database (SQLite, and PostgreSQL under the `postgres` marker)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from carehub.db.engine import open_database
from carehub.registry.store import DatabaseRegistry


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = open_database(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def registry(engine: sa.Engine) -> DatabaseRegistry:
    return DatabaseRegistry(engine)
