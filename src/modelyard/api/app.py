"""``create_app(settings)``: the only composition root. Nothing is built at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from modelyard import __version__
from modelyard.api import errors
from modelyard.api.middleware import BodySizeLimit, RefuseNulInPath, RequestContext
from modelyard.api.routes import health, models, namespaces, versions
from modelyard.db.engine import Database
from modelyard.settings import Settings

OPENAPI_PATH = "/api/v1/openapi.json"


def create_app(settings: Settings, db: Database | None = None) -> FastAPI:
    """Build the ASGI app. ``db`` may be handed in (tests share one); otherwise it is made
    from ``settings.resolved_database_url``. The schema must already be migrated."""
    database = db or Database.from_url(
        settings.resolved_database_url, settings.sqlite_busy_timeout_ms
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if db is None:
            database.dispose()

    app = FastAPI(
        title="Modelyard",
        version=__version__,
        description="The model registry API. Errors share one shape: "
        '`{"error": {"code", "message", "details"}}`.',
        openapi_url=OPENAPI_PATH,
        docs_url="/api/v1/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.db = database
    app.state.metrics = CollectorRegistry()
    errors.install(app)
    for router in (health.router, namespaces.router, models.router, versions.router):
        app.include_router(router)
    app.add_middleware(
        BodySizeLimit, limit=settings.max_request_body_bytes, exempt_prefixes=("/api/v1/blobs",)
    )
    app.add_middleware(RefuseNulInPath)
    app.add_middleware(RequestContext, registry=app.state.metrics)
    return app
