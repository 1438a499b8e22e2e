"""`carehub lag` as an operator runs it: a table on the terminal, JSON for scripts, --watch until Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

from carehub.broker import TopicPartition, open_broker
from tests.ops.conftest import commit, produce
from tests.test_cli import CAREHUB, run

GROUP = "carehub-reconciler"


def behind_by_six(home: Path) -> dict[str, str]:
    broker = open_broker(f"embedded://{home / 'broker.db'}")
    produce(broker, "src.registry.person.v1", 10)
    commit(broker, GROUP, {TopicPartition("src.registry.person.v1", 0): 4})
    return {"CAREHUB_HOME": str(home)}


def test_lag_shows_each_group_as_a_table_and_as_json(tmp_path: Path) -> None:
    env = behind_by_six(tmp_path / "home")

    table = run(["lag"], {**env, "COLUMNS": "120"})  # a terminal wide enough for topic names
    assert table.returncode == 0, table.stderr
    assert GROUP in table.stdout and "src.registry.person.v1[0]" in table.stdout
    assert "consuming" in table.stdout  # the rule that decided the partition's status

    shown = run(["lag", "--json", "--group", GROUP], env)
    assert shown.returncode == 0, shown.stderr
    (group,) = json.loads(shown.stdout)["groups"]
    assert (group["group"], group["status"], group["lag"]) == (GROUP, "OK", 6)
    assert [p["committed"] for p in group["partitions"]] == [4]
    assert len(group["history"]) == 2  # each call stored a sample

    unknown = run(["lag", "--group", "nobody"], env)
    assert unknown.returncode == 0
    assert "no committed offsets for group nobody" in unknown.stderr


def test_lag_watch_measures_again_until_interrupted(tmp_path: Path) -> None:
    env = behind_by_six(tmp_path / "home")
    with subprocess.Popen(
        [*CAREHUB, "lag", "--json", "--watch", "0.5"], env={**os.environ, **env},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    ) as watching:
        assert watching.stdout is not None
        lines = [watching.stdout.readline() for _ in range(3)]
        watching.send_signal(signal.SIGINT)
        assert watching.wait(timeout=30) == 0

    measured = [json.loads(line) for line in lines]
    assert [len(m["groups"][0]["history"]) for m in measured] == [1, 2, 3]
