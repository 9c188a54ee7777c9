"""Jobs' rules for both kinds: submission (the checks are in :mod:`plastinka_api.jobs.submit`), reads of the
caller's owner's jobs of the kind asked (another kind's id is a 404), and cancelling a job that has not ended.
"""

from __future__ import annotations

from plastinka_api.context import AppContext
from plastinka_api.datasets.items import prediction_items
from plastinka_api.errors import Conflict, NotFound
from plastinka_api.jobs.notify import job_ended
from plastinka_api.jobs.submit import prediction_dataset, submit_job
from plastinka_api.jobs.views import JobPublic, job_view, kind_of
from plastinka_api.keys.service import Principal
from plastinka_api.pagination import Pagination
from plastinka_api.webhooks import check_callback_url
from plastinka_schemas import JobKind, JobStatus, PredictionJobCreate, TrainingJobCreate
from plastinka_store.tables import JobRow


async def submit(
    ctx: AppContext, principal: Principal, body: TrainingJobCreate | PredictionJobCreate, idempotency_key: str | None
) -> tuple[JobRow, bool]:
    """Queue a job of the body's kind and wake the dispatcher; ``(job, created)``."""
    if body.callback_url is not None:
        await check_callback_url(ctx.webhooks, str(body.callback_url))
    if isinstance(body, PredictionJobCreate) and body.items is not None:
        dataset = await ctx.db.call(prediction_dataset, ctx, principal, body)
        body = await prediction_items(ctx, dataset, body)
    job, created = await ctx.db.call(submit_job, ctx, principal, body, idempotency_key)
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
    """Cancel the owner's unfinished job; long-polls wake, its end is reported in the background.

    The engine then stops its run: a job not yet started never is, a local process is killed and its slot
    reused at once (a cloud function, which cannot be stopped, is told to stop at its next callback).
    """
    result = await ctx.db.call(_cancel, ctx, principal, job_id, kind)
    if ctx.stop_job is not None:
        await ctx.stop_job(job_id)
    ctx.changes.notify(job_id)
    ctx.spawn(job_ended(ctx, job_id))
    return result
