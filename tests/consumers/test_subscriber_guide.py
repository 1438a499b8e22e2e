"""The README's subscriber guide works as written: `carehub subscribe` on embedded, and the Python
example (kafka-python, fastavro, the hub's Schema Registry) on Kafka."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from carehub.api import create_app
from carehub.cli import app
from consumers.datasets.elder import elder
from tests.consumers.publishing import publish, region_hub, source_records
from tests.serving import serving

README = Path(__file__).parents[2] / "README.md"


def subscriber_example() -> str:
    text = README.read_text(encoding="utf-8")
    block = re.search(r"```python\n(\s*# subscriber example.*?)```", text, re.S)
    assert block, "the README lost its subscriber example"
    return "\n".join(line.removeprefix("   ") for line in block.group(1).splitlines())


def elders(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(sa.select(sa.func.count()).select_from(elder))


def test_carehub_subscribe_prints_every_elder_change_as_json_lines(region) -> None:  # noqa: ANN001
    home = region.hub.settings.home
    result = CliRunner().invoke(app, ["subscribe", "ds.elder.v1", "--until-idle"], env={
        "CAREHUB_HOME": str(home), "CAREHUB_BROKER": region.hub.settings.broker_url, "CAREHUB_DATABASE_URL": region.hub.settings.database})
    assert result.exit_code == 0, result.output
    latest = {}
    for line in result.stdout.splitlines():
        message = json.loads(line)
        latest[message["key"]] = message["value"]["op"]
    assert sum(op == "UPSERT" for op in latest.values()) == elders(region.hub.engine)


@pytest.mark.kafka
def test_the_readme_python_example_reads_ds_elder_from_kafka(region, kafka_url: str, tmp_path: Path, unique: str) -> None:  # noqa: ANN001
    hub = region_hub(region, tmp_path / "home", broker=kafka_url, database_url=f"sqlite:///{tmp_path / 'hub.db'}",
                     topic_prefix=f"t{unique}.")
    publish(region, hub, source_records(region))
    hub.reconciler(group=f"g{unique}").run(until_idle=True)
    with serving(create_app(hub)) as registry:
        env = {**os.environ, "KAFKA": kafka_url.removeprefix("kafka://"), "REGISTRY": registry,
               "TOPIC": f"t{unique}.ds.elder.v1", "GROUP": f"s{unique}"}
        ran = subprocess.run([sys.executable, "-c", subscriber_example()], env=env, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == f"{elders(hub.engine)} elders"
