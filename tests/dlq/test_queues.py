"""`carehub dlq list` and `carehub dlq show`: what each queue holds, never a plaintext resident ID."""

from __future__ import annotations

import json

from tests.dlq.conftest import CONNECTOR, ROWS, Scenario, carehub


def test_list_counts_each_queue_and_names_its_top_rules(scenario: Scenario) -> None:
    scenario.run_connector()

    queues = json.loads(carehub(scenario, "dlq", "list", "--json").stdout)

    assert queues == [{
        "topic": scenario.connector_queue, "records": 3, "waiting": 3,
        "top_rules": [["sex.code", 2], ["date_from_datetime_parsing", 1]],
    }]
    table = carehub(scenario, "dlq", "list").stdout
    assert scenario.connector_queue in table and "sex.code (2)" in table


def test_show_gives_context_and_masked_record_but_never_a_resident_id(scenario: Scenario) -> None:
    scenario.run_connector()

    shown = json.loads(carehub(scenario, "dlq", "show", scenario.connector_queue, "--json").stdout)
    table = carehub(scenario, "dlq", "show", f"dlq.{CONNECTOR}").stdout  # the name without the topic prefix works too

    assert [letter["record"]["记录号"] for letter in shown] == ["p-3", "p-4", "p-5"]
    first = shown[0]
    assert first["context"]["origin"] == CONNECTOR
    assert first["context"]["source.position"].endswith("persons.csv:4")
    assert (first["context"]["stage"], first["context"]["field"], first["context"]["rule"]) == ("validate", "sex", "sex.code")
    assert first["record"]["身份证号"] == ROWS["p-3"][0][:6] + "********" + ROWS["p-3"][0][-4:]
    assert first["original_kept"] and first["replayed"] is None
    for rid, _, _ in ROWS.values():
        assert rid not in json.dumps(shown, ensure_ascii=False) and rid not in table
    assert "original_encrypted" not in json.dumps(shown)


def test_show_selects_by_rule_and_keeps_the_newest(scenario: Scenario) -> None:
    scenario.run_connector()

    by_rule = json.loads(carehub(scenario, "dlq", "show", scenario.connector_queue, "--rule", "sex.code", "--json").stdout)
    newest = json.loads(carehub(scenario, "dlq", "show", scenario.connector_queue, "--limit", "1", "--json").stdout)
    future = json.loads(carehub(scenario, "dlq", "show", scenario.connector_queue, "--since", "2999-01-01", "--json").stdout)

    assert [letter["record"]["记录号"] for letter in by_rule] == ["p-3", "p-4"]
    assert [letter["record"]["记录号"] for letter in newest] == ["p-5"]
    assert future == []
