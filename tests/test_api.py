"""`carehub serve`: health, readiness and the schema registry on one HTTP server."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from carehub.api import create_app
from carehub.hub import Hub
from carehub.settings import Settings
from carehub.topics import CATALOG
from tests.test_cli import run


def test_health_readiness_and_registered_schemas_are_served(tmp_path: Path) -> None:
    home = tmp_path / "home"
    registered = run(["schemas", "register"], {"CAREHUB_HOME": str(home)})
    assert registered.returncode == 0, registered.stderr
    assert "src.registry.person.v1-value" in registered.stdout

    client = TestClient(create_app(Hub(Settings(home=home))))
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.json()["checks"] == {"database": "ok", "broker": "ok"}
    assert ready.status_code == 200
    assert client.get("/subjects").json() == sorted(f"{t.name}-value" for t in CATALOG if t.schema)
    latest = client.get("/subjects/src.registry.person.v1-value/versions/latest").json()
    assert latest["version"] == 1 and '"person_key"' in latest["schema"]


def test_readiness_fails_when_the_broker_is_unreachable(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, broker="kafka://127.0.0.1:1", retry_seconds=1)
    response = TestClient(create_app(Hub(settings))).get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "ok"
    assert "kafka://127.0.0.1:1" in response.json()["checks"]["broker"]


def test_topics_lists_the_catalog(tmp_path: Path) -> None:
    result = run(["topics", "--json"], {"CAREHUB_HOME": str(tmp_path)})
    assert result.returncode == 0
    assert '"name": "src.registry.person.v1"' in result.stdout
