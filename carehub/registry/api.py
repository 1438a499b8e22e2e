"""The Confluent Schema Registry REST API (the subset clients use) as a FastAPI router over a registry."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from carehub.registry.base import (
    MEDIA_TYPE,
    InvalidSchema,
    InvalidVersion,
    Latest,
    RegistryError,
    SchemaRegistry,
)


class RegistryJSONResponse(JSONResponse):
    media_type = MEDIA_TYPE


def _error(status: int, error_code: int, message: str) -> RegistryJSONResponse:
    return RegistryJSONResponse({"error_code": error_code, "message": message}, status_code=status)


class ConfluentErrorRoute(APIRoute):
    """Answers failures as Confluent does: `{"error_code": 40401, "message": …}` with its status."""

    def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except RegistryError as error:
                return _error(error.http_status, error.error_code, str(error))
            except RequestValidationError as error:
                problems = "; ".join(
                    f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
                    for problem in error.errors()
                )
                advice = "send what the Confluent Schema Registry API documents"
                return _error(422, 422, f"the request is malformed ({problems}); {advice}")

        return answer


class SchemaBody(BaseModel):
    schema_text: str = Field(alias="schema")
    schema_type: str = Field("AVRO", alias="schemaType")
    references: list[dict[str, Any]] = Field(default_factory=list)

    def avro_text(self) -> str:
        """The schema text, refused unless it is a self-contained Avro schema."""
        if self.schema_type.upper() != "AVRO":
            raise InvalidSchema(f"this registry holds only AVRO schemas, not {self.schema_type}")
        if self.references:
            raise InvalidSchema("schema references are not supported; inline the referenced types")
        return self.schema_text


class ConfigBody(BaseModel):
    compatibility: str


def _version(text: str) -> int | Latest:
    """A version path segment: a number from 1 up, or "latest" (Confluent also takes -1)."""
    if text in ("latest", "-1"):
        return "latest"
    try:
        return int(text)
    except ValueError:
        raise InvalidVersion(text) from None


def registry_router(registry: SchemaRegistry) -> APIRouter:
    """Routes answering Confluent's shapes and error codes from `registry`; mount at the root
    of the registry URL, e.g. `app.include_router(registry_router(DatabaseRegistry(engine)))`."""
    router = APIRouter(
        route_class=ConfluentErrorRoute,
        default_response_class=RegistryJSONResponse,
        strict_content_type=False,  # Confluent takes a body sent without a content type as JSON
        tags=["schema registry"],
    )

    # Plain `def` endpoints: FastAPI runs them in its thread pool, where blocking on the database
    # does not stall the event loop.
    @router.post("/subjects/{subject}/versions")
    def register(subject: str, body: SchemaBody) -> dict[str, int]:
        return {"id": registry.register(subject, body.avro_text())}

    @router.get("/schemas/ids/{schema_id}")
    def schema_by_id(schema_id: int) -> dict[str, str]:
        return {"schema": registry.schema_by_id(schema_id)}

    @router.get("/subjects")
    def subjects() -> list[str]:
        return registry.subjects()

    @router.get("/subjects/{subject}/versions")
    def versions(subject: str) -> list[int]:
        return registry.versions(subject)

    @router.get("/subjects/{subject}/versions/{version}")
    def version(subject: str, version: str) -> dict[str, Any]:
        found = registry.version(subject, _version(version))
        return {"subject": found.subject, "version": found.version, "id": found.id, "schema": found.schema}

    @router.post("/compatibility/subjects/{subject}/versions/latest")
    def check_compatibility(subject: str, body: SchemaBody) -> dict[str, Any]:
        result = registry.check_compatibility(subject, body.avro_text())
        return {"is_compatible": result.is_compatible, "messages": result.messages}

    @router.get("/config")
    def global_config() -> dict[str, str]:
        return {"compatibilityLevel": registry.get_config()}

    @router.get("/config/{subject}")
    def subject_config(subject: str) -> dict[str, str]:
        return {"compatibilityLevel": registry.get_config(subject)}

    @router.put("/config")
    def set_global_config(body: ConfigBody) -> dict[str, str]:
        return {"compatibility": registry.set_config(body.compatibility)}

    @router.put("/config/{subject}")
    def set_subject_config(subject: str, body: ConfigBody) -> dict[str, str]:
        return {"compatibility": registry.set_config(body.compatibility, subject)}

    return router
