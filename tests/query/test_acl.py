"""`carehub acl plan`, `acl key` and `audit list`: the Kafka grants, API keys and audit log an operator handles."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from carehub.query.acl import acl_plan
from carehub.query.profiles import hash_key, parse_profiles
from tests.query.conftest import KEYS, QueryHub
from tests.test_cli import run

PROFILES = {"profiles": {
    "warehouse": {"description": "数据仓库", "datasets": {"elder": "*", "risk_alert": "*", "institution": ["name"]},
                  "consumer_groups": ["warehouse-etl", "warehouse-audit"]},
    "map": {"datasets": {"institution": ["name", "longitude", "latitude"]}},
}}


def test_each_profile_is_granted_exactly_the_topics_it_reads_in_full() -> None:
    plan = acl_plan(parse_profiles(PROFILES, "test"), "kafka1:9092", topic_prefix="pilot-js.")
    grant = "kafka-acls.sh --bootstrap-server kafka1:9092 --add --allow-principal User:{} --operation Read {}"
    assert plan == [
        "# warehouse: 数据仓库",
        "# warehouse may read only some fields of institution: no grant on pilot-js.ds.institution.v1; "
        "it reads institution through the query API",
        grant.format("warehouse", "--topic pilot-js.ds.elder.v1"),
        grant.format("warehouse", "--topic pilot-js.alerts.risk.v1"),
        grant.format("warehouse", "--group warehouse-etl"),
        grant.format("warehouse", "--group warehouse-audit"),
        "# map",
        "# map may read only some fields of institution: no grant on pilot-js.ds.institution.v1; "
        "it reads institution through the query API",
        "# map reads no dataset topic in full: no grant",
    ]


def test_a_secured_cluster_gets_the_client_properties_file() -> None:
    plan = acl_plan(parse_profiles({"profiles": {"bi": {"datasets": {"supervision": "*"}}}}, "test"), "k:9093",
                    command_config="/etc/kafka/admin.properties")
    assert plan[1:] == [
        "kafka-acls.sh --bootstrap-server k:9093 --command-config /etc/kafka/admin.properties --add "
        "--allow-principal User:bi --operation Read --topic ds.supervision.v1",
        "kafka-acls.sh --bootstrap-server k:9093 --command-config /etc/kafka/admin.properties --add "
        "--allow-principal User:bi --operation Read --group bi",
    ]


def test_acl_plan_and_acl_key_on_the_command_line(tmp_path: Path) -> None:
    profiles = tmp_path / "profiles.yaml"
    profiles.write_text(yaml.safe_dump(PROFILES, allow_unicode=True, sort_keys=False), encoding="utf-8")
    env = {"CAREHUB_HOME": str(tmp_path), "CAREHUB_ACCESS_PROFILES": str(profiles)}

    planned = run(["acl", "plan", "--bootstrap-server", "kafka1:9092"], env)
    assert planned.returncode == 0, planned.stderr
    assert "--allow-principal User:warehouse --operation Read --topic ds.elder.v1" in planned.stdout
    from_broker = run(["acl", "plan"], {**env, "CAREHUB_BROKER": "kafka://broker-a:9092,broker-b:9092"})
    assert "--bootstrap-server broker-a:9092 " in from_broker.stdout
    embedded = run(["acl", "plan"], env)
    assert embedded.returncode != 0 and "--bootstrap-server" in embedded.stderr

    made = run(["acl", "key", "warehouse"], env)
    assert made.returncode == 0, made.stderr
    key, pasted = made.stdout.split()[made.stdout.split().index("anywhere):") + 1], made.stdout.strip().splitlines()[-1]
    assert pasted.strip() == f"- {hash_key(key)}"
    unknown = run(["acl", "key", "wearhouse"], env)
    assert unknown.returncode == 2 and "its profiles are warehouse, map" in unknown.stderr


def test_audit_list_shows_who_read_what(query_hub: QueryHub, tmp_path: Path) -> None:
    query_hub.get("mapper", "/api/institutions", grade_min=2)
    settings = query_hub.hub.settings
    listed = run(["audit", "list", "--profile", "mapper", "--limit", "1", "--json"],
                 {"CAREHUB_HOME": str(settings.home), "CAREHUB_DATABASE_URL": settings.database})
    assert listed.returncode == 0, listed.stderr
    [entry] = json.loads(listed.stdout)
    assert (entry["profile"], entry["endpoint"], entry["datasets"], entry["status"]) == ("mapper", "institutions", "institution", 200)
    assert entry["query"] == {"grade_min": 2, "limit": 100, "offset": 0} and entry["key_id"] == hash_key(KEYS["mapper"])[7:19]
