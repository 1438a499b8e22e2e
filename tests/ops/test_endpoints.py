"""`carehub serve` for operations: /metrics in the Prometheus format, the /api/* JSON views, the dashboard."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from carehub.api import create_app
from carehub.broker import TopicPartition
from carehub.hub import Hub
from carehub.ops.rules import LagPolicy
from carehub.ops.samples import lag_sample
from carehub.settings import Settings
from connectors.sdk.status import connector_status
from consumers.offsets import consumer_offset
from tests.ops.conftest import commit, produce

EAGER = LagPolicy(trend_samples=2, trend_span_s=0)
POLLED = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)


@pytest.fixture
def hub(tmp_path: Path, broker_url: str, unique: str) -> Hub:
    # The prefix keeps this test's dead-letter topics apart from other tests' on a shared Kafka.
    return Hub(Settings(home=tmp_path / "home", broker=broker_url, topic_prefix=f"t{unique}.", retry_seconds=5))


@pytest.fixture
def group(hub: Hub, unique: str) -> str:
    """A reconciler group 6 records behind on one topic, with the hub's bookkeeping of a running pilot."""
    topic, name = f"t{unique}.src.registry.person.v1", f"g.ops.{unique}"
    produce(hub.broker, topic, 10)
    commit(hub.broker, name, {TopicPartition(topic, 0): 4})
    produce(hub.broker, f"t{unique}.dlq.registry-person", 3)
    with hub.engine.begin() as conn:
        conn.execute(connector_status.insert().values(
            connector="registry-person", target_topic=topic, state="RUNNING", last_poll_at=POLLED,
            read_total=120, published_total=117, rejected_total=3, updated_at=POLLED,
        ))
        conn.execute(connector_status.insert().values(
            connector="health-checkup", target_topic="src.health.checkup.v1", state="FAILED",
            last_error="cannot reach the health API", last_error_at=POLLED, updated_at=POLLED,
        ))
        conn.execute(consumer_offset.insert(), [
            {"group_id": name, "topic": topic, "partition": 0, "next_offset": 4},
            {"group_id": name, "topic": f"t{unique}.src.registry.death.v1", "partition": 0, "next_offset": 7},
        ])
    return name


def scrape(client: TestClient) -> dict[str, list]:
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {f.name: f for f in text_string_to_metric_families(response.text)}


def values(family, **labels: str) -> dict[tuple, float]:  # noqa: ANN001 - a parsed metric family
    """Samples of `family` whose labels include `labels`, keyed by (sample name, remaining labels)."""
    return {
        (s.name, *sorted((k, v) for k, v in s.labels.items() if k not in labels)): s.value
        for s in family.samples
        if all(s.labels.get(k) == v for k, v in labels.items())
    }


def test_metrics_name_every_measure_with_its_labels(hub: Hub, group: str, unique: str) -> None:
    client = TestClient(create_app(hub, EAGER))
    scrape(client)
    families = scrape(client)  # the second scrape sees a window of two samples: a stalled group
    topic = f"t{unique}.src.registry.person.v1"

    lag = families["carehub_consumer_group_lag"]
    assert lag.type == "gauge"
    assert values(lag, group=group) == {
        ("carehub_consumer_group_lag", ("partition", "0"), ("topic", topic)): 6.0
    }
    (age,) = values(families["carehub_consumer_group_lag_seconds"], group=group, topic=topic, partition="0").values()
    assert 0 <= age < 60
    assert values(families["carehub_consumer_group_status"], group=group) == {
        ("carehub_consumer_group_status", ("status", status)): float(status == "STALL")
        for status in ("OK", "WARN", "STALL", "STOP", "REWIND")
    }
    read = families["carehub_connector_records_read"]
    assert read.type == "counter"
    assert values(read) == {
        ("carehub_connector_records_read_total", ("connector", "health-checkup")): 0.0,
        ("carehub_connector_records_read_total", ("connector", "registry-person")): 120.0,
    }
    assert values(families["carehub_connector_records_published"], connector="registry-person") == {
        ("carehub_connector_records_published_total",): 117.0
    }
    assert values(families["carehub_connector_records_rejected"], connector="registry-person") == {
        ("carehub_connector_records_rejected_total",): 3.0
    }
    assert values(families["carehub_connector_state"], connector="health-checkup") == {
        ("carehub_connector_state", ("state", "RUNNING")): 0.0,
        ("carehub_connector_state", ("state", "PAUSED")): 0.0,
        ("carehub_connector_state", ("state", "FAILED")): 1.0,
    }
    assert values(families["carehub_connector_last_poll_timestamp_seconds"]) == {
        ("carehub_connector_last_poll_timestamp_seconds", ("connector", "registry-person")): POLLED.timestamp()
    }
    assert values(families["carehub_dead_letter_records"]) == {
        ("carehub_dead_letter_records", ("topic", f"t{unique}.dlq.registry-person")): 3.0
    }
    consumed = families["carehub_reconciler_records_consumed"]
    assert consumed.type == "counter"
    assert values(consumed) == {("carehub_reconciler_records_consumed_total", ("group", group)): 11.0}
    with hub.engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).where(lag_sample.c.group_id == group)) == 2

    open_metrics = client.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert open_metrics.headers["content-type"].startswith("application/openmetrics-text")
    assert "carehub_connector_records_read_total{" in open_metrics.text and open_metrics.text.endswith("# EOF\n")


def test_api_lag_connectors_and_dead_letters_as_json(hub: Hub, group: str, unique: str) -> None:
    client = TestClient(create_app(hub, EAGER))
    topic = f"t{unique}.src.registry.person.v1"

    first = client.get("/api/lag", params={"group": group}).json()
    second = client.get("/api/lag", params={"group": group}).json()

    assert [g["group"] for g in second["groups"]] == [group]
    (judged,) = second["groups"]
    assert (judged["status"], judged["lag"]) == ("STALL", 6)
    (partition,) = judged["partitions"]
    assert {k: partition[k] for k in ("topic", "partition", "committed", "end", "lag", "status", "rule")} == {
        "topic": topic, "partition": 0, "committed": 4, "end": 10, "lag": 6, "status": "STALL",
        "rule": "committed_offset_stuck",
    }
    assert [h["lag"] for h in judged["history"]] == [6, 6]
    assert judged["history"][0]["at"] == first["at"]

    connectors = client.get("/api/connectors").json()
    assert [c["connector"] for c in connectors] == ["health-checkup", "registry-person"]
    failed = connectors[0]
    assert (failed["state"], failed["last_error"], failed["last_poll_at"]) == (
        "FAILED", "cannot reach the health API", None,
    )
    assert connectors[1]["published_total"] == 117
    assert datetime.fromisoformat(connectors[1]["last_poll_at"]) == POLLED

    assert client.get("/api/dead-letters").json() == [{"topic": f"t{unique}.dlq.registry-person", "records": 3}]


def test_alerts_are_counted_per_rule_once_the_alert_table_exists(tmp_path: Path) -> None:
    hub = Hub(Settings(home=tmp_path))
    with hub.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS risk_alert"))  # a hub database from before the alert rules
    client = TestClient(create_app(hub))
    assert client.get("/api/alerts").json() == {"available": False, "by_rule": []}

    alerts = sa.Table(
        "risk_alert", sa.MetaData(),
        sa.Column("alert_id", sa.String(40), primary_key=True), sa.Column("rule", sa.String(64)),
        sa.Column("subject", sa.String(16)), sa.Column("subject_key", sa.String(64)),
        sa.Column("amount_at_risk", sa.Numeric(14, 2)), sa.Column("detail", sa.Text),
    )
    with hub.engine.begin() as conn:
        alerts.create(conn)
        conn.execute(alerts.insert(), [
            {"alert_id": "a1", "rule": "paid_after_death", "subject": "elder", "subject_key": "k1",
             "amount_at_risk": 600, "detail": "subsidy paid 2 months after death"},
            {"alert_id": "a2", "rule": "paid_after_death", "subject": "elder", "subject_key": "k2",
             "amount_at_risk": 300.5, "detail": "subsidy paid after death"},
            {"alert_id": "a3", "rule": "caregiver_in_two_places", "subject": "practitioner", "subject_key": "k3",
             "amount_at_risk": None, "detail": "two services at once"},
        ])

    assert client.get("/api/alerts").json() == {"available": True, "by_rule": [
        {"rule": "paid_after_death", "open": 2, "amount_at_risk": 900.5},
        {"rule": "caregiver_in_two_places", "open": 1, "amount_at_risk": None},
    ]}


def test_the_dashboard_and_its_files_are_served_from_the_package(tmp_path: Path) -> None:
    client = TestClient(create_app(Hub(Settings(home=tmp_path))))
    root = client.get("/", follow_redirects=False)
    assert root.status_code == 307 and root.headers["location"] == "/dashboard"
    page = client.get("/dashboard")
    assert page.headers["content-type"].startswith("text/html")
    assert "dashboard/dashboard.js" in page.text and "https://" not in page.text
    script = client.get("/dashboard/dashboard.js")
    assert script.headers["content-type"].startswith("text/javascript") and "api/lag" in script.text
    assert client.get("/dashboard/dashboard.css").headers["content-type"].startswith("text/css")
    assert client.get("/dashboard/secret.key").status_code == 404


def test_an_unreachable_broker_answers_503_naming_the_setting(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, broker="kafka://127.0.0.1:1", retry_seconds=1)
    client = TestClient(create_app(Hub(settings)))
    for path in ("/api/lag", "/metrics", "/api/dead-letters"):
        response = client.get(path)
        assert response.status_code == 503
        assert "kafka://127.0.0.1:1" in response.json()["error"] and "CAREHUB_BROKER" in response.json()["error"]
