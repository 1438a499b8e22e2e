"""The `sql` source: new and changed rows of a table or query, by keyset pages, through SQLAlchemy.

Modes, as in Kafka Connect's JDBC source:

- `incrementing`: rows whose `id_column` (strictly increasing) is past the cursor; sees inserts only.
- `timestamp`: rows whose (`timestamp_column`, `id_column`) is past the cursor; sees inserts and
  updates. `id_column` breaks ties between equal timestamps and defaults to the primary key.
- `timestamp+incrementing`: the same keyset, with an explicitly named increasing id.

Each page is `WHERE (ts, id) > (:ts, :id) ORDER BY ts, id LIMIT batch_size`, so memory stays
bounded and rows sharing a timestamp are never skipped at a page boundary.

Late commits. A transaction stamps its row at time T but may commit later. Kafka Connect (with
its default delay of 0) reads rows newer than T meanwhile, moves its cursor past T, and never
sees the late row. Here, a timestamp mode reads only rows stamped at least `delay_s` seconds ago:
a row whose commit lags its timestamp by less than `delay_s` is always read. A row that commits
later than that is missed; if a source system has such transactions, raise `delay_s` above its
longest commit lag. Rows with a NULL timestamp are never read."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal, Self
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from pydantic import Field, SecretStr, model_validator

from carehub.connectivity import call_with_backoff
from carehub.errors import ConfigError
from connectors.sdk.sources.base import Batch, Source, SourceRow, SourceSettings, TimeZoneName, secret_from

Mode = Literal["incrementing", "timestamp", "timestamp+incrementing"]


class SqlSource(SourceSettings):
    """A table (or query) of any database SQLAlchemy reaches: PostgreSQL, MySQL, SQLite, …"""

    kind: Literal["sql"]
    url: SecretStr | None = Field(None, description="SQLAlchemy URL; relative SQLite paths are relative to the YAML")
    url_env: str | None = Field(None, description="environment variable holding the URL, to keep passwords out of YAML")
    table: str | None = Field(None, description="table name, optionally schema.table")
    query: str | None = Field(None, description="a SELECT, read as a subquery, instead of a table")
    mode: Mode
    id_column: str | None = None
    timestamp_column: str | None = None
    delay_s: float = Field(5.0, ge=0, description="read only rows stamped at least this long ago")
    timezone: TimeZoneName = Field("Asia/Shanghai", description="the zone of timestamps stored without one")
    retry_s: float = Field(30.0, gt=0, description="how long to retry an unreachable database")


    @model_validator(mode="after")
    def _complete(self) -> SqlSource:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("give exactly one of url and url_env")
        if (self.table is None) == (self.query is None):
            raise ValueError("give exactly one of table and query")
        if self.mode != "timestamp" and not self.id_column:
            raise ValueError(f"mode {self.mode} needs id_column")
        if self.mode != "incrementing" and not self.timestamp_column:
            raise ValueError(f"mode {self.mode} needs timestamp_column")
        if self.query and not self.id_column:
            raise ValueError("a query has no primary key to break timestamp ties: name id_column")
        return self

    def resolved(self, base: Path, environ: Mapping[str, str]) -> Self:
        url = sa.make_url(
            secret_from(environ, self.url_env, "source.url_env") if self.url_env else self.url.get_secret_value()
        )
        if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
            if not Path(url.database).is_absolute():
                url = url.set(database=str((base / url.database).resolve()))
        return self.model_copy(update={"url": SecretStr(url.render_as_string(hide_password=False))})

    @property
    def setting(self) -> str:
        """The YAML setting an operator changes to point at another database."""
        return f"source.url_env ({self.url_env})" if self.url_env else "source.url"

    def open(self) -> Source:
        if self.url is None:
            raise ConfigError(f"{self.setting} was not read: load the connector with load_config")
        return SqlTableSource(self)


class SqlTableSource(Source):
    def __init__(self, settings: SqlSource, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.settings = settings
        self._clock = clock
        self._zone = ZoneInfo(settings.timezone)
        url = sa.make_url(settings.url.get_secret_value())
        self._shown_url = url.render_as_string(hide_password=True)
        # pre-ping: between polls a firewall may drop the idle connection to a system we do not own
        self._engine = sa.create_engine(url, pool_pre_ping=True)
        self._name = settings.table or "query"
        self._selectable: sa.FromClause | None = None
        self._key: sa.ColumnElement | None = None
        self._stamp: sa.ColumnElement | None = None

    def batches(self, cursor: dict | None, batch_size: int) -> Iterator[Batch]:
        after = self._after(cursor)
        bound = self._clock() - timedelta(seconds=self.settings.delay_s)
        while True:
            with self._connect() as conn:
                if self._selectable is None:
                    self._describe(conn)
                fetched = conn.execute(self._page(after, batch_size)).mappings().all()
            due = fetched if self._stamp is None else self._stamped_before(fetched, bound)
            if due:
                last = due[-1]
                after = (last[self._stamp.name], last[self._key.name]) if self._stamp is not None else (last[self._key.name],)
                yield Batch([self._row(r) for r in due], self._cursor(after))
            if len(due) < batch_size:
                return

    def _connect(self) -> sa.Connection:
        return call_with_backoff(
            self._engine.connect, service="source database", url=self._shown_url, setting=self.settings.setting,
            transient=lambda exc: isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError),
            budget_s=self.settings.retry_s,
        )

    def _describe(self, conn: sa.Connection) -> None:
        """Find the table (or wrap the query) and its keyset columns, once per source."""
        s = self.settings
        if s.table:
            schema, _, name = s.table.rpartition(".")
            try:
                selectable = sa.Table(name, sa.MetaData(), schema=schema or None, autoload_with=conn)
            except sa.exc.NoSuchTableError:
                raise ConfigError(f"table {s.table} does not exist at {self._shown_url}; check source.table") from None
            primary = [c.name for c in selectable.primary_key.columns]
            if not s.id_column and len(primary) != 1:
                raise ConfigError(f"table {s.table} has no single-column primary key to break timestamp ties; "
                                  "name one unique column as source.id_column")
            key_name = s.id_column or primary[0]
        else:
            key_name = s.id_column
            named = [sa.column(c) for c in {key_name, s.timestamp_column} - {None}]
            selectable = sa.text(s.query).columns(*named).subquery("src")
        for setting, column in (("id_column", key_name), ("timestamp_column", s.timestamp_column)):
            if column is not None and column not in selectable.c:
                raise ConfigError(f"{self._name} has no column {column!r}; check source.{setting}")
        self._key = selectable.c[key_name]
        self._stamp = selectable.c[s.timestamp_column] if s.timestamp_column else None
        self._selectable = selectable

    def _page(self, after: tuple | None, batch_size: int) -> sa.Select:
        query = sa.select(self._selectable if self.settings.table else sa.literal_column("*")).select_from(self._selectable)
        if self._stamp is None:
            order = (self._key,)
        else:
            order = (self._stamp, self._key)
            query = query.where(self._stamp.is_not(None))
        if after is not None:
            bound = [sa.literal(value, column.type) for value, column in zip(after, order, strict=True)]
            query = query.where(order[0] > bound[0] if len(order) == 1 else sa.tuple_(*order) > sa.tuple_(*bound))
        return query.order_by(*order).limit(batch_size)

    def _stamped_before(self, rows: list[sa.RowMapping], bound: datetime) -> list[sa.RowMapping]:
        """The leading rows stamped at or before `bound`; rows come ordered by timestamp."""
        for index, row in enumerate(rows):
            if self._aware(row[self._stamp.name]) > bound:
                return rows[:index]
        return rows

    def _aware(self, value: Any) -> datetime:
        if isinstance(value, str):  # SQLite keeps timestamps as text
            value = datetime.fromisoformat(value)
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=self._zone)
        if isinstance(value, date):
            return datetime.combine(value, time.min, self._zone)
        raise ConfigError(f"{self._name}.{self._stamp.name} holds {type(value).__name__} values, not timestamps; "
                          "check source.timestamp_column")

    def _after(self, cursor: dict | None) -> tuple | None:
        if cursor is None:
            return None
        wanted = ("timestamp", "id") if self._needs_stamp else ("id",)
        if any(k not in cursor for k in wanted):
            raise ConfigError(f"the stored cursor {sorted(cursor)} was not written for mode {self.settings.mode}; "
                              "restore the previous source.mode or give the connector a new name to start over")
        return tuple(cursor[k] for k in wanted)

    @property
    def _needs_stamp(self) -> bool:
        return self.settings.mode != "incrementing"

    def _cursor(self, after: tuple) -> dict:
        return dict(zip(("timestamp", "id") if self._needs_stamp else ("id",), after, strict=True))

    def _row(self, row: sa.RowMapping) -> SourceRow:
        return SourceRow(f"{self._name}:{self._key.name}={row[self._key.name]}", {k: _text(v) for k, v in row.items()})


def _text(value: Any) -> str | None:
    """Column values as the mapping step expects them: text, ISO dates, None for NULL."""
    match value:
        case None | str():
            return value
        case bool():
            return "true" if value else "false"
        case datetime() | date() | time():
            return value.isoformat()
        case bytes() | memoryview():
            return bytes(value).hex()
        case _:  # numbers, decimals, UUIDs
            return str(value)
