"""The subscriber's catalog: `carehub topics` shows schema subjects and versions, and `--asyncapi`
prints an AsyncAPI 3.0 document that the official AsyncAPI JSON Schema accepts.

The official schema is the one the AsyncAPI initiative publishes as the npm package
@asyncapi/specs; it is fetched once with npm into .cache/ and validated with jsonschema."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator
from referencing import Registry
from referencing.jsonschema import DRAFT7
from typer.testing import CliRunner

from carehub.asyncapi import asyncapi_document, broker_servers
from carehub.avro import load_schema
from carehub.cli import app
from carehub.settings import Settings
from carehub.topics import CATALOG, CatalogTopic

SPECS_PACKAGE = "@asyncapi/specs@6.11.1"
SCHEMA_IN_PACKAGE = "package/schemas/3.0.0.json"
CACHED_SCHEMA = Path(__file__).parents[1] / ".cache" / "asyncapi-specs-6.11.1" / "3.0.0.json"

Validate = Callable[[dict[str, Any]], list[str]]


def _fetch_official_schema() -> None:
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is needed once to fetch the official AsyncAPI 3.0 schema (@asyncapi/specs): install Node.js",
                    pytrace=False)
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run([npm, "pack", SPECS_PACKAGE, "--pack-destination", folder, "--silent"],
                       check=True, capture_output=True, timeout=300)
        with tarfile.open(next(Path(folder).glob("*.tgz"))) as package:
            text = package.extractfile(SCHEMA_IN_PACKAGE).read()
        CACHED_SCHEMA.parent.mkdir(parents=True, exist_ok=True)
        partial = CACHED_SCHEMA.with_suffix(f".{os.getpid()}.part")
        partial.write_bytes(text)
        partial.replace(CACHED_SCHEMA)  # atomic: a parallel run never reads half a file


@pytest.fixture(scope="session")
def validate() -> Validate:
    """Error messages of a document against the official AsyncAPI 3.0.0 JSON Schema (empty: valid)."""
    if not CACHED_SCHEMA.exists():
        _fetch_official_schema()
    schema = json.loads(CACHED_SCHEMA.read_text(encoding="utf-8"))
    registry = Registry().with_resource(schema["$id"], DRAFT7.create_resource(schema)).crawl()
    validator = Draft7Validator(schema, registry=registry)

    def errors(document: dict[str, Any]) -> list[str]:
        return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]

    return errors


def _topics(args: list[str], env: dict[str, str]) -> str:
    result = CliRunner().invoke(app, ["topics", *args], env={"COLUMNS": "300", **env})
    assert result.exit_code == 0, result.output
    return result.output


def _resolve(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return ([node["$ref"]] if isinstance(node.get("$ref"), str) else []) + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_asyncapi_yaml_validates_and_names_every_catalog_topic(validate: Validate, tmp_path: Path) -> None:
    env = {"CAREHUB_HOME": str(tmp_path), "CAREHUB_BROKER": "kafka://kafka-a.example:9092,kafka-b.example:9092",
           "CAREHUB_TOPIC_PREFIX": "pilot-js.", "CAREHUB_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
           "CAREHUB_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512", "CAREHUB_REGISTRY_URL": "https://registry.example:8081"}
    document = yaml.safe_load(_topics(["--asyncapi"], env))

    assert validate(document) == []
    assert document["asyncapi"] == "3.0.0"
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert {f"pilot-js.{t.name}" for t in CATALOG} <= addresses
    assert "pilot-js.dlq.{origin}" in addresses
    assert {server["host"] for server in document["servers"].values()} == {"kafka-a.example:9092", "kafka-b.example:9092"}
    assert {server["protocol"] for server in document["servers"].values()} == {"kafka-secure"}
    assert document["servers"]["kafka-1"]["bindings"]["kafka"]["schemaRegistryUrl"] == "https://registry.example:8081"
    subscribed = {_resolve(document, op["channel"]["$ref"])["address"]
                  for op in document["operations"].values() if op["action"] == "receive"}
    assert subscribed == addresses
    for ref in _refs(document):
        assert _resolve(document, ref) is not None, f"{ref} points nowhere"


def test_each_message_inlines_its_avro_schema_with_key_and_kafka_bindings(tmp_path: Path) -> None:
    document = json.loads(_topics(["--asyncapi", "--json"], {"CAREHUB_HOME": str(tmp_path)}))

    for topic in CATALOG:
        channel = document["channels"][topic.name]
        binding = channel["bindings"]["kafka"]
        assert binding["partitions"] == topic.partitions
        assert binding["topicConfiguration"]["cleanup.policy"] == ["compact" if topic.compact else "delete"]
        assert binding["topicConfiguration"].get("retention.ms") == topic.retention_ms
        message = _resolve(document, next(iter(channel["messages"].values()))["$ref"])
        assert message["bindings"]["kafka"]["key"]["description"] == topic.key
        if topic.schema is not None:
            assert message["payload"]["schemaFormat"] == "application/vnd.apache.avro+json;version=1.9.0"
            assert message["payload"]["schema"] == load_schema(topic.schema)
            assert message["x-schema-subject"] == f"{topic.name}-value"
    assert document["servers"]["embedded"]["protocol"] == "carehub-embedded"


def test_json_valued_and_compacted_topics_give_a_valid_document(validate: Validate) -> None:
    extra = (
        CatalogTopic("alerts.risk.v1", "person_key", None, 3, compact=False, retention_ms=None,
                     description="Risk warnings as JSON."),
        CatalogTopic("ds.elder.v1", "person_key", "registry/person.avsc", 3, compact=True, retention_ms=-1,
                     description="The elder dataset's changelog."),
    )
    document = asyncapi_document((*CATALOG, *extra), broker_servers(Settings(broker="kafka://127.0.0.1:9092")))

    assert validate(document) == []
    alerts = document["components"]["messages"]["alerts.risk.v1"]
    assert alerts["contentType"] == "application/json" and alerts["payload"]["type"] == "object"
    assert document["channels"]["ds.elder.v1"]["bindings"]["kafka"]["topicConfiguration"]["cleanup.policy"] == ["compact"]


def test_the_official_schema_refuses_a_broken_document(validate: Validate) -> None:
    document = asyncapi_document(CATALOG, broker_servers(Settings(broker="kafka://127.0.0.1:9092")))
    document["operations"]["receive.src.registry.person.v1"]["action"] = "subscribe"  # AsyncAPI 2 wording
    document["channels"]["src.registry.person.v1"]["bindings"]["kafka"]["partitions"] = 0
    document["components"]["messages"]["src.registry.death.v1"]["payload"]["schema"]["fields"][0].pop("name")

    problems = validate(document)

    assert any("subscribe" in p for p in problems)
    assert any("partitions" in p for p in problems)
    assert any(p.startswith("components/messages/src.registry.death.v1") for p in problems)


def test_topics_json_shows_each_subject_and_its_latest_registered_version(tmp_path: Path) -> None:
    env = {"CAREHUB_HOME": str(tmp_path)}
    before = {row["name"]: row for row in json.loads(_topics(["--json"], env))}
    assert before["src.registry.person.v1"]["subject"] == "src.registry.person.v1-value"
    assert before["src.registry.person.v1"]["version"] is None

    registered = CliRunner().invoke(app, ["schemas", "register"], env=env)
    assert registered.exit_code == 0, registered.output

    after = {row["name"]: row for row in json.loads(_topics(["--json"], env))}
    assert {name: row["version"] for name, row in after.items()} == {t.name: 1 if t.schema else None for t in CATALOG}
    table = _topics([], env)
    assert "src.registry.person.v1-value" in table and "not registered" not in table
