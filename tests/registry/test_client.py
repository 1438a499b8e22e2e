"""HttpRegistry against a real HTTP server: uvicorn in a thread serving the registry router."""

from __future__ import annotations

import base64
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from carehub.db.engine import open_database
from carehub.errors import ConfigError, ServiceUnavailable
from carehub.registry.api import registry_router
from carehub.registry.base import (
    IncompatibleSchema,
    InvalidCompatibilityLevel,
    InvalidSchema,
    RegisteredSchema,
    SchemaNotFound,
    SubjectNotFound,
    VersionNotFound,
)
from carehub.registry.client import HttpRegistry
from carehub.registry.store import DatabaseRegistry

from .avro_schemas import BIRTH_DATE_WITHOUT_DEFAULT, OPTIONAL_PHONE, SUBJECT, person

Middleware = Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """The URL of `app` served by uvicorn on a free 127.0.0.1 port, until the block ends."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start within 10 s"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def registry_server(tmp_path: Path, *middleware: Middleware) -> Iterator[str]:
    """The URL of the hub's registry over a SQLite database, behind `middleware`."""
    engine = open_database(f"sqlite:///{tmp_path / 'registry.db'}")
    app = FastAPI()
    app.include_router(registry_router(DatabaseRegistry(engine)))
    for handler in middleware:
        app.middleware("http")(handler)
    try:
        with serving(app) as url:
            yield url
    finally:
        engine.dispose()


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[HttpRegistry]:
    with registry_server(tmp_path) as url, HttpRegistry(url, retry_seconds=5) as client:
        yield client


def test_register_is_idempotent_and_ids_are_shared_across_subjects(registry: HttpRegistry) -> None:
    schema_id = registry.register(SUBJECT, person())
    assert registry.register(SUBJECT, person(indent=2)) == schema_id
    assert registry.register("src.health.person.v1-value", person()) == schema_id
    assert registry.versions(SUBJECT) == [1]
    assert registry.subjects() == ["src.health.person.v1-value", SUBJECT]


def test_versions_latest_and_schema_by_id(registry: HttpRegistry) -> None:
    first = registry.register(SUBJECT, person())
    second = registry.register(SUBJECT, person(OPTIONAL_PHONE))
    assert registry.versions(SUBJECT) == [1, 2]
    latest = registry.version(SUBJECT, "latest")
    assert latest == RegisteredSchema(SUBJECT, 2, second, registry.schema_by_id(second))
    assert registry.version(SUBJECT, 1).id == first
    assert registry.schema_by_id(first) == registry.version(SUBJECT, 1).schema


def test_an_incompatible_schema_raises_naming_the_field(registry: HttpRegistry) -> None:
    registry.register(SUBJECT, person())
    with pytest.raises(IncompatibleSchema) as refused:
        registry.register(SUBJECT, person(BIRTH_DATE_WITHOUT_DEFAULT))
    assert refused.value.problems == [
        f"field 'birth_date' was added without a default: a reader of {SUBJECT} could not read data "
        "written with version 1"
    ]
    assert registry.versions(SUBJECT) == [1]


def test_check_compatibility(registry: HttpRegistry) -> None:
    assert registry.check_compatibility(SUBJECT, person(BIRTH_DATE_WITHOUT_DEFAULT)).is_compatible  # nothing yet
    registry.register(SUBJECT, person())
    assert registry.check_compatibility(SUBJECT, person(OPTIONAL_PHONE)).is_compatible
    refused = registry.check_compatibility(SUBJECT, person(BIRTH_DATE_WITHOUT_DEFAULT))
    assert not refused.is_compatible
    assert "field 'birth_date'" in refused.messages[0]


def test_refusals_map_to_the_registry_errors(registry: HttpRegistry) -> None:
    schema_id = registry.register(SUBJECT, person())
    with pytest.raises(SubjectNotFound, match="'nobody-value'"):
        registry.versions("nobody-value")
    with pytest.raises(VersionNotFound, match="no version 3"):
        registry.version(SUBJECT, 3)
    with pytest.raises(SchemaNotFound, match=f"id {schema_id + 1}"):
        registry.schema_by_id(schema_id + 1)
    with pytest.raises(InvalidSchema):
        registry.register(SUBJECT, '{"type": "record"}')
    with pytest.raises(InvalidCompatibilityLevel):
        registry.set_config("SOMETIMES")


def test_config_global_and_per_subject(registry: HttpRegistry) -> None:
    assert registry.get_config() == "BACKWARD"
    assert registry.set_config("FORWARD") == "FORWARD"
    assert registry.set_config("NONE", SUBJECT) == "NONE"
    assert (registry.get_config(), registry.get_config(SUBJECT), registry.get_config("other-value")) == (
        "FORWARD", "NONE", "FORWARD",
    )


def test_an_unreachable_registry_names_the_url_and_the_setting() -> None:
    started = time.monotonic()
    with HttpRegistry("http://127.0.0.1:1", retry_seconds=1) as registry:
        with pytest.raises(ServiceUnavailable) as failed:
            registry.subjects()
    assert "http://127.0.0.1:1" in str(failed.value)
    assert "CAREHUB_REGISTRY_URL" in str(failed.value)
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("url", ["registry:8081", "kafka://127.0.0.1:9092", "http://[::1"])
def test_a_url_that_is_not_http_is_a_config_error_at_once(url: str) -> None:
    with pytest.raises(ConfigError, match="CAREHUB_REGISTRY_URL=.* is not an http"):
        HttpRegistry(url, retry_seconds=30)


def test_server_errors_are_retried_until_the_registry_recovers(tmp_path: Path) -> None:
    answered: list[int] = []

    async def unavailable_twice(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = JSONResponse({"error_code": 50003, "message": "restarting"}, status_code=503)
        if len(answered) >= 2:
            response = await call_next(request)
        answered.append(response.status_code)
        return response

    with registry_server(tmp_path, unavailable_twice) as url, HttpRegistry(url, retry_seconds=10) as registry:
        assert registry.register(SUBJECT, person()) == 1
    assert answered == [503, 503, 200]


def test_client_errors_are_not_retried(tmp_path: Path) -> None:
    answered: list[int] = []

    async def count(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        answered.append(response.status_code)
        return response

    with registry_server(tmp_path, count) as url, HttpRegistry(url, retry_seconds=10) as registry:
        with pytest.raises(SubjectNotFound):
            registry.versions(SUBJECT)
    assert answered == [404]


def test_schemas_already_fetched_survive_a_registry_outage(tmp_path: Path) -> None:
    with registry_server(tmp_path) as url:
        registry = HttpRegistry(url, retry_seconds=0.5)
        schema_id = registry.register(SUBJECT, person())
        schema = registry.schema_by_id(schema_id)
    with registry:
        assert registry.schema_by_id(schema_id) == schema
        with pytest.raises(ServiceUnavailable):
            registry.subjects()


def test_credentials_are_sent_and_a_refusal_says_to_check_them(tmp_path: Path) -> None:
    expected = "Basic " + base64.b64encode(b"hub:s3cret").decode()

    async def basic_auth(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if request.headers.get("authorization") != expected:
            return JSONResponse({"error_code": 40101, "message": "Unauthorized"}, status_code=401)
        return await call_next(request)

    with registry_server(tmp_path, basic_auth) as url:
        with HttpRegistry(url, retry_seconds=5, auth=("hub", "s3cret")) as registry:
            assert registry.register(SUBJECT, person()) == 1
        with HttpRegistry(url, retry_seconds=5) as anonymous, pytest.raises(ConfigError, match="credentials"):
            anonymous.subjects()


def test_a_registry_without_subject_levels_falls_back_to_the_global_one(tmp_path: Path) -> None:
    """Confluent answers 40408 for a subject without its own level unless asked to default."""
    confluent_like = FastAPI()

    @confluent_like.get("/config/{subject}")
    def no_subject_level(subject: str) -> JSONResponse:
        return JSONResponse({"error_code": 40408, "message": f"Subject '{subject}' has no config"}, 404)

    @confluent_like.get("/config")
    def global_level() -> dict[str, str]:
        return {"compatibilityLevel": "FULL"}

    with serving(confluent_like) as url, HttpRegistry(url, retry_seconds=5) as registry:
        assert registry.get_config(SUBJECT) == "FULL"
