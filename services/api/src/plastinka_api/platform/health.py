"""Liveness and readiness (no key: probes), and the Prometheus scrape endpoint (an admin key, as a bearer token).

The design keeps every endpoint but health behind a key; the metrics tell job volumes and model quality of
the deployment, which are the shop's business, so a scraper holds an admin key (Prometheus: ``authorization``)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from plastinka_api.auth import require
from plastinka_api.context import get_context
from plastinka_schemas import Role

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    summary="Liveness: the process answers",
    description=(
        'Answers `{"status": "ok"}` as long as the process serves requests; it checks nothing else. '
        "Anyone may call it, without a key: use it as a liveness probe."
    ),
)
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/ready",
    summary="Readiness: the database and the object store answer",
    description=(
        "Pings the database and the object store (5 s each) and answers 200 with each check's result "
        "when both answer, 503 with the same body when one does not. Anyone may call it, without a "
        "key: use it as a readiness probe."
    ),
    response_model=None,
    responses={503: {"description": "Not ready: the body's checks say which dependency failed"}},
)
async def ready(request: Request) -> dict[str, Any] | JSONResponse:
    ctx = get_context(request)
    checks: dict[str, str] = {}
    try:
        await asyncio.wait_for(ctx.db.call(ctx.db.ping), 5.0)
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        await asyncio.wait_for(ctx.store.exists("ready-probe"), 5.0)
        checks["storage"] = "ok"
    except Exception as exc:
        checks["storage"] = f"error: {type(exc).__name__}"
    ok = all(v == "ok" for v in checks.values())
    body = {"status": "ready" if ok else "not_ready", "checks": checks}
    return body if ok else JSONResponse(body, status_code=503)


@router.get(
    "/metrics",
    summary="Prometheus metrics (admin key)",
    description=(
        "Request, job, invocation and database-pool metrics in the Prometheus text format. Needs an admin key."
    ),
    response_class=Response,
    dependencies=[Depends(require(Role.ADMIN))],
)
async def metrics(request: Request) -> Response:
    return Response(get_context(request).metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")
