"""A connector with rejected rows and a reconciler group with undecodable messages, on either transport."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from carehub.broker.base import Message, TopicPartition
from carehub.cli import app
from carehub.dlq import DeadLetter, send_dead_letter
from carehub.hub import Hub
from carehub.identifiers.resident_id import check_char
from carehub.settings import Settings
from carehub.topics import dead_letter_topic
from connectors.sdk.config import load_config

EXAMPLE = Path(__file__).parents[2] / "connectors/examples/registry_person_csv.yaml"
SEX_CODES = '  sex: {男: "1", 女: "2", 未知: "0", 未说明: "9"}'
#: The fix: the source system also writes M for male.
SEX_CODES_FIXED = '  sex: {男: "1", 女: "2", 未知: "0", 未说明: "9", M: "1"}'
CONNECTOR = "registry-person-csv"


def resident_id(first17: str) -> str:
    return first17 + check_char(first17)


#: source record id → (resident ID, sex as the source writes it, birth date)
ROWS = {
    "p-1": (resident_id("11010519491231002"), "男", "1949-12-31"),
    "p-2": (resident_id("44190019500102004"), "女", "1950-01-02"),
    "p-3": (resident_id("33010619480315123"), "M", "1948-03-15"),  # fixed by SEX_CODES_FIXED
    "p-4": (resident_id("32010219470721345"), "?", "1947-07-21"),  # a bad row, whatever the fix
    "p-5": (resident_id("11010119460101001"), "女", "no date"),  # a bad row, whatever the fix
}


@dataclass
class Scenario:
    hub: Hub
    env: dict[str, str]  # for the CLI
    folder: Path

    @property
    def prefix(self) -> str:
        return self.hub.settings.topic_prefix

    @property
    def connector_queue(self) -> str:
        return f"{self.prefix}dlq.{CONNECTOR}"

    @property
    def person_topic(self) -> str:
        return f"{self.prefix}src.registry.person.v1"

    def connector_yaml(self, *, fixed: bool) -> Path:
        text = EXAMPLE.read_text(encoding="utf-8").replace("path: persons.csv", f"path: {self.folder / 'persons.csv'}")
        path = self.folder / ("fixed.yaml" if fixed else "connector.yaml")
        path.write_text(text.replace(SEX_CODES, SEX_CODES_FIXED) if fixed else text, encoding="utf-8")
        return path

    def run_connector(self) -> None:
        with (self.folder / "persons.csv").open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["记录号", "更新时间", "身份证号", "姓名", "性别", "出生日期", "户籍地区划", "住址"])
            for record_id, (rid, sex, born) in ROWS.items():
                writer.writerow([record_id, "2025-06-01 10:00:00", rid, "张三", sex, born, "110105", "北京市朝阳区"])
        stats = self.hub.connector(load_config(self.connector_yaml(fixed=False))).run_once()
        assert (stats.published, stats.rejected) == (2, 3)

    def messages(self, topic: str) -> list[Message]:
        with self.hub.broker.admin() as admin:
            partitions = admin.list_topics().get(topic, 0)
            found: list[Message] = []
            for p in range(partitions):
                offset = 0
                while batch := admin.read(TopicPartition(topic, p), offset):
                    found += batch
                    offset = batch[-1].offset + 1
        return found

    def published_ids(self) -> list[str]:
        return sorted(self.hub.codec.decode(m.value)[1]["source_record_id"] for m in self.messages(self.person_topic))

    def reject_as_reconciler(self, group: str, message: Message, rule: str) -> None:
        """Dead-letter `message` as a reconciler group does with a message it cannot decode."""
        with self.hub.broker.admin() as admin:
            admin.create_topics([dead_letter_topic(group).spec(self.prefix)])
        with self.hub.broker.producer() as producer:
            send_dead_letter(producer, f"{self.prefix}dlq.{group}", DeadLetter(
                origin=group, position=f"{message.topic}/{message.partition}/{message.offset}", stage="decode",
                field="value", rule=rule, error_class="UndecodableMessage", message=f"cannot decode ({rule})",
                shown=None, original=message.value,
            ), self.hub.protector)
            producer.flush()


@pytest.fixture
def scenario(broker_url: str, tmp_path: Path, unique: str) -> Scenario:
    settings = Settings(home=tmp_path / "home", broker=broker_url, topic_prefix=f"t{unique}.")
    env = {"CAREHUB_HOME": str(tmp_path / "home"), "CAREHUB_BROKER": broker_url,
           "CAREHUB_TOPIC_PREFIX": f"t{unique}.", "COLUMNS": "400"}
    return Scenario(Hub(settings), env, tmp_path)


def carehub(scenario: Scenario, *args: str) -> Result:
    """Run a `carehub` command in this scenario's settings; fail the test if it fails."""
    result = CliRunner().invoke(app, list(args), env=scenario.env)
    assert result.exit_code == 0, f"{result.output}\n{result.exception!r}"
    return result
