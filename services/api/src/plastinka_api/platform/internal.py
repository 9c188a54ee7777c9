"""``POST /api/v1/internal/jobs/{job_id}/events``: the functions' callback, authenticated by the job's token.

``POST /api/v1/internal/engine/tick``: dispatcher, sweeper and webhook passes for ``engine_tick_s``, for a host that
cannot keep background loops running between requests (a serverless container driven by a timer trigger). It is
mounted only where ``engine_tick_enabled`` is set: in the deployment that is a private container, which the
platform lets only the trigger's service account invoke; the public API has no such route.
"""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import ValidationError

from plastinka_api.context import get_context
from plastinka_api.errors import BadRequest, Conflict, Unauthorized, Unavailable, error_responses
from plastinka_api.jobs.events import StorageUnavailable, apply_event
from plastinka_schemas import parse_job_event
from plastinka_store.tokens import InvalidJobToken, verify_job_token

router = APIRouter(prefix="/internal", tags=["internal"], responses=error_responses(400, 401, 409, 422, 503))

_bearer = HTTPBearer(auto_error=False, description="The job's signed callback token")


@router.post(
    "/jobs/{job_id}/events",
    summary="Function callback: one status event of one attempt",
    description=(
        "Called by the training and prediction functions, not by people: one status event (started, "
        "progress, succeeded with its artifact manifest, failed) of one attempt of a job. "
        "Authenticated by the job's signed callback token, not an API key; an event of a superseded "
        "attempt is answered and ignored."
    ),
)
async def post_event(
    job_id: str,
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    body: Annotated[dict[str, Any], Body(description="A JobEvent (running, progress, succeeded or failed)")],
) -> dict[str, Any]:
    ctx = get_context(request)
    if credentials is None:
        raise Unauthorized("the job's callback token is required (Authorization: Bearer ...)")
    # The token's signature and expiry are checked before the body is read: a caller without a genuine token
    # learns nothing, not even what a valid event looks like.
    token = credentials.credentials
    try:
        verify_job_token(ctx.keys.callback_tokens, token, _claimed_job(token))
    except InvalidJobToken as exc:
        ctx.metrics.events.labels("unknown", "refused").inc()
        raise Unauthorized(str(exc)) from None
    try:
        event = parse_job_event(body)
    except ValidationError as exc:
        details = [{"where": "body." + ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]
        raise BadRequest("invalid job event", details=details) from None
    if event.job_id != job_id:
        raise BadRequest(f"event is for job {event.job_id!r}, posted to {job_id!r}")
    try:
        verify_job_token(ctx.keys.callback_tokens, token, job_id, attempt=event.attempt)
    except InvalidJobToken as exc:
        ctx.metrics.events.labels(event.type, "refused").inc()
        raise Unauthorized(str(exc)) from None
    try:
        outcome = await apply_event(ctx, event)
    except StorageUnavailable as exc:
        raise Unavailable(f"cannot verify the artifacts now: {exc}", headers={"Retry-After": "5"}) from None
    if outcome.reason == "superseded":
        # A function starting an attempt the job no longer wants (cancelled, retried, finished) stops here.
        raise Conflict(f"attempt {event.attempt} of job {job_id} is no longer current; do no work for it")
    return {
        "accepted": True,
        "applied": outcome.applied,
        "status": outcome.status.value if outcome.status else None,
        "reason": outcome.reason,
    }


engine_router = APIRouter(prefix="/internal", tags=["internal"])


@engine_router.post(
    "/engine/tick",
    summary="Run the job engine's passes for a while (timer-driven hosts only)",
    description=(
        "Runs the sweeper, dispatcher and webhook passes for a bounded time and answers how many of "
        "each ran. Mounted only on the timer-driven engine host (`engine_tick_enabled`) and called by "
        "its timer."
    ),
)
async def engine_tick(request: Request) -> dict[str, Any]:
    ctx = get_context(request)
    engine = request.app.state.engine
    settings = ctx.settings
    deadline = time.monotonic() + settings.engine_tick_s
    passes = {"dispatch": 0, "sweep": 0, "webhooks": 0}
    next_sweep = 0.0
    while True:
        now = time.monotonic()
        if now >= next_sweep:
            await engine.sweep_once()
            passes["sweep"] += 1
            next_sweep = now + settings.sweep_interval_s
        busy = await engine.dispatch_once()
        passes["dispatch"] += 1
        busy = await engine.webhooks_once() or busy
        passes["webhooks"] += 1
        if time.monotonic() + settings.dispatch_interval_s >= deadline:
            break
        if not busy:
            await asyncio.sleep(settings.dispatch_interval_s)
    return {"passes": passes}


def _claimed_job(token: str) -> str:
    """The job a token names (not yet believed: ``verify_job_token`` checks the signature over it)."""
    parts = token.split(".")
    return parts[1] if len(parts) == 5 else ""
