"""``/api/v1/status``: a job's status and history (long-poll with ``?wait=N``), listings, admin requeue."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from plastinka_api.auth import Admin, Viewer
from plastinka_api.context import AppContext, get_context
from plastinka_api.errors import Conflict, NotFound, error_responses
from plastinka_api.jobs.service import load_job
from plastinka_api.jobs.views import status_view
from plastinka_api.keys.service import Principal
from plastinka_schemas import JobKind, JobStatus, JobStatusPublic, Page

router = APIRouter(prefix="/status", tags=["status"], responses=error_responses(401, 403, 404, 409, 422))

#: How often a long-poll re-reads the database when no change was signalled in this process
#: (another instance may have applied it).
_REPOLL_S = 0.5


def _read(ctx: AppContext, principal: Principal, job_id: str) -> JobStatusPublic:
    job, events = ctx.repo.get_with_events(job_id, owner=principal.owner)
    if job is None:
        raise NotFound("job", job_id)
    return status_view(job, events)


@router.get("/{job_id}", response_model=JobStatusPublic, summary="A job's status and event history")
async def get_status(
    job_id: str,
    request: Request,
    principal: Viewer,
    wait: Annotated[float, Query(ge=0, description="Long-poll: wait up to N seconds for a change")] = 0,
) -> Response:
    # The hot polling path: the view is already a validated JobStatusPublic, so it is serialised once by
    # pydantic-core instead of re-validated against the response model, dumped and JSON-encoded again.
    view = await _poll(request, principal, job_id, wait)
    return Response(view.model_dump_json(), media_type="application/json")


async def _poll(request: Request, principal: Principal, job_id: str, wait: float) -> JobStatusPublic:
    ctx = get_context(request)
    current = await ctx.db.call(_read, ctx, principal, job_id)
    deadline = time.monotonic() + min(wait, ctx.settings.max_wait_s)
    while not current.status.is_terminal:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        await ctx.changes.wait(job_id, min(remaining, _REPOLL_S))
        latest = await ctx.db.call(_read, ctx, principal, job_id)
        if (latest.status, latest.attempt, latest.progress, len(latest.events)) != (
            current.status,
            current.attempt,
            current.progress,
            len(current.events),
        ):
            return latest
        current = latest
    return current


@router.get("", response_model=Page[JobStatusPublic], summary="List jobs of both kinds by status")
async def list_status(
    request: Request,
    principal: Viewer,
    status: Annotated[list[JobStatus] | None, Query()] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> Page[JobStatusPublic]:
    ctx = get_context(request)

    def work() -> Page[JobStatusPublic]:
        rows = []
        total = 0
        for kind in JobKind:
            count, page = ctx.repo.list_jobs(
                kind, owner=principal.owner, statuses=status, offset=0, limit=offset + limit
            )
            total += count
            rows.extend(page)
        rows.sort(key=lambda r: (r.created_at, r.id), reverse=True)
        return Page[JobStatusPublic](
            total=total, offset=offset, limit=limit, items=[status_view(r, []) for r in rows[offset : offset + limit]]
        )

    return await ctx.db.call(work)


@router.post("/{job_id}/requeue", response_model=JobStatusPublic, summary="Admin: requeue a dead-lettered job")
async def requeue(job_id: str, request: Request, principal: Admin) -> JobStatusPublic:
    ctx = get_context(request)

    def work() -> JobStatusPublic:
        job = load_job(ctx, principal, job_id)
        if not ctx.repo.requeue(job.id):
            raise Conflict(f"job {job_id} is {job.status.value}; only dead_letter or failed jobs can be requeued")
        return _read(ctx, principal, job_id)

    result = await ctx.db.call(work)
    ctx.wake_dispatcher()
    ctx.changes.notify(job_id)
    return result
