"""The `http` source: records of a paged JSON API, fetched with httpx, retried only when it may help.

Pagination `page` asks for page 1, 2, … (`page_param`, `size_param`) and stops at a short or
empty page; `cursor` passes the next-cursor value found at `cursor_path` of each answer as
`cursor_param` until there is none. The connector's cursor is the request that fetched the last
acknowledged page and how many of its records were published, so the next poll asks for that
page again and publishes only records appended since. Timeouts, connection errors and 5xx
answers are retried with exponential backoff for `retry_s` seconds; a 4xx answer is not retried
and fails at once with one line naming the URL, the status and the setting to check. A token or
API key is read from the environment variable the YAML names, once, by `load_config`."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import httpx
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr

from carehub.connectivity import call_with_backoff
from carehub.errors import ConfigError
from connectors.sdk.sources.base import Batch, Source, SourceRefused, SourceRow, SourceSettings, secret_from


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PagePagination(_Section):
    kind: Literal["page"]
    page_param: str = "page"
    size_param: str = "size"
    first_page: int = 1
    page_size: Annotated[int, Field(gt=0)] = 100


class CursorPagination(_Section):
    kind: Literal["cursor"]
    cursor_path: str = Field(description="where the next cursor is in the answer, e.g. data.next_cursor")
    cursor_param: str = "cursor"
    size_param: str | None = None
    page_size: Annotated[int, Field(gt=0)] = 100


class BearerAuth(_Section):
    kind: Literal["bearer"]
    token_env: str = Field(description="environment variable holding the token, e.g. HEALTH_API_TOKEN")

    @property
    def variable(self) -> str:
        return self.token_env

    def header(self, secret: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {secret}"}


class ApiKeyAuth(_Section):
    kind: Literal["api_key"]
    header_name: str = "X-API-Key"
    key_env: str = Field(description="environment variable holding the key")

    @property
    def variable(self) -> str:
        return self.key_env

    def header(self, secret: str) -> dict[str, str]:
        return {self.header_name: secret}


class HttpSource(SourceSettings):
    """A JSON API answering GET requests with a list of records somewhere in each answer."""

    kind: Literal["http"]
    url: Annotated[str, Field(pattern=r"^https?://")]
    params: dict[str, str] = Field(default_factory=dict, description="query parameters sent with every request")
    records_path: str = Field("", description="where the list of records is in the answer, e.g. data.items; '' for the top level")
    pagination: Annotated[PagePagination | CursorPagination, Field(discriminator="kind")] | None = None
    auth: Annotated[BearerAuth | ApiKeyAuth, Field(discriminator="kind")] | None = None
    timeout_s: Annotated[float, Field(gt=0)] = 30.0
    retry_s: Annotated[float, Field(gt=0)] = 60.0
    _secret: SecretStr | None = PrivateAttr(None)

    def resolved(self, base: Path, environ: Mapping[str, str]) -> Self:
        if self.auth is None:
            return self
        resolved = self.model_copy()
        setting = f"source.auth.{'token_env' if self.auth.kind == 'bearer' else 'key_env'}"
        resolved._secret = SecretStr(secret_from(environ, self.auth.variable, setting))
        return resolved

    def open(self) -> Source:
        if self.auth is not None and self._secret is None:
            raise ConfigError(f"the secret in ${self.auth.variable} was not read: load the connector with load_config")
        return JsonApiSource(self)

    def auth_headers(self) -> dict[str, str]:
        return self.auth.header(self._secret.get_secret_value()) if self.auth and self._secret else {}


class JsonApiSource(Source):
    def __init__(self, settings: HttpSource, transport: httpx.BaseTransport | None = None):
        self.settings = settings
        self._client = httpx.Client(
            headers=settings.auth_headers(), timeout=settings.timeout_s, follow_redirects=True, transport=transport
        )

    def batches(self, cursor: dict | None, batch_size: int) -> Iterator[Batch]:
        """One batch per page; `batch_size` does not apply, the API's page size does."""
        paging = self.settings.pagination
        at = cursor["at"] if cursor else (paging.first_page if isinstance(paging, PagePagination) else None)
        published = cursor["items"] if cursor else 0
        while True:
            answer = self._get(at)
            records = self._records(answer)
            fresh = records[published:]
            following = self._following(at, answer, records)
            rows = [SourceRow(self._position(at, published + i), _flat(r)) for i, r in enumerate(fresh)]
            if following is None:
                if rows:
                    yield Batch(rows, {"at": at, "items": len(records)})
                return
            yield Batch(rows, {"at": following, "items": 0})
            at, published = following, 0

    def _get(self, at: Any) -> Any:
        s = self.settings
        params = dict(s.params)
        match s.pagination:
            case PagePagination() as page:
                params |= {page.page_param: str(at), page.size_param: str(page.page_size)}
            case CursorPagination() as paged:
                if at is not None:
                    params[paged.cursor_param] = str(at)
                if paged.size_param:
                    params[paged.size_param] = str(paged.page_size)

        def fetch() -> httpx.Response:
            response = self._client.get(s.url, params=params)
            response.raise_for_status()
            return response

        try:
            response = call_with_backoff(
                fetch, service="HTTP source", url=s.url, setting="source.url", transient=_worth_retrying, budget_s=s.retry_s,
            )
        except httpx.HTTPStatusError as exc:
            raise SourceRefused(self._refusal(exc.response)) from None
        try:
            return response.json()
        except json.JSONDecodeError:
            raise SourceRefused(f"{response.url} answered {response.headers.get('content-type', 'no content type')}, "
                                "not JSON; check source.url") from None

    def _refusal(self, response: httpx.Response) -> str:
        status = f"{response.url} answered {response.status_code} {response.reason_phrase}"
        if response.status_code in (401, 403) and self.settings.auth:
            return f"{status}; check the credential in ${self.settings.auth.variable} (source.auth)"
        if response.status_code in (401, 403):
            return f"{status}; the API needs credentials: set source.auth"
        return f"{status}; check source.url and source.params"

    def _records(self, answer: Any) -> list[Any]:
        found = answer
        for step in filter(None, self.settings.records_path.split(".")):
            found = found.get(step) if isinstance(found, dict) else None
        if not isinstance(found, list) or not all(isinstance(r, dict) for r in found):
            where = self.settings.records_path or "the top level"
            raise SourceRefused(f"{self.settings.url} answered JSON without a list of objects at {where}; "
                                "check source.records_path")
        return found

    def _following(self, at: Any, answer: Any, records: list[Any]) -> Any:
        """The request for the next page, or None when this page is the last for now."""
        match self.settings.pagination:
            case PagePagination() as page:
                return at + 1 if len(records) >= page.page_size else None
            case CursorPagination() as paged:
                following = answer
                for step in paged.cursor_path.split("."):
                    following = following.get(step) if isinstance(following, dict) else None
                return following if records and following not in (None, "", at) else None
        return None

    def _position(self, at: Any, index: int) -> str:
        match self.settings.pagination:
            case PagePagination() as page:
                return f"{self.settings.url} {page.page_param}={at} #{index}"
            case CursorPagination() as paged:
                return f"{self.settings.url} {paged.cursor_param}={at} #{index}"
        return f"{self.settings.url} #{index}"


def _worth_retrying(exc: BaseException) -> bool:
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code >= 500
    return isinstance(exc, httpx.TransportError)


def _flat(record: dict[str, Any], prefix: str = "") -> dict[str, str | None]:
    """A JSON object as columns: nested objects become dotted names (person.name), lists JSON text."""
    flat: dict[str, str | None] = {}
    for name, value in record.items():
        match value:
            case dict():
                flat |= _flat(value, f"{prefix}{name}.")
            case None | str():
                flat[prefix + name] = value
            case bool():
                flat[prefix + name] = "true" if value else "false"
            case list():
                flat[prefix + name] = json.dumps(value, ensure_ascii=False)
            case _:
                flat[prefix + name] = str(value)
    return flat
