"""``/api/v1/status``: a job's status and history (long-poll with ``?wait=N``), listings, admin requeue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from plastinka_api.auth import Admin, Viewer
from plastinka_api.context import get_context
from plastinka_api.errors import error_responses
from plastinka_api.pagination import Paginated
from plastinka_api.status import service
from plastinka_schemas import JobStatus, JobStatusPublic, Page

router = APIRouter(prefix="/status", tags=["status"], responses=error_responses(401, 403, 404, 409, 422))


@router.get(
    "/{job_id}",
    response_model=JobStatusPublic,
    summary="A job's status and event history",
    description=(
        "The status, progress and event history of a training or prediction job of the key's owner. "
        "With `wait` it long-polls: it answers as soon as the job changes or the wait ends. Any role "
        "may call it."
    ),
)
async def get_status(
    job_id: str,
    request: Request,
    principal: Viewer,
    wait: Annotated[float, Query(ge=0, description="Long-poll: wait up to N seconds for a change")] = 0,
) -> Response:
    # The hot polling path: the view is already a validated JobStatusPublic, so it is serialised once by
    # pydantic-core instead of re-validated against the response model, dumped and JSON-encoded again.
    view = await service.poll(get_context(request), principal, job_id, wait)
    return Response(view.model_dump_json(), media_type="application/json")


@router.get(
    "",
    summary="List jobs of both kinds by status",
    description=(
        "A page of the owner's training and prediction jobs together, newest first, optionally only "
        "those in the given statuses. Any role may call it."
    ),
)
async def list_status(
    request: Request,
    principal: Viewer,
    page: Paginated,
    status: Annotated[list[JobStatus] | None, Query()] = None,
) -> Page[JobStatusPublic]:
    ctx = get_context(request)
    return await ctx.db.call(service.listing, ctx, principal, status, page)


@router.post(
    "/{job_id}/requeue",
    summary="Admin: requeue a dead-lettered job",
    description=(
        "Puts a `dead_letter` or `failed` job back in the queue with a fresh budget of attempts; a "
        "job in any other status answers 409. Answers the job's status. Needs an admin key."
    ),
)
async def requeue(job_id: str, request: Request, principal: Admin) -> JobStatusPublic:
    return await service.requeue(get_context(request), principal, job_id)
