"""The Confluent REST shapes, status codes and error codes of the registry router (FastAPI TestClient)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from carehub.db.engine import open_database
from carehub.registry.api import registry_router
from carehub.registry.store import DatabaseRegistry

from .avro_schemas import BIRTH_DATE_WITHOUT_DEFAULT, OPTIONAL_PHONE, SUBJECT, person

CONFLUENT = "application/vnd.schemaregistry.v1+json"


@pytest.fixture
def client(sqlite_url: str) -> Iterator[TestClient]:
    engine = open_database(sqlite_url)
    app = FastAPI()
    app.include_router(registry_router(DatabaseRegistry(engine)))
    with TestClient(app) as client:
        yield client
    engine.dispose()


def register(client: TestClient, schema: str, subject: str = SUBJECT):  # noqa: ANN201 - httpx.Response
    return client.post(f"/subjects/{subject}/versions", json={"schema": schema})


def assert_refused(response, status: int, error_code: int) -> str:  # noqa: ANN001 - httpx.Response
    assert (response.status_code, response.json()["error_code"]) == (status, error_code), response.text
    assert response.headers["content-type"] == CONFLUENT
    return response.json()["message"]


def test_register_speaks_confluents_content_type_both_ways(client: TestClient) -> None:
    response = client.post(
        f"/subjects/{SUBJECT}/versions",
        content=json.dumps({"schema": person(), "schemaType": "AVRO"}),
        headers={"Content-Type": CONFLUENT, "Accept": CONFLUENT},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == CONFLUENT
    assert response.json() == {"id": 1}


def test_register_is_idempotent_and_shares_ids_across_subjects(client: TestClient) -> None:
    schema_id = register(client, person()).json()["id"]
    assert register(client, person()).json() == {"id": schema_id}
    assert register(client, person(), subject="src.health.person.v1-value").json() == {"id": schema_id}
    assert client.get(f"/subjects/{SUBJECT}/versions").json() == [1]
    assert client.get("/subjects").json() == ["src.health.person.v1-value", SUBJECT]


def test_versions_by_number_and_latest(client: TestClient) -> None:
    first = register(client, person()).json()["id"]
    second = register(client, person(OPTIONAL_PHONE)).json()["id"]
    assert client.get(f"/subjects/{SUBJECT}/versions").json() == [1, 2]
    latest = client.get(f"/subjects/{SUBJECT}/versions/latest").json()
    assert latest.keys() == {"subject", "version", "id", "schema"}
    assert (latest["subject"], latest["version"], latest["id"]) == (SUBJECT, 2, second)
    assert json.loads(latest["schema"]) == json.loads(person(OPTIONAL_PHONE))
    assert client.get(f"/subjects/{SUBJECT}/versions/1").json()["id"] == first
    assert client.get(f"/subjects/{SUBJECT}/versions/-1").json()["version"] == 2  # Confluent's other "latest"
    assert json.loads(client.get(f"/schemas/ids/{first}").json()["schema"]) == json.loads(person())


def test_an_incompatible_schema_is_409_naming_the_field(client: TestClient) -> None:
    register(client, person())
    message = assert_refused(register(client, person(BIRTH_DATE_WITHOUT_DEFAULT)), 409, 409)
    assert "field 'birth_date' was added without a default" in message
    assert client.get(f"/subjects/{SUBJECT}/versions").json() == [1]


def test_compatibility_check_answers_with_the_reasons(client: TestClient) -> None:
    register(client, person())
    url = f"/compatibility/subjects/{SUBJECT}/versions/latest"
    accepted = client.post(url, json={"schema": person(OPTIONAL_PHONE)})
    assert accepted.json() == {"is_compatible": True, "messages": []}
    refused = client.post(url, json={"schema": person(BIRTH_DATE_WITHOUT_DEFAULT)})
    assert refused.status_code == 200
    assert refused.json()["is_compatible"] is False
    [message] = refused.json()["messages"]
    assert message.startswith("field 'birth_date' was added without a default")


def test_not_found_codes_tell_subject_version_and_schema_apart(client: TestClient) -> None:
    register(client, person())
    assert "'nobody-value'" in assert_refused(client.get("/subjects/nobody-value/versions"), 404, 40401)
    assert_refused(client.get("/subjects/nobody-value/versions/latest"), 404, 40401)
    assert_refused(client.get(f"/subjects/{SUBJECT}/versions/5"), 404, 40402)
    assert_refused(client.get("/schemas/ids/99"), 404, 40403)
    assert_refused(client.get(f"/subjects/{SUBJECT}/versions/first"), 422, 42202)


@pytest.mark.parametrize(
    "body",
    [
        {"schema": "{not json"},
        {"schema": '{"type": "record", "name": "Person"}'},
        {"schema": person(), "schemaType": "PROTOBUF"},
        {"schema": person(), "references": [{"name": "Address", "subject": "address-value", "version": 1}]},
    ],
)
def test_invalid_schemas_are_42201(client: TestClient, body: dict[str, object]) -> None:
    response = client.post(f"/subjects/{SUBJECT}/versions", json=body)
    assert "not a valid Avro schema" in assert_refused(response, 422, 42201)
    assert client.get("/subjects").json() == []


def test_a_body_without_a_schema_is_422(client: TestClient) -> None:
    message = assert_refused(client.post(f"/subjects/{SUBJECT}/versions", json={"schama": person()}), 422, 422)
    assert "body.schema" in message


def test_config_global_and_per_subject(client: TestClient) -> None:
    assert client.get("/config").json() == {"compatibilityLevel": "BACKWARD"}
    assert client.put("/config", json={"compatibility": "FULL"}).json() == {"compatibility": "FULL"}
    assert client.get(f"/config/{SUBJECT}").json() == {"compatibilityLevel": "FULL"}
    assert client.put(f"/config/{SUBJECT}", json={"compatibility": "NONE"}).json() == {"compatibility": "NONE"}
    assert client.get(f"/config/{SUBJECT}").json() == {"compatibilityLevel": "NONE"}
    assert client.get("/config").json() == {"compatibilityLevel": "FULL"}
    message = assert_refused(client.put("/config", json={"compatibility": "MOSTLY"}), 422, 42203)
    assert "use one of BACKWARD" in message


def test_plain_json_without_a_content_type_is_accepted(client: TestClient) -> None:
    response = client.post(f"/subjects/{SUBJECT}/versions", content=json.dumps({"schema": person()}))
    assert response.json() == {"id": 1}
