"""`carehub demo` end to end, as `make demo` runs it: twice, in a separate process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from carehub.demo.connectors import EXAMPLES, examples_folder
from connectors.sdk.config import load_config


def test_the_demo_runs_every_connector_and_can_run_again(tmp_path: Path) -> None:
    names = [load_config(examples_folder() / name, {"HEALTH_API_KEY": "k"}).name for name in EXAMPLES.values()]
    env = {**os.environ, "CAREHUB_HOME": str(tmp_path / "home"), "COLUMNS": "200"}
    for _ in range(2):
        result = subprocess.run([sys.executable, "-m", "carehub.cli", "demo", "--persons", "300", "--seed", "3"],
                                env=env, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        for name in names:
            line = next(line for line in result.stdout.splitlines() if re.match(rf"\W*{re.escape(name)}\s", line))
            read, published, rejected = (int(n) for n in re.findall(r"\s(\d+)\s", line)[:3])
            assert published > 0 and read == published + rejected, line
        for dataset in ("elder", "health_record", "care_service", "institution", "practitioner", "supervision"):
            assert int(re.search(rf"{dataset} rows\s*│\s*(\d+)", result.stdout).group(1)) > 0, dataset
        planted = re.findall(r"│ (\w+)\s*│\s*\d+%\s*│\s*(\d+)\s*│\s*(\d+)\s*│\s*(\d+)", result.stdout)
        assert len(planted) == 10 and all(found == count for _, count, found, _ in planted), planted
    assert (tmp_path / "home/demo/manifest.json").exists()
