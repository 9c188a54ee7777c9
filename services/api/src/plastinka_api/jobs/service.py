"""Jobs' rules, for both kinds. Submitting: check what the request names belongs to the caller, write the
``queued`` row, commit. Nothing is invoked here: the dispatcher picks the committed row up (woken at once in
this process). Reads are the caller's owner's jobs of the kind asked (another kind's id is a 404); a job is
cancelled only before it has finished.
"""

from __future__ import annotations

from typing import Any

from plastinka_api.context import AppContext
from plastinka_api.datasets import repository as datasets
from plastinka_api.errors import BadRequest, Conflict, NotFound
from plastinka_api.jobs.notify import job_ended
from plastinka_api.jobs.views import JobPublic, job_view, kind_of
from plastinka_api.keys.service import Principal
from plastinka_api.models import repository as models
from plastinka_api.pagination import Pagination
from plastinka_jobs.repository import IdempotencyConflict
from plastinka_jobs.tables import JobRow, PredictionJob, TrainingJob
from plastinka_schemas import JobKind, JobStatus, PredictionJobCreate, TrainingJobCreate


def training_parameters(body: TrainingJobCreate) -> dict[str, Any]:
    return {
        "frequency": body.frequency.value,
        "horizon": body.horizon,
        "quantiles": list(body.quantiles),
        "tune": body.tune,
        "time_budget_s": body.time_budget_s,
        "activate": body.activate,
    }


def submit_training(
    ctx: AppContext, principal: Principal, body: TrainingJobCreate, idempotency_key: str | None
) -> tuple[TrainingJob, bool]:
    with ctx.db.session() as session:
        datasets.get_or_404(session, principal.owner, body.dataset_id)
    try:
        return ctx.repo.create_training_job(
            owner=principal.owner,
            dataset_id=body.dataset_id,
            parameters=training_parameters(body),
            idempotency_key=idempotency_key,
            callback_url=str(body.callback_url) if body.callback_url else None,
            max_attempts=ctx.settings.max_attempts,
        )
    except IdempotencyConflict as exc:
        raise Conflict(str(exc), details={"job_id": exc.job_id}) from None


def submit_prediction(
    ctx: AppContext, principal: Principal, body: PredictionJobCreate, idempotency_key: str | None
) -> tuple[PredictionJob, bool]:
    with ctx.db.session() as session:
        if body.model_id is not None:
            model = models.get_or_404(session, principal.owner, body.model_id)
        else:
            found = models.active(session, principal.owner)
            if found is None:
                raise Conflict("no active model: train one first or name a model_id")
            model = found
        if body.dataset_id is not None:
            datasets.get_or_404(session, principal.owner, body.dataset_id)
    horizon = body.horizon if body.horizon is not None else model.horizon
    if horizon > model.horizon:
        raise BadRequest(
            f"horizon {horizon} exceeds the model's horizon {model.horizon}; train a model with a longer horizon",
            details=[{"where": "body.horizon", "message": f"at most {model.horizon} for model {model.id}"}],
        )
    parameters: dict[str, Any] = {"items": list(body.items) if body.items is not None else None}
    try:
        return ctx.repo.create_prediction_job(
            owner=principal.owner,
            model_id=model.id,
            horizon=horizon,
            dataset_id=body.dataset_id,
            parameters=parameters,
            idempotency_key=idempotency_key,
            callback_url=str(body.callback_url) if body.callback_url else None,
            max_attempts=ctx.settings.max_attempts,
        )
    except IdempotencyConflict as exc:
        raise Conflict(str(exc), details={"job_id": exc.job_id}) from None


async def submit(
    ctx: AppContext, principal: Principal, body: TrainingJobCreate | PredictionJobCreate, idempotency_key: str | None
) -> tuple[JobRow, bool]:
    """Queue a job of the body's kind and wake the dispatcher; ``(job, created)``."""
    job: JobRow
    if isinstance(body, TrainingJobCreate):
        job, created = await ctx.db.call(submit_training, ctx, principal, body, idempotency_key)
    else:
        job, created = await ctx.db.call(submit_prediction, ctx, principal, body, idempotency_key)
    ctx.wake_dispatcher()
    return job, created


def load_job(ctx: AppContext, principal: Principal, job_id: str, kind: JobKind | None = None) -> JobRow:
    """The owner's job (of ``kind`` when given), or 404."""
    job = ctx.repo.get(job_id, owner=principal.owner)
    if job is None or (kind is not None and kind_of(job) != kind):
        raise NotFound("job", job_id)
    return job


def detail(ctx: AppContext, principal: Principal, job_id: str, kind: JobKind) -> JobPublic:
    job = load_job(ctx, principal, job_id, kind)
    return job_view(job, ctx.repo.events(job_id, owner=principal.owner))


def listing(
    ctx: AppContext, principal: Principal, kind: JobKind, statuses: list[JobStatus] | None, pagination: Pagination
) -> tuple[int, list[JobRow]]:
    return ctx.repo.list_jobs(
        kind, owner=principal.owner, statuses=statuses, offset=pagination.offset, limit=pagination.limit
    )


def _cancel(ctx: AppContext, principal: Principal, job_id: str, kind: JobKind) -> JobPublic:
    load_job(ctx, principal, job_id, kind)
    if not ctx.repo.cancel(job_id, owner=principal.owner):
        job = load_job(ctx, principal, job_id, kind)
        raise Conflict(f"job {job_id} is already {job.status.value} and cannot be cancelled")
    return detail(ctx, principal, job_id, kind)


async def cancel(ctx: AppContext, principal: Principal, job_id: str, kind: JobKind) -> JobPublic:
    """Cancel the owner's unfinished job; long-polls wake, its end is reported in the background."""
    result = await ctx.db.call(_cancel, ctx, principal, job_id, kind)
    ctx.changes.notify(job_id)
    ctx.spawn(job_ended(ctx, job_id))
    return result
