"""`carehub dlq replay`: fixed rows are published once, rows still bad stay in the queue, and a
reconciler group's messages go back to their topic only when asked."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from carehub.broker.base import Message
from carehub.cli import app
from carehub.dlq import StoredLetter
from carehub.dlq.queues import read_letters
from tests.dlq.conftest import CONNECTOR, Scenario, carehub

GROUP = "carehub-reconciler"


def _queue(scenario: Scenario, queue: str) -> list[dict]:
    return json.loads(carehub(scenario, "dlq", "show", queue, "--limit", "100", "--json").stdout)


def _letters(scenario: Scenario, queue: str) -> list[StoredLetter]:
    with scenario.hub.broker.admin() as admin:
        return read_letters(admin, queue)


def test_replay_after_a_fix_publishes_the_fixed_row_exactly_once(scenario: Scenario) -> None:
    scenario.run_connector()
    fixed = str(scenario.connector_yaml(fixed=True))

    first = carehub(scenario, "dlq", "replay", scenario.connector_queue, "--connector-config", fixed).stdout
    second = carehub(scenario, "dlq", "replay", scenario.connector_queue, "--connector-config", fixed).stdout

    assert scenario.published_ids() == ["p-1", "p-2", "p-3"]
    assert "published → " in first and _count(first, "published") == 1 and _count(first, "still rejected") == 2
    assert _count(second, "published") == 0 and _count(second, "already replayed: skipped") == 3
    fixed_row = next(m for m in scenario.messages(scenario.person_topic) if _record_id(scenario, m) == "p-3")
    assert scenario.hub.codec.decode(fixed_row.value)[1]["sex"] == "1"


def test_a_row_still_bad_stays_in_the_queue_waiting_for_the_next_fix(scenario: Scenario) -> None:
    scenario.run_connector()

    carehub(scenario, "dlq", "replay", scenario.connector_queue, "--connector-config", str(scenario.connector_yaml(fixed=True)))

    letters = _queue(scenario, scenario.connector_queue)
    waiting = [letter for letter in letters if letter["replayed"] is None]
    assert sorted(letter["record"]["记录号"] for letter in waiting) == ["p-4", "p-5"]
    replaced = {letter["letter"]: letter["replayed"] for letter in letters if letter["replayed"]}
    assert sorted(replaced.values()) == ["published", "rejected", "rejected"]
    assert {letter["context"]["replay.of"] for letter in waiting} <= set(replaced)
    queues = json.loads(carehub(scenario, "dlq", "list", "--json").stdout)
    assert [(q["records"], q["waiting"]) for q in queues] == [(5, 2)]


def test_a_selection_replays_only_its_rule_and_a_dry_run_sends_and_records_nothing(scenario: Scenario) -> None:
    scenario.run_connector()
    fixed = str(scenario.connector_yaml(fixed=True))

    dry = carehub(scenario, "dlq", "replay", scenario.connector_queue, "--connector-config", fixed, "--dry-run").stdout
    assert "dry run" in dry and _count(dry, "published") == 1
    assert scenario.published_ids() == ["p-1", "p-2"] and len(_letters(scenario, scenario.connector_queue)) == 3

    only = carehub(scenario, "dlq", "replay", scenario.connector_queue, "--connector-config", fixed,
                   "--rule", "date_from_datetime_parsing").stdout
    assert _count(only, "selected") == 1 and _count(only, "published") == 0
    assert scenario.published_ids() == ["p-1", "p-2"]


def test_the_yaml_of_another_connector_is_refused(scenario: Scenario) -> None:
    scenario.run_connector()
    other = scenario.connector_yaml(fixed=True)
    other.write_text(other.read_text(encoding="utf-8").replace(f"name: {CONNECTOR}", "name: another-connector"),
                     encoding="utf-8")

    result = CliRunner().invoke(app, ["dlq", "replay", scenario.connector_queue, "--connector-config", str(other)],
                                env=scenario.env)

    assert result.exit_code != 0
    assert "not the dead-letter queue of connector another-connector" in str(result.exception)
    assert scenario.published_ids() == ["p-1", "p-2"]


def test_a_groups_messages_go_back_to_their_topic_only_with_to_source_and_once(scenario: Scenario) -> None:
    scenario.run_connector()
    published = scenario.messages(scenario.person_topic)[0]
    record = scenario.hub.codec.decode(published.value)[1]
    with scenario.hub.broker.producer() as producer:
        producer.send(scenario.person_topic, b"not avro at all", key=b"k-garbage")
        producer.flush()
    garbage = next(m for m in scenario.messages(scenario.person_topic) if m.value == b"not avro at all")
    # The group read with a registry that did not know the schema yet, and could not read garbage at all.
    scenario.reject_as_reconciler(GROUP, published, "wire.unknown_schema")
    scenario.reject_as_reconciler(GROUP, garbage, "wire.magic_byte")
    queue = f"{scenario.prefix}dlq.{GROUP}"
    before = len(scenario.messages(scenario.person_topic))

    explained = carehub(scenario, "dlq", "replay", queue).stdout
    assert "--to-source" in explained and "Nothing was sent" in explained
    assert len(scenario.messages(scenario.person_topic)) == before

    sent = carehub(scenario, "dlq", "replay", queue, "--to-source").stdout
    again = carehub(scenario, "dlq", "replay", queue, "--to-source").stdout

    after = scenario.messages(scenario.person_topic)
    assert len(after) == before + 1
    copies = [m for m in after if m.value == published.value]
    assert len(copies) == 2 and {(m.key, m.partition) for m in copies} == {(published.key, published.partition)}
    assert scenario.hub.codec.decode(copies[1].value)[1] == record
    assert _count(sent, "published") == 1 and _count(sent, "still rejected") == 1
    assert _count(again, "published") == 0 and _count(again, "still rejected") == 1
    waiting = [letter for letter in _queue(scenario, queue) if letter["replayed"] is None]
    assert [letter["context"]["rule"] for letter in waiting] == ["wire.magic_byte"]


def _record_id(scenario: Scenario, message: Message) -> str:
    return scenario.hub.codec.decode(message.value)[1]["source_record_id"]


def _count(report: str, what: str) -> int:
    """The number on the report's line that starts with `what`."""
    for line in report.splitlines():
        cells = [c.strip() for c in line.strip("│┃ ").split("│")]
        if len(cells) == 2 and cells[0].startswith(what):
            return int(cells[1])
    raise AssertionError(f"no line {what!r} in\n{report}")
