"""The http source against a real HTTP server on 127.0.0.1: paging, retries on 5xx, no retry on 4xx."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from carehub.errors import ConfigError, ServiceUnavailable
from connectors.sdk.config import load_config
from connectors.sdk.sources import SourceRefused, SourceRow
from connectors.sdk.sources.http import HttpSource, JsonApiSource

TOKEN = "tok-7f3a9c"
EXAMPLE = Path(__file__).parents[2] / "connectors/examples/registry_person_http.yaml"


@dataclass
class FakeApi:
    """A paged person API: /persons?page=&size= and /feed?cursor=, behind a bearer token."""

    url: str = ""
    records: list[dict] = field(default_factory=list)
    failures: list[int] = field(default_factory=list)  # statuses answered before the next good answer
    requests: list[dict[str, str]] = field(default_factory=list)

    def answer(self, path: str, params: dict[str, str], authorization: str | None) -> tuple[int, dict]:
        self.requests.append({"path": path, **params})
        if authorization != f"Bearer {TOKEN}":
            return 401, {"error": "invalid token"}
        if self.failures:
            return self.failures.pop(0), {"error": "try later"}
        if path == "/persons":
            page, size = int(params["page"]), int(params["size"])
            return 200, {"data": {"items": self.records[(page - 1) * size: page * size]}}
        start = int(params.get("cursor", "0"))
        items = self.records[start:start + 2]
        return 200, {"items": items, "next": str(start + 2) if start + 2 < len(self.records) else None}


@pytest.fixture
def api() -> Iterator[FakeApi]:
    state = FakeApi()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            parts = urlsplit(self.path)
            params = {k: v[0] for k, v in parse_qs(parts.query).items()}
            status, body = state.answer(parts.path, params, self.headers.get("Authorization"))
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


def person(i: int) -> dict:
    return {"recordNo": f"R{i}", "idNumber": "11010519491231002X", "name": f"n{i}", "active": True,
            "household": {"division": "110105"}, "tags": ["独居"], "updatedAt": None}


def example_connector(tmp_path: Path, url: str, environ: dict[str, str], **source: object) -> HttpSource:
    text = EXAMPLE.read_text(encoding="utf-8").replace("https://registry.example.gov.cn/api/v1/persons", url)
    config = load_config(_write(tmp_path / "http.yaml", text), environ)
    return config.source.model_copy(update=source)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def poll(source: JsonApiSource, cursor: dict | None) -> tuple[list[SourceRow], dict | None]:
    rows: list[SourceRow] = []
    for batch in source.batches(cursor, 1000):
        rows += batch.rows
        cursor = batch.cursor
    return rows, cursor


def paged(api: FakeApi, tmp_path: Path, **source: object) -> JsonApiSource:
    settings = example_connector(tmp_path, f"{api.url}/persons", {"REGISTRY_API_TOKEN": TOKEN}, params={}, **source)
    return JsonApiSource(settings.model_copy(update={"pagination": settings.pagination.model_copy(update={"page_size": 2})}))


def test_pages_are_read_to_the_first_short_page_and_a_503_is_retried(api: FakeApi, tmp_path: Path) -> None:
    api.records = [person(i) for i in range(1, 6)]
    api.failures = [503]
    source = paged(api, tmp_path)

    rows, cursor = poll(source, None)
    assert [r.values["recordNo"] for r in rows] == ["R1", "R2", "R3", "R4", "R5"]
    assert rows[0].values == {"recordNo": "R1", "idNumber": "11010519491231002X", "name": "n1", "active": "true",
                              "household.division": "110105", "tags": '["独居"]', "updatedAt": None}
    assert rows[4].position == f"{api.url}/persons page=3 #0"
    assert [r["page"] for r in api.requests] == ["1", "1", "2", "3"]  # the first answer was a 503

    api.records += [person(6), person(7)]  # appended since: page 3 grows, page 4 begins
    rows, cursor = poll(source, cursor)
    assert [r.values["recordNo"] for r in rows] == ["R6", "R7"]
    assert poll(source, cursor)[0] == []


def test_cursor_pagination_follows_the_next_cursor(api: FakeApi, tmp_path: Path) -> None:
    api.records = [person(i) for i in range(1, 6)]
    source = JsonApiSource(HttpSource.model_validate({
        "kind": "http", "url": f"{api.url}/feed", "records_path": "items",
        "pagination": {"kind": "cursor", "cursor_path": "next"}, "auth": {"kind": "bearer", "token_env": "T"},
    }).resolved(tmp_path, {"T": TOKEN}))
    rows, cursor = poll(source, None)
    assert [r.values["recordNo"] for r in rows] == ["R1", "R2", "R3", "R4", "R5"]
    assert cursor == {"at": "4", "items": 1}
    api.records.append(person(6))
    assert [r.values["recordNo"] for r in poll(source, cursor)[0]] == ["R6"]


def test_a_401_is_not_retried_and_fails_with_one_line_naming_the_url_status_and_setting(
    api: FakeApi, tmp_path: Path
) -> None:
    source = JsonApiSource(example_connector(tmp_path, f"{api.url}/persons", {"REGISTRY_API_TOKEN": "expired"}))
    with pytest.raises(SourceRefused) as refused:
        poll(source, None)
    message = str(refused.value)
    assert f"{api.url}/persons" in message and "401 Unauthorized" in message and "$REGISTRY_API_TOKEN" in message
    assert "\n" not in message and "expired" not in message
    assert len(api.requests) == 1


def test_a_source_failing_with_5xx_past_the_retry_budget_names_the_url_setting(api: FakeApi, tmp_path: Path) -> None:
    api.failures = [502] * 100
    source = paged(api, tmp_path, retry_s=0.5)
    with pytest.raises(ServiceUnavailable, match=r"cannot reach HTTP source at .*/persons .*set source.url"):
        poll(source, None)
    assert len(api.requests) > 1


def test_the_token_is_read_once_from_the_named_variable_and_never_shown(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="source.auth.token_env names the environment variable REGISTRY_API_TOKEN"):
        load_config(_write(tmp_path / "http.yaml", EXAMPLE.read_text(encoding="utf-8")), environ={})
    config = load_config(_write(tmp_path / "http.yaml", EXAMPLE.read_text(encoding="utf-8")), {"REGISTRY_API_TOKEN": TOKEN})
    assert config.source.auth_headers() == {"Authorization": f"Bearer {TOKEN}"}
    assert TOKEN not in repr(config) + str(config) + config.model_dump_json()


def test_an_api_key_goes_in_the_named_header(tmp_path: Path) -> None:
    settings = HttpSource.model_validate({"kind": "http", "url": "https://api.example/x",
                                         "auth": {"kind": "api_key", "header_name": "X-Key", "key_env": "K"}})
    assert settings.resolved(tmp_path, {"K": "v"}).auth_headers() == {"X-Key": "v"}
    assert settings.auth_headers() == {}  # the original is unchanged
