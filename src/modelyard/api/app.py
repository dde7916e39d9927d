"""``create_app(settings)``: the only composition root. Nothing is built at import time."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import anyio.to_thread
from fastapi import Depends, FastAPI
from fastapi.telemetry import TelemetryConfig
from prometheus_client import CollectorRegistry

from modelyard import __version__
from modelyard.api import access, errors, redaction
from modelyard.api.fastpath import FastPaths
from modelyard.api.limits import FailureLimiter
from modelyard.api.middleware import BodySizeLimit, RefuseNulInPath, RequestContext
from modelyard.api.routes import (
    audit,
    auth,
    blobs,
    comments,
    datasets,
    health,
    inventory,
    lineage,
    manifests,
    models,
    namespaces,
    policy,
    teams,
    tokens,
    transitions,
    users,
    versions,
    webhooks,
)
from modelyard.blobs import open_store
from modelyard.db.checkpoints import WalCheckpointer
from modelyard.db.engine import Database
from modelyard.db.fts_indexer import FtsIndexer
from modelyard.services.access_cache import AccessCache
from modelyard.services.policy_file import server_policy
from modelyard.services.secretbox import SecretBox
from modelyard.services.sweeper import ExpirySweeper
from modelyard.services.uploads import HashCache, Transfers
from modelyard.services.worker import DeliveryWorker
from modelyard.settings import Settings

OPENAPI_PATH = "/api/v1/openapi.json"


_NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


def create_app(
    settings: Settings, db: Database | None = None, *, fast_paths: bool = True
) -> FastAPI:
    """Build the ASGI app. ``db`` may be handed in (tests share one); otherwise it is made
    from ``settings.resolved_database_url``. The schema must already be migrated.
    ``fast_paths=False`` leaves the hot routes to FastAPI alone (``api/fastpath.py``; tests
    compare the two).

    Raises POLICY_INVALID (``PolicyError``) when MODELYARD_POLICY_FILE does not validate."""
    server_rules = server_policy(settings)  # first: a bad policy stops the start, nothing open
    redaction.install()  # before anything can log a request line
    database = db or Database.from_url(
        settings.resolved_database_url, settings.sqlite_busy_timeout_ms
    )

    store = open_store(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        worker = app.state.webhook_worker = _start_worker(settings, database, app.state.metrics)
        checkpoints = WalCheckpointer(database)
        indexer = FtsIndexer(database)
        if database.dialect == "sqlite":
            checkpoints.start()
            indexer.start()
        sweeper = app.state.expiry_sweeper = ExpirySweeper(
            database, settings.transition_sweep_seconds
        )
        if settings.transition_sweep_seconds > 0:
            sweeper.start()
        yield
        await anyio.to_thread.run_sync(sweeper.stop)
        if worker is not None:
            await anyio.to_thread.run_sync(worker.stop)
        await anyio.to_thread.run_sync(indexer.stop)  # its last round, then the checkpoint's
        await anyio.to_thread.run_sync(checkpoints.stop)
        store.close()
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
        dependencies=[Depends(access.signed_in_unless_public)],
        # Off unless asked for: FastAPI otherwise asks OpenTelemetry on every request whether
        # a tracer, meter or logger provider is configured (about 5 µs, ~0.5 % of a version
        # creation's CPU), for spans nobody collects on a default install.
        telemetry=None if settings.opentelemetry else _NO_TELEMETRY,
    )
    app.state.settings = settings
    app.state.policy = server_rules
    app.state.db = database
    app.state.metrics = CollectorRegistry()
    app.state.blobs = store
    app.state.access_cache = AccessCache()
    app.state.auth_limiter = FailureLimiter(
        settings.auth_max_failures, settings.auth_window_seconds
    )
    app.state.transfers = Transfers(
        db=database,
        store=store,
        hashes=HashCache(),
        max_blob_bytes=settings.max_blob_bytes,
        # Refresh last_seen well within the GC grace window (see services/blobs.py).
        refresh_after=timedelta(seconds=settings.gc_grace_seconds / 4),
    )
    app.state.webhook_secrets = SecretBox(settings.resolved_webhooks_key_file)
    app.state.webhook_worker = None  # started with the app (lifespan), when configured
    errors.install(app)
    errors.install_openapi(app)
    routers = (
        *(health, namespaces, models, versions, manifests, blobs, auth, users, tokens, teams),
        *(datasets, lineage, inventory, audit, webhooks, policy, transitions, comments),
    )
    for module in routers:
        app.include_router(module.router)
    app.state.fast_paths_taken = Counter[str]()
    if fast_paths:  # innermost: behind every middleware duty below
        app.add_middleware(FastPaths, owner=app, taken=app.state.fast_paths_taken)
    app.add_middleware(
        BodySizeLimit, limit=settings.max_request_body_bytes, exempt_prefixes=("/api/v1/blobs",)
    )
    app.add_middleware(RefuseNulInPath)
    app.add_middleware(RequestContext, registry=app.state.metrics)
    return app


def _start_worker(
    settings: Settings, db: Database, registry: CollectorRegistry
) -> DeliveryWorker | None:
    """The webhook delivery worker of this server process (MODELYARD_WEBHOOKS_WORKER)."""
    if not settings.webhooks_worker:
        return None
    worker = DeliveryWorker.from_settings(db, settings, registry)
    worker.start()
    return worker
