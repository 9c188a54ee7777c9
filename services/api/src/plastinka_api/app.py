"""The app factory: routers, error handlers, metrics, and a lifespan that wires the database, storage,
invoker, bootstrap data and the job engine."""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TextIO

import anyio.to_thread
from fastapi import APIRouter, FastAPI

from plastinka_api import bootstrap
from plastinka_api.context import AppContext
from plastinka_api.database import Database
from plastinka_api.datasets import endpoints as datasets
from plastinka_api.egress import EgressPolicy
from plastinka_api.engine import JobEngine
from plastinka_api.errors import install_error_handlers
from plastinka_api.headers import SecurityHeadersMiddleware
from plastinka_api.jobs import endpoints as jobs
from plastinka_api.keys import endpoints as keys
from plastinka_api.limits import BodyLimitMiddleware
from plastinka_api.metrics import Metrics, MetricsMiddleware
from plastinka_api.models import endpoints as models
from plastinka_api.platform import files, health, internal
from plastinka_api.results import endpoints as results
from plastinka_api.runtime import DbRecorder, make_invoker, make_store
from plastinka_api.secrets_file import load_keys
from plastinka_api.settings import Settings
from plastinka_api.status import endpoints as status
from plastinka_api.throttle import FailureThrottle
from plastinka_api.web import endpoints as web
from plastinka_api.web.service import STATIC_URL
from plastinka_api.webhooks import WebhookSender
from plastinka_store.db import create_engine, migrate
from plastinka_store.policy import RetryPolicy
from plastinka_store.repository import JobRepository

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"


def build_context(settings: Settings, metrics: Metrics) -> AppContext:
    """Open the database (migrated to head) and the object store; the invoker comes with the engine."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    # Pool as large as the worker-thread limit (40): overflow connections would reconnect, and every new
    # SQLite connection re-runs its PRAGMAs under the write lock.
    engine = create_engine(settings.resolved_database_url, pool_size=20, max_overflow=20)
    migrate(engine)
    metrics.watch_engine(engine)
    keys = load_keys(settings)  # one key per purpose, none of them the master secret
    policy = RetryPolicy(
        max_attempts=settings.max_attempts,
        base_delay_s=settings.retry_base_s,
        max_delay_s=max(settings.retry_max_s, settings.retry_base_s),
        lease_s=settings.lease_s,
        heartbeat_grace_s=min(60.0, settings.lease_s),
    )
    return AppContext(
        settings=settings,
        metrics=metrics,
        db=Database(engine),
        store=make_store(settings, keys.signed_urls),
        keys=keys,
        webhooks=WebhookSender(keys.webhooks, policy=EgressPolicy.parse(settings.webhook_allowed_hosts)),
        repo=JobRepository(engine, policy),
        auth_throttle=FailureThrottle(settings.auth_throttle_burst, settings.auth_throttle_per_minute),
    )


def create_app(settings: Settings | None = None, *, out: TextIO | None = None) -> FastAPI:
    """A ready-to-serve app; nothing is opened until its lifespan starts."""
    settings = settings or Settings()
    metrics = Metrics()
    banner = out if out is not None else sys.stdout

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx = await anyio.to_thread.run_sync(build_context, settings, metrics)
        await ctx.store.open()
        app.state.ctx = ctx
        engine = JobEngine(ctx)
        ctx.invoker = make_invoker(settings, DbRecorder(ctx.repo, engine.attempt_finished, metrics))
        await bootstrap.run(ctx, banner)
        if settings.engine_enabled:
            engine.start()
        app.state.engine = engine
        try:
            yield
        finally:
            await engine.stop()
            for task in list(ctx.background):
                task.cancel()
            if ctx.invoker is not None:
                await ctx.invoker.aclose()
            await ctx.store.close()
            ctx.db.engine.dispose()

    app = FastAPI(
        title="Plastinka Sales Predictor API",
        version="0.1.0",
        summary="Probabilistic monthly sales forecasts per record, from the shop's sales exports.",
        lifespan=lifespan,
        docs_url=None,  # /docs and /redoc are served from the package's own files (plastinka_api.web): no CDN
        redoc_url=None,
    )
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_upload_bytes=settings.max_upload_bytes)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(SecurityHeadersMiddleware)  # outermost: error and limit responses get the headers too
    app.include_router(health.router)
    app.include_router(files.router)
    api = APIRouter(prefix=API_PREFIX)
    for module in (keys, datasets, jobs, status, results, models, internal):
        api.include_router(module.router)
    if settings.engine_tick_enabled:  # the timer-driven engine host only (infra/terraform/api.tf)
        api.include_router(internal.engine_router)
    app.include_router(api)
    app.include_router(web.router)
    app.mount(STATIC_URL, web.static_files(), name="static")
    return app
