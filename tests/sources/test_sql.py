"""The sql source on SQLite and on real PostgreSQL: keyset pages, equal timestamps, late commits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from carehub.errors import ConfigError, ServiceUnavailable
from connectors.sdk.cursor import cursor_from_json, cursor_to_json
from connectors.sdk.sources import SourceRow
from connectors.sdk.sources.sql import SqlSource, SqlTableSource

T0 = datetime(2025, 6, 1, 9, 0, 0)  # stored without a zone, as Asia/Shanghai (the default)


class Clock:
    def __init__(self) -> None:
        self.seconds_after_t0 = 0.0

    def __call__(self) -> datetime:
        return (T0 + timedelta(seconds=self.seconds_after_t0)).replace(tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def person(database_url: str) -> Iterator[tuple[sa.Engine, sa.Table]]:
    """The source system's table, in its own database."""
    engine = sa.create_engine(database_url)
    table = sa.Table(
        "person", sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("updated_at", sa.DateTime),
        sa.Column("name", sa.String(64)),
        sa.Column("birth_date", sa.Date),
        sa.Column("note", sa.Text),
    )
    table.metadata.create_all(engine)
    yield engine, table
    engine.dispose()


def insert(engine: sa.Engine, table: sa.Table, *rows: tuple[int, float | None]) -> None:
    with engine.begin() as conn:
        conn.execute(table.insert(), [
            {"id": i, "updated_at": None if s is None else T0 + timedelta(seconds=s), "name": f"p{i}",
             "birth_date": date(1949, 12, 31), "note": None}
            for i, s in rows
        ])


def reader(engine: sa.Engine, clock: Clock, **settings: object) -> SqlTableSource:
    url = engine.url.render_as_string(hide_password=False)
    defaults = {"kind": "sql", "url": url, "table": "person", "mode": "timestamp+incrementing",
                "timestamp_column": "updated_at", "id_column": "id", "delay_s": 0}
    return SqlTableSource(SqlSource.model_validate(defaults | settings), clock=clock)


def poll(source: SqlTableSource, cursor: dict | None, batch_size: int = 2) -> tuple[list[SourceRow], dict | None]:
    """Every batch, each acknowledged: its cursor goes through the hub database's JSON form."""
    rows: list[SourceRow] = []
    for batch in source.batches(cursor, batch_size):
        assert len(batch.rows) <= batch_size
        rows += batch.rows
        cursor = cursor_from_json(cursor_to_json(batch.cursor))
    return rows, cursor


def ids(rows: list[SourceRow]) -> list[int]:
    return [int(r.values["id"]) for r in rows]


def test_rows_sharing_a_timestamp_are_neither_lost_nor_repeated_at_page_boundaries(person) -> None:
    engine, table = person
    insert(engine, table, (1, 0), (2, 0), (3, 0), (4, 1), (5, 1), (6, 1), (7, 2), (8, None))
    clock = Clock()
    clock.seconds_after_t0 = 60
    source = reader(engine, clock)

    rows, cursor = poll(source, None)
    assert ids(rows) == [1, 2, 3, 4, 5, 6, 7]  # 8 has no update time: never read
    assert rows[0].position == "person:id=1"
    assert rows[0].values == {"id": "1", "updated_at": "2025-06-01T09:00:00", "name": "p1",
                              "birth_date": "1949-12-31", "note": None}

    assert poll(source, cursor) == ([], cursor)
    insert(engine, table, (9, 2), (10, 3))  # 9 shares the last timestamp read, with a higher id
    rows, _ = poll(source, cursor)
    assert ids(rows) == [9, 10]


@pytest.mark.parametrize(("delay_s", "late_row_read"), [(0, False), (5, True)])
def test_a_row_committed_late_with_an_older_timestamp(person, delay_s: float, late_row_read: bool) -> None:
    """Kafka Connect's JDBC source loses such a row (its default delay is 0); a delay longer than
    the commit lag keeps it. Timeline in seconds after T0: A is stamped and committed at 0; B's
    transaction stamps it at 1 but commits only at 4; C is stamped and committed at 2."""
    engine, table = person
    insert(engine, table, (1, 0), (3, 2))  # A, C
    late = engine.connect()
    late.execute(table.insert().values(id=2, updated_at=T0 + timedelta(seconds=1), name="late"))  # B, open
    clock = Clock()
    source = reader(engine, clock, delay_s=delay_s)

    clock.seconds_after_t0 = 2.5
    first, cursor = poll(source, None)
    late.commit()
    late.close()
    clock.seconds_after_t0 = 6
    second, cursor = poll(source, cursor)
    clock.seconds_after_t0 = 60
    third, _ = poll(source, cursor)

    read = ids(first + second + third)
    assert sorted(read) == ([1, 2, 3] if late_row_read else [1, 3])
    assert len(read) == len(set(read))
    if not late_row_read:
        assert ids(first) == [1, 3]  # C moved the cursor past B's timestamp before B was visible


def test_incrementing_mode_reads_new_ids_of_a_query(person) -> None:
    engine, table = person
    insert(engine, table, (1, 0), (2, 0), (3, 5))
    source = reader(engine, Clock(), table=None, query="SELECT id, name FROM person WHERE id <> 2",
                    mode="incrementing", timestamp_column=None)
    rows, cursor = poll(source, None)
    assert [r.values for r in rows] == [{"id": "1", "name": "p1"}, {"id": "3", "name": "p3"}]
    assert rows[1].position == "query:id=3"
    insert(engine, table, (4, 0))  # an older timestamp does not matter here: the id is new
    assert ids(poll(source, cursor)[0]) == [4]


def test_timestamp_mode_breaks_ties_by_the_primary_key(person) -> None:
    engine, table = person
    insert(engine, table, (2, 0), (1, 0), (3, 0))
    source = reader(engine, Clock(), mode="timestamp", id_column=None)
    assert ids(poll(source, None, batch_size=1)[0]) == [1, 2, 3]


def test_a_wrong_table_or_column_names_the_setting_to_fix(person) -> None:
    engine, _ = person
    with pytest.raises(ConfigError, match="table persons does not exist .*check source.table"):
        poll(reader(engine, Clock(), table="persons"), None)
    with pytest.raises(ConfigError, match="person has no column 'changed_at'; check source.timestamp_column"):
        poll(reader(engine, Clock(), timestamp_column="changed_at"), None)


def test_an_unreachable_database_fails_with_one_line_naming_the_setting_without_the_password() -> None:
    source = SqlTableSource(SqlSource(kind="sql", url="postgresql+psycopg://reader:s3cret@127.0.0.1:1/registry",
                                      table="person", mode="incrementing", id_column="id", retry_s=0.5))
    with pytest.raises(ServiceUnavailable) as failure:
        poll(source, None)
    message = str(failure.value)
    assert "127.0.0.1:1" in message and "source.url" in message
    assert "s3cret" not in message and "\n" not in message
