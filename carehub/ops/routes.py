"""The operations endpoints of `carehub serve`: /metrics, the /api/* JSON views and the dashboard."""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Header, HTTPException, Query
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from carehub.broker import Admin
from carehub.errors import CarehubError
from carehub.ops.lag import LagView, measure
from carehub.ops.metrics import exposition, metric_families
from carehub.ops.rules import LagPolicy
from carehub.ops.snapshot import dead_letter_counts, open_alerts, reconciler_consumed
from connectors.sdk.status import connector_statuses

if TYPE_CHECKING:
    from carehub.hub import Hub

STATIC = files("carehub.ops") / "static"
#: The dashboard's files and how they are served; nothing else under static/ is.
ASSETS = {"dashboard.js": "text/javascript", "dashboard.css": "text/css"}


def _answer(make: Callable[[], Response]) -> Response:
    """`make`'s response, or 503 with the reason when the broker or the database is unreachable."""
    try:
        return make()
    except CarehubError as exc:
        return JSONResponse({"error": str(exc)}, status_code=503)


def ops_router(hub: Hub, policy: LagPolicy = LagPolicy()) -> APIRouter:
    """Routes reading the hub's broker and database; every lag reading also stores a sample."""
    router = APIRouter()

    def lag_view(admin: Admin, groups: list[str] | None = None) -> LagView:
        return measure(admin, hub.engine, policy, groups, retry_seconds=hub.settings.retry_seconds)

    def dead_letters() -> dict[str, int]:
        with hub.broker.admin() as admin:
            return dead_letter_counts(admin, hub.settings.topic_prefix)

    @router.get("/metrics", tags=["operations"], response_class=Response)
    def metrics(accept: Annotated[str, Header()] = "") -> Response:
        """Prometheus metrics: consumer lag and status, connectors, dead letters, reconcilers."""

        def scrape() -> Response:
            with hub.broker.admin() as admin:
                view, dead = lag_view(admin), dead_letter_counts(admin, hub.settings.topic_prefix)
            with hub.engine.connect() as conn:
                families = metric_families(view, connector_statuses(conn), dead, reconciler_consumed(conn))
            body, content_type = exposition(families, accept)
            return Response(body, headers={"Content-Type": content_type})

        return _answer(scrape)

    @router.get("/api/lag", tags=["operations"])
    def api_lag(group: Annotated[list[str] | None, Query(description="only these groups")] = None) -> Response:
        """Every consumer group's lag per partition, its status and its recent history."""

        def lag() -> Response:
            with hub.broker.admin() as admin:
                return JSONResponse(lag_view(admin, group).as_json())

        return _answer(lag)

    @router.get("/api/connectors", tags=["operations"])
    def api_connectors() -> Response:
        """Each connector's state, last poll, last error and running totals."""

        def rows() -> Response:
            with hub.engine.connect() as conn:
                return JSONResponse([row.as_json() for row in connector_statuses(conn)])

        return _answer(rows)

    @router.get("/api/dead-letters", tags=["operations"])
    def api_dead_letters() -> Response:
        """Records in each dead-letter topic."""
        return _answer(lambda: JSONResponse(
            [{"topic": topic, "records": records} for topic, records in dead_letters().items()]
        ))

    @router.get("/api/alerts", tags=["operations"])
    def api_alerts() -> Response:
        """Open risk alerts per rule; `available` is false while the database has no alert table."""

        def alerts() -> Response:
            with hub.engine.connect() as conn:
                counts = open_alerts(conn)
            return JSONResponse({
                "available": counts is not None,
                "by_rule": [
                    {"rule": c.rule, "open": c.open, "amount_at_risk": c.amount_at_risk} for c in counts or []
                ],
            })

        return _answer(alerts)

    @router.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/dashboard")

    @router.get("/dashboard", response_class=HTMLResponse, tags=["operations"])
    def dashboard() -> HTMLResponse:
        """The operations dashboard: lag, throughput, dead letters, connectors and alerts."""
        return HTMLResponse((STATIC / "dashboard.html").read_text(encoding="utf-8"))

    @router.get("/dashboard/{asset}", include_in_schema=False)
    def dashboard_asset(asset: str) -> Response:
        if asset not in ASSETS:
            raise HTTPException(404, f"no dashboard file {asset!r}")
        return Response((STATIC / asset).read_text(encoding="utf-8"), media_type=ASSETS[asset])

    return router
