"""A connector killed with SIGKILL at any moment and restarted loses no source record."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from carehub.demo.persons import Noise, generate_persons
from carehub.hub import Hub
from carehub.settings import Settings
from tests.test_cli import CAREHUB, connector_yaml
from tests.test_slice import drain


@pytest.mark.parametrize("kills", [3])
def test_sigkill_at_random_moments_loses_no_record(broker_url: str, tmp_path: Path, unique: str, kills: int) -> None:
    generated = generate_persons(tmp_path / "persons.csv", 40000, seed=23, noise=Noise(bad_checksum=0.0))
    config = connector_yaml(tmp_path, generated.path)
    config.write_text(config.read_text(encoding="utf-8").replace("batch_size: 2000", "batch_size: 250"), encoding="utf-8")
    env = {**os.environ, "CAREHUB_HOME": str(tmp_path / "home"), "CAREHUB_BROKER": broker_url,
           "CAREHUB_TOPIC_PREFIX": f"t{unique}."}
    command = CAREHUB + ["connect", "run", str(config), "--once"]
    rng = random.Random(unique)
    killed = 0
    for _ in range(kills):
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.8, 2.0))  # start-up takes about a second; then it is mid-file
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            killed += 1
        process.wait()
    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    assert killed > 0, "the connector finished before it could be killed: make the input larger"

    hub = Hub(Settings(home=tmp_path / "home", broker=broker_url, topic_prefix=f"t{unique}."))
    published = {hub.codec.decode(m.value)[1]["source_record_id"] for m in drain(hub, f"t{unique}.src.registry.person.v1")}
    with generated.path.open(encoding="utf-8") as f:
        expected = {line.split(",", 1)[0] for line in list(f)[1:]}
    assert expected - published == set()
