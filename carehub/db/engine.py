"""Open the hub database with retries and bring its schema to the newest migration."""

from __future__ import annotations

from importlib.resources import files

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from carehub.connectivity import call_with_backoff
from carehub.errors import ConfigError

SETTING = "CAREHUB_DATABASE_URL"


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
            from pathlib import Path

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

    call_with_backoff(
        ping,
        service="the database",
        url=parsed.render_as_string(hide_password=True),
        setting=SETTING,
        transient=lambda exc: isinstance(exc, OperationalError),
        budget_s=retry_seconds,
    )
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
