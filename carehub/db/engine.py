"""Open the hub database, retry work while it is unreachable, and migrate its schema."""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError

from carehub.connectivity import call_with_backoff
from carehub.errors import ConfigError

SETTING = "CAREHUB_DATABASE_URL"
T = TypeVar("T")


def _unreachable(exc: BaseException) -> bool:
    """A lost or refused connection: worth waiting for, unlike a constraint or SQL error."""
    return isinstance(exc, OperationalError) or (isinstance(exc, DBAPIError) and exc.connection_invalidated)


def with_database_retry(engine: sa.Engine, work: Callable[[], T], *, retry_seconds: float) -> T:
    """Run `work` (one whole transaction), retrying it while the database is unreachable."""
    return call_with_backoff(
        work,
        service="the database",
        url=engine.url.render_as_string(hide_password=True),
        setting=SETTING,
        transient=_unreachable,
        budget_s=retry_seconds,
    )


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001 - DBAPI connection
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def open_database(url: str, *, retry_seconds: float = 30.0, migrate: bool = True) -> sa.Engine:
    """An engine for `url`, checked reachable (with backoff) and migrated to the newest schema."""
    try:
        parsed = sa.engine.make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(parsed, pool_pre_ping=True)
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise ConfigError(
            f"{SETTING}={url!r} is not a database URL ({exc}); use e.g. "
            "sqlite:///path/carehub.db or postgresql+psycopg://user:pass@host:5432/carehub"
        ) from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)

    def ping() -> None:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    with_database_retry(engine, ping, retry_seconds=retry_seconds)
    if migrate:
        upgrade(engine)
    return engine


def alembic_config(engine: sa.Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("carehub.db") / "migrations"))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Apply every migration not yet applied (Alembic)."""
    command.upgrade(alembic_config(engine), revision)
