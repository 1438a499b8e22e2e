"""A small demo region behind the query API, with one access profile per kind of downstream system."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import yaml
from fastapi.testclient import TestClient

from carehub.api import create_app
from carehub.demo.run import run_demo
from carehub.hub import Hub
from carehub.query.profiles import hash_key
from carehub.settings import Settings

#: The API key each test profile holds.
KEYS = {"portal": "key-of-the-home-care-portal", "supervisor": "key-of-the-supervisor",
        "mapper": "key-of-the-service-map", "lister": "key-of-the-provider-list"}
PROFILES = {
    "portal": {"endpoints": ["elders", "elder_lookup"],
               "datasets": {"elder": ["name", "sex", "birth_date", "alive"], "health_record": ["self_care_band"],
                            "care_service": "*"}},
    "supervisor": {"endpoints": ["elders", "elder_lookup", "institutions", "map", "datasets"],
                   "datasets": {name: "*" for name in ("elder", "health_record", "care_service", "institution",
                                                       "practitioner", "supervision", "risk_alert")}},
    "mapper": {"endpoints": ["institutions", "map"],
               "datasets": {"institution": ["name", "grade", "services_offered", "longitude", "latitude"]}},
    "lister": {"endpoints": ["institutions", "map", "datasets"], "datasets": {"institution": ["name", "division"]}},
}


@dataclass(frozen=True)
class QueryHub:
    hub: Hub
    client: TestClient

    def get(self, profile: str, path: str, **params: object):  # noqa: ANN201 - an httpx.Response
        return self.client.get(path, params=params, headers={"X-API-Key": KEYS[profile]})

    def lookup(self, profile: str, body: object):  # noqa: ANN201
        return self.client.post("/api/elders/lookup", json=body, headers={"X-API-Key": KEYS[profile]})


@pytest.fixture(scope="session")
def query_hub(tmp_path_factory: pytest.TempPathFactory) -> QueryHub:
    home = tmp_path_factory.mktemp("query")
    profiles = home / "profiles.yaml"
    profiles.write_text(yaml.safe_dump({"profiles": {
        name: {**profile, "key_hashes": [hash_key(KEYS[name])]} for name, profile in PROFILES.items()
    }}), encoding="utf-8")
    hub = Hub(Settings(home=home, broker=f"embedded://{home / 'broker.db'}", database_url=f"sqlite:///{home / 'hub.db'}",
                       access_profiles=profiles))
    run_demo(hub, 200, seed=7)
    return QueryHub(hub, TestClient(create_app(hub)))
