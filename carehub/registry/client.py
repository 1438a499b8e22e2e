"""A client for any Confluent-compatible schema registry (the hub's own or Confluent's) over HTTP."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx

from carehub.connectivity import call_with_backoff
from carehub.errors import ConfigError
from carehub.registry.base import (
    CompatibilityResult,
    IncompatibleSchema,
    InvalidSchema,
    InvalidVersion,
    Latest,
    MEDIA_TYPE,
    RegisteredSchema,
    RegistryError,
    SchemaNotFound,
    SchemaRegistry,
    SubjectNotFound,
    VersionNotFound,
)
from carehub.registry.compatibility import Compatibility, parse_schema

SETTING = "CAREHUB_REGISTRY_URL"
SERVICE = "the schema registry"

#: Confluent's answer when a subject has no level of its own and the global one was not asked for.
SUBJECT_LEVEL_NOT_CONFIGURED = 40408


def _transient(exc: BaseException) -> bool:
    """Connection failures, timeouts and 5xx answers may pass; every 4xx answer is final.

    Retrying a POST is safe here: registering a schema again returns the same id."""
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.is_server_error
    return isinstance(exc, httpx.TransportError)


def _path(subject: str) -> str:
    return quote(subject, safe="")


def _error_code(response: httpx.Response) -> int | None:
    try:
        return int(response.json()["error_code"])
    except (ValueError, KeyError, TypeError):
        return None


def _message(response: httpx.Response) -> str:
    try:
        return str(response.json()["message"])
    except (ValueError, KeyError, TypeError):
        return response.text


class HttpRegistry(SchemaRegistry):
    """A `SchemaRegistry` at `url` (`CAREHUB_REGISTRY_URL`); `auth` is e.g. ("api-key", "secret").

    Unreachable registries and 5xx answers are retried for `retry_seconds`, then raise
    `ServiceUnavailable`; refusals raise the matching `RegistryError` at once."""

    def __init__(
        self,
        url: str,
        *,
        retry_seconds: float,
        auth: httpx.Auth | tuple[str, str] | None = None,
        timeout_seconds: float = 10.0,
    ):
        try:
            scheme = httpx.URL(url).scheme
        except httpx.InvalidURL:
            scheme = ""
        if scheme not in ("http", "https"):
            raise ConfigError(f"{SETTING}={url!r} is not an http(s) URL; use e.g. http://registry:8081")
        self.url = url
        self._retry_seconds = retry_seconds
        self._http = httpx.Client(
            base_url=url,
            auth=auth,
            timeout=timeout_seconds,
            headers={"Accept": f"{MEDIA_TYPE}, application/json"},
        )
        # Ids and their schemas never change, so these caches never go stale.
        self._by_id: dict[int, str] = {}
        self._registered: dict[tuple[str, str], int] = {}

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> HttpRegistry:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def register(self, subject: str, schema: str) -> int:
        if (known := self._registered.get((subject, schema))) is not None:
            return known
        parse_schema(schema)  # a schema that is not Avro fails here, with our message, not the server's
        response = self._request("POST", f"/subjects/{_path(subject)}/versions", body={"schema": schema})
        if response.status_code == IncompatibleSchema.http_status:
            raise IncompatibleSchema(subject, self._incompatibilities(subject, schema, response))
        schema_id = int(self._answer(response, subject=subject)["id"])
        self._registered[(subject, schema)] = schema_id
        return schema_id

    def schema_by_id(self, schema_id: int) -> str:
        if (cached := self._by_id.get(schema_id)) is None:
            response = self._request("GET", f"/schemas/ids/{schema_id}")
            cached = self._by_id[schema_id] = str(self._answer(response, schema_id=schema_id)["schema"])
        return cached

    def subjects(self) -> list[str]:
        return list(self._answer(self._request("GET", "/subjects")))

    def versions(self, subject: str) -> list[int]:
        response = self._request("GET", f"/subjects/{_path(subject)}/versions")
        return list(self._answer(response, subject=subject))

    def version(self, subject: str, version: int | Latest) -> RegisteredSchema:
        response = self._request("GET", f"/subjects/{_path(subject)}/versions/{version}")
        found = self._answer(response, subject=subject, version=version)
        return RegisteredSchema(found["subject"], int(found["version"]), int(found["id"]), str(found["schema"]))

    def check_compatibility(self, subject: str, schema: str) -> CompatibilityResult:
        parse_schema(schema)
        response = self._request(
            "POST",
            f"/compatibility/subjects/{_path(subject)}/versions/latest",
            body={"schema": schema},
            params={"verbose": "true"},  # Confluent says why only when asked
        )
        if _error_code(response) == SubjectNotFound.error_code:
            return CompatibilityResult(is_compatible=True)  # nothing registered yet to disagree with
        answer = self._answer(response, subject=subject)
        return CompatibilityResult(bool(answer["is_compatible"]), [str(m) for m in answer.get("messages", [])])

    def get_config(self, subject: str | None = None) -> str:
        if subject is None:
            return str(self._answer(self._request("GET", "/config"))["compatibilityLevel"])
        response = self._request("GET", f"/config/{_path(subject)}", params={"defaultToGlobal": "true"})
        if _error_code(response) == SUBJECT_LEVEL_NOT_CONFIGURED:
            return self.get_config()
        return str(self._answer(response, subject=subject)["compatibilityLevel"])

    def set_config(self, level: str, subject: str | None = None) -> str:
        compatibility = Compatibility.parse(level)
        path = "/config" if subject is None else f"/config/{_path(subject)}"
        response = self._request("PUT", path, body={"compatibility": str(compatibility)})
        return str(self._answer(response, subject=subject)["compatibility"])

    def _request(
        self, method: str, path: str, *, body: dict[str, str] | None = None, params: dict[str, str] | None = None
    ) -> httpx.Response:
        """The registry's answer to one request, once it answers with anything but a 5xx."""

        def send() -> httpx.Response:
            response = self._http.request(
                method,
                path,
                content=None if body is None else json.dumps(body),
                headers=None if body is None else {"Content-Type": MEDIA_TYPE},
                params=params,
            )
            if response.is_server_error:
                response.raise_for_status()
            return response

        return call_with_backoff(
            send,
            service=SERVICE,
            url=self.url,
            setting=SETTING,
            transient=_transient,
            budget_s=self._retry_seconds,
        )

    def _answer(
        self,
        response: httpx.Response,
        *,
        subject: str | None = None,
        version: int | str | None = None,
        schema_id: int | None = None,
    ) -> Any:
        """The JSON of a successful answer; a refusal raises the error it stands for, given
        what was asked (`subject`, `version`, `schema_id`)."""
        if response.is_success:
            return response.json()
        match _error_code(response):
            case SubjectNotFound.error_code if subject is not None:
                raise SubjectNotFound(subject)
            case VersionNotFound.error_code if subject is not None:
                raise VersionNotFound(subject, str(version))
            case SchemaNotFound.error_code if schema_id is not None:
                raise SchemaNotFound(schema_id)
            case InvalidVersion.error_code:
                raise InvalidVersion(str(version))
            case InvalidSchema.error_code:
                raise InvalidSchema(f"the registry at {self.url} refused it: {_message(response)}")
        if response.status_code in (401, 403):
            raise ConfigError(
                f"the schema registry at {self.url} refused our credentials ({response.status_code}: "
                f"{_message(response)}); check the user and password (or API key) configured for it"
            )
        raise RegistryError(
            f"the schema registry at {self.url} answered {response.status_code} to "
            f"{response.request.method} {response.request.url.path}: {_message(response)}; "
            f"check that {SETTING} points at a Confluent-compatible schema registry"
        )

    def _incompatibilities(self, subject: str, schema: str, refusal: httpx.Response) -> list[str]:
        """The fields at fault, from the compatibility check (its messages name them), else the
        registry's own words from its 409 answer."""
        return self.check_compatibility(subject, schema).messages or [_message(refusal)]
