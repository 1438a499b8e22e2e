"""The health platform's JSON API: rows written as JSON files and served, paged, on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

from carehub.demo.connectors import source_row, text
from carehub.demo.services import Rows
from connectors.sdk.config import ConnectorConfig
from connectors.sdk.sources.http import CursorPagination, PagePagination


def _nested(flat: dict[str, object]) -> dict[str, object]:
    """Dotted columns (person.idNumber) as the nested objects the API answers with."""
    record: dict = {}
    for column, value in flat.items():
        *parents, leaf = column.split(".")
        node = record
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value == "true" if value in ("true", "false") else text(value)  # JSON has booleans
    return record


def endpoint(config: ConnectorConfig) -> str:
    return urlsplit(config.source.url).path.rsplit("/", 1)[1]


def write_api_data(folder: Path, rows: Rows, configs: dict[str, ConnectorConfig]) -> dict[str, int]:
    """Each http connector's rows as `<endpoint>.json` in `folder`; returns rows per record type."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for record, config in configs.items():
        if config.source.kind != "http":
            continue
        records = [_nested(source_row(r, config)) for r in rows.get(record, [])]
        (folder / f"{endpoint(config)}.json").write_text(json.dumps(records, ensure_ascii=False, indent=1), encoding="utf-8")
        written[record] = len(records)
    return written


class HealthApi:
    """Serves `<folder>/<endpoint>.json` at /api/v1/<endpoint>, paged as each connector's YAML
    expects, to callers sending the API key; a context manager that stops the server on exit."""

    def __init__(self, folder: Path, api_key: str, configs: dict[str, ConnectorConfig]):
        self.folder, self.api_key = folder, api_key
        self.paging = {endpoint(c): c.source.pagination for c in configs.values() if c.source.kind == "http"}
        self._records = {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in folder.glob("*.json")}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, name="demo-health-api", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> HealthApi:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def answer(self, name: str, query: dict[str, list[str]]) -> dict[str, object] | None:
        paging, records = self.paging.get(name), self._records.get(name)
        if records is None:
            return None
        arg = lambda key, default: int(query.get(key, [default])[0])  # noqa: E731
        match paging:
            case PagePagination() as p:
                size, page = arg(p.size_param, p.page_size), arg(p.page_param, p.first_page)
                start = (page - p.first_page) * size
                return {"code": 0, "message": "ok", "data": {"total": len(records), "page": page, "items": records[start:start + size]}}
            case CursorPagination() as p:
                size, start = arg(p.size_param or "limit", p.page_size), arg(p.cursor_param, "0")
                return {"items": records[start:start + size], "next": str(start + size) if start + size < len(records) else None}
        return {"items": records}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server hook's name
                if self.headers.get("X-API-Key") != api.api_key:
                    return self._send(401, {"code": 401, "message": "missing or wrong X-API-Key"})
                url = urlsplit(self.path)
                body = api.answer(url.path.rsplit("/", 1)[1], parse_qs(url.query)) if url.path.startswith("/api/v1/") else None
                return self._send(404, {"code": 404, "message": "no such endpoint"}) if body is None else self._send(200, body)

            def _send(self, status: int, body: dict[str, object]) -> None:
                data = json.dumps(body, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                """Quiet: the demo's progress display owns the terminal."""

        return Handler
