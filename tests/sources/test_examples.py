"""The shipped example connectors load, and the sql and file_drop ones publish through the runner."""

from __future__ import annotations

import csv
import os
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from carehub.demo.persons import generate_persons
from carehub.errors import ConfigError
from carehub.hub import Hub
from carehub.settings import Settings
from connectors.sdk.config import load_config

EXAMPLES = Path(__file__).parents[2] / "connectors/examples"


@pytest.fixture
def hub(tmp_path: Path, embedded_broker_url: str, sqlite_url: str, unique: str) -> Hub:
    return Hub(Settings(home=tmp_path / "home", broker=embedded_broker_url, database_url=sqlite_url,
                        topic_prefix=f"t{unique}.", retry_seconds=5))


def copy_example(name: str, into: Path) -> Path:
    path = into / name
    path.write_text((EXAMPLES / name).read_text(encoding="utf-8"), encoding="utf-8")
    return path


@pytest.mark.parametrize(("name", "kind"), [
    ("registry_person_csv.yaml", "csv"), ("registry_person_sql.yaml", "sql"),
    ("registry_person_file_drop.yaml", "file_drop"), ("registry_person_http.yaml", "http"),
])
def test_every_example_loads(name: str, kind: str) -> None:
    assert load_config(EXAMPLES / name, {"REGISTRY_API_TOKEN": "t"}).source.kind == kind


def test_an_unknown_source_kind_is_refused_naming_the_kinds_there_are(tmp_path: Path) -> None:
    path = copy_example("registry_person_csv.yaml", tmp_path)
    path.write_text(path.read_text(encoding="utf-8").replace("kind: csv", "kind: ftp"), encoding="utf-8")
    with pytest.raises(ConfigError, match="source: Input tag 'ftp' found using 'kind' does not match any of the expected tags: "
                                          "'csv', 'sql', 'file_drop', 'http'"):
        load_config(path)


def test_a_sql_source_needs_a_table_or_a_query(tmp_path: Path) -> None:
    path = copy_example("registry_person_sql.yaml", tmp_path)
    path.write_text(path.read_text(encoding="utf-8").replace("  table: person", "  # no table"), encoding="utf-8")
    with pytest.raises(ConfigError, match="source.sql: Value error, give exactly one of table and query"):
        load_config(path)


def test_the_sql_example_publishes_new_rows_once(hub: Hub, tmp_path: Path) -> None:
    config_path = copy_example("registry_person_sql.yaml", tmp_path)
    registry = sa.create_engine(f"sqlite:///{tmp_path / 'registry.db'}")  # the example's url, beside the YAML
    person = sa.Table("person", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                      sa.Column("updated_at", sa.DateTime), *(sa.Column(c, sa.String) for c in (
                          "id_number", "name", "sex", "birth_date", "household_division", "address")))
    person.metadata.create_all(registry)
    an_hour_ago = datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None) - timedelta(hours=1)  # as the source keeps it
    row = {"id_number": "11010519491231002X", "name": "张三", "sex": "女", "birth_date": "1949-12-31",
           "household_division": "110105", "address": "北京"}
    with registry.begin() as conn:
        conn.execute(person.insert(), [{"id": i, "updated_at": an_hour_ago, **row} for i in (1, 2, 3)])

    connector = hub.connector(load_config(config_path))
    assert connector.run_once().published == 3
    with registry.begin() as conn:
        conn.execute(person.insert(), [{"id": 4, "updated_at": an_hour_ago, **row}])
    assert connector.run_once().published == 1
    assert hub.connector(load_config(config_path)).run_once().read == 0  # the cursor lives in the hub database


def test_the_file_drop_example_publishes_each_file_once_then_moves_it(hub: Hub, tmp_path: Path) -> None:
    config = load_config(copy_example("registry_person_file_drop.yaml", tmp_path))
    generated = generate_persons(tmp_path / "inbox/registry/persons.csv", 50, seed=5)
    settled = time.time() - 5
    os.utime(generated.path, (settled, settled))

    stats = hub.connector(config).run_once()
    assert stats.read == generated.rows and stats.published + stats.rejected == generated.rows
    assert (tmp_path / "inbox/registry/done/persons.csv").exists()
    assert hub.connector(config).run_once().read == 0

    (tmp_path / "inbox/registry/broken.csv").write_bytes(b"\x00\x01garbage")
    os.utime(tmp_path / "inbox/registry/broken.csv", (settled, settled))
    assert hub.connector(config).run_once().read == 0
    assert "binary content" in (tmp_path / "inbox/registry/quarantine/broken.csv.reason.txt").read_text(encoding="utf-8")
    with generated.path.parent.joinpath("done/persons.csv").open(encoding="utf-8") as f:
        assert len(list(csv.reader(f))) == generated.rows + 1
