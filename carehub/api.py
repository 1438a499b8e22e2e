"""The hub's HTTP server: schema registry (Confluent REST subset), health, metrics and the operations dashboard."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from carehub import __version__
from carehub.errors import CarehubError
from carehub.hub import Hub
from carehub.ops.routes import ops_router
from carehub.ops.rules import LagPolicy
from carehub.query.routes import query_router
from carehub.registry.api import registry_router


def create_app(hub: Hub, lag_policy: LagPolicy = LagPolicy()) -> FastAPI:
    app = FastAPI(
        title="carehub",
        version=__version__,
        description="Schema registry for carehub's topics (Confluent Schema Registry REST subset), health checks, "
        "Prometheus metrics, consumer lag and the operations dashboard (/dashboard).",
    )
    app.include_router(registry_router(hub.registry))
    app.include_router(ops_router(hub, lag_policy))
    app.include_router(query_router(hub))

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    def readyz() -> JSONResponse:
        """The broker and the database answer."""
        checks: dict[str, str] = {}
        try:
            with hub.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            checks["database"] = "ok"
        except (CarehubError, sa.exc.SQLAlchemyError) as exc:
            checks["database"] = str(exc)
        try:
            with hub.broker.admin() as admin:
                admin.list_topics()
            checks["broker"] = "ok"
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            checks["broker"] = f"{type(exc).__name__}: {exc}"
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)

    return app
