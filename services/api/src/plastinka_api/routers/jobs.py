"""``/api/v1/training`` and ``/api/v1/prediction``: submit, list, get, cancel."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response

from plastinka_api.auth import Analyst, Viewer
from plastinka_api.context import AppContext, get_context
from plastinka_api.errors import Conflict, NotFound, error_responses
from plastinka_api.keys.service import Principal
from plastinka_api.notify import job_ended
from plastinka_api.submit import submit_prediction, submit_training
from plastinka_api.views import JobRow, job_view, kind_of
from plastinka_schemas import (
    JobAccepted,
    JobKind,
    JobStatus,
    Page,
    PredictionJobCreate,
    PredictionJobPublic,
    TrainingJobCreate,
    TrainingJobPublic,
)

router = APIRouter(responses=error_responses(400, 401, 403, 404, 409, 422))

JobPublic = TrainingJobPublic | PredictionJobPublic

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="Repeat a submission safely: the same key returns the job it created first.",
    ),
]


def _accepted(job: JobRow, kind: JobKind, response: Response, created: bool) -> JobAccepted:
    response.status_code = 202 if created else 200
    response.headers["Location"] = f"/api/v1/status/{job.id}"
    return JobAccepted(job_id=job.id, kind=kind, status=job.status, status_url=f"/api/v1/status/{job.id}")


def load_job(ctx: AppContext, principal: Principal, job_id: str, kind: JobKind | None = None) -> JobRow:
    job = ctx.repo.get(job_id, owner=principal.owner)
    if job is None or (kind is not None and kind_of(job) != kind):
        raise NotFound("job", job_id)
    return job


def _detail(ctx: AppContext, principal: Principal, job_id: str, kind: JobKind) -> JobPublic:
    job = load_job(ctx, principal, job_id, kind)
    return job_view(job, ctx.repo.events(job_id, owner=principal.owner))


def _listing(
    ctx: AppContext, principal: Principal, kind: JobKind, statuses: list[JobStatus] | None, offset: int, limit: int
) -> Page[JobPublic]:
    total, rows = ctx.repo.list_jobs(kind, owner=principal.owner, statuses=statuses, offset=offset, limit=limit)
    return Page(total=total, offset=offset, limit=limit, items=[job_view(r, []) for r in rows])


def _cancel(ctx: AppContext, principal: Principal, job_id: str, kind: JobKind) -> JobPublic:
    load_job(ctx, principal, job_id, kind)
    if not ctx.repo.cancel(job_id, owner=principal.owner):
        job = load_job(ctx, principal, job_id, kind)
        raise Conflict(f"job {job_id} is already {job.status.value} and cannot be cancelled")
    return _detail(ctx, principal, job_id, kind)


Offset = Annotated[int, Query(ge=0, le=10_000_000)]
Limit = Annotated[int, Query(ge=1, le=1000)]
StatusFilter = Annotated[list[JobStatus] | None, Query(alias="status")]


@router.post(
    "/training",
    status_code=202,
    response_model=JobAccepted,
    tags=["training"],
    summary="Queue a training job",
    responses={200: {"description": "Idempotent repeat"}},
)
async def create_training(
    body: TrainingJobCreate,
    request: Request,
    response: Response,
    principal: Analyst,
    idempotency_key: IdempotencyKey = None,
) -> JobAccepted:
    ctx = get_context(request)
    job, created = await ctx.db.call(submit_training, ctx, principal, body, idempotency_key)
    ctx.wake_dispatcher()
    return _accepted(job, JobKind.TRAINING, response, created)


@router.get("/training", response_model=Page[TrainingJobPublic], tags=["training"], summary="List training jobs")
async def list_training(
    request: Request, principal: Viewer, status: StatusFilter = None, offset: Offset = 0, limit: Limit = 50
) -> Page[JobPublic]:
    ctx = get_context(request)
    return await ctx.db.call(_listing, ctx, principal, JobKind.TRAINING, status, offset, limit)


@router.get("/training/{job_id}", response_model=TrainingJobPublic, tags=["training"], summary="One training job")
async def get_training(job_id: str, request: Request, principal: Viewer) -> JobPublic:
    ctx = get_context(request)
    return await ctx.db.call(_detail, ctx, principal, job_id, JobKind.TRAINING)


@router.post(
    "/training/{job_id}/cancel",
    response_model=TrainingJobPublic,
    tags=["training"],
    summary="Cancel a training job that has not finished",
)
async def cancel_training(job_id: str, request: Request, principal: Analyst) -> JobPublic:
    ctx = get_context(request)
    result = await ctx.db.call(_cancel, ctx, principal, job_id, JobKind.TRAINING)
    ctx.changes.notify(job_id)
    ctx.spawn(job_ended(ctx, job_id))
    return result


@router.post(
    "/prediction",
    status_code=202,
    response_model=JobAccepted,
    tags=["prediction"],
    summary="Queue a prediction job",
    responses={200: {"description": "Idempotent repeat"}},
)
async def create_prediction(
    body: PredictionJobCreate,
    request: Request,
    response: Response,
    principal: Analyst,
    idempotency_key: IdempotencyKey = None,
) -> JobAccepted:
    ctx = get_context(request)
    job, created = await ctx.db.call(submit_prediction, ctx, principal, body, idempotency_key)
    ctx.wake_dispatcher()
    return _accepted(job, JobKind.PREDICTION, response, created)


@router.get(
    "/prediction", response_model=Page[PredictionJobPublic], tags=["prediction"], summary="List prediction jobs"
)
async def list_prediction(
    request: Request, principal: Viewer, status: StatusFilter = None, offset: Offset = 0, limit: Limit = 50
) -> Page[JobPublic]:
    ctx = get_context(request)
    return await ctx.db.call(_listing, ctx, principal, JobKind.PREDICTION, status, offset, limit)


@router.get(
    "/prediction/{job_id}", response_model=PredictionJobPublic, tags=["prediction"], summary="One prediction job"
)
async def get_prediction(job_id: str, request: Request, principal: Viewer) -> JobPublic:
    ctx = get_context(request)
    return await ctx.db.call(_detail, ctx, principal, job_id, JobKind.PREDICTION)


@router.post(
    "/prediction/{job_id}/cancel",
    response_model=PredictionJobPublic,
    tags=["prediction"],
    summary="Cancel a prediction job that has not finished",
)
async def cancel_prediction(job_id: str, request: Request, principal: Analyst) -> JobPublic:
    ctx = get_context(request)
    result = await ctx.db.call(_cancel, ctx, principal, job_id, JobKind.PREDICTION)
    ctx.changes.notify(job_id)
    ctx.spawn(job_ended(ctx, job_id))
    return result
