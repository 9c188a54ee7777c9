"""Status rules: a job's status and history, long-polled until it changes or ends; both kinds listed together
newest first; an admin requeues its own owner's dead-lettered or failed job."""

from __future__ import annotations

import time

from plastinka_api.context import AppContext
from plastinka_api.errors import Conflict, NotFound
from plastinka_api.jobs.service import load_job
from plastinka_api.jobs.views import status_view
from plastinka_api.keys.service import Principal
from plastinka_api.pagination import Pagination
from plastinka_schemas import JobKind, JobStatus, JobStatusPublic, Page
from plastinka_store.tables import JobRow

#: How often a long-poll re-reads the database when no change was signalled in this process
#: (another instance may have applied it).
_REPOLL_S = 0.5


def read(ctx: AppContext, principal: Principal, job_id: str) -> JobStatusPublic:
    job, events = ctx.repo.get_with_events(job_id, owner=principal.owner)
    if job is None:
        raise NotFound("job", job_id)
    return status_view(job, events)


async def poll(ctx: AppContext, principal: Principal, job_id: str, wait: float) -> JobStatusPublic:
    """The status now, or, within ``wait`` seconds (capped by ``max_wait_s``), once it changes."""
    current = await ctx.db.call(read, ctx, principal, job_id)
    deadline = time.monotonic() + min(wait, ctx.settings.max_wait_s)
    while not current.status.is_terminal:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        await ctx.changes.wait(job_id, min(remaining, _REPOLL_S))
        latest = await ctx.db.call(read, ctx, principal, job_id)
        if (latest.status, latest.attempt, latest.progress, len(latest.events)) != (
            current.status,
            current.attempt,
            current.progress,
            len(current.events),
        ):
            return latest
        current = latest
    return current


def listing(
    ctx: AppContext, principal: Principal, statuses: list[JobStatus] | None, pagination: Pagination
) -> Page[JobStatusPublic]:
    """Both kinds merged, newest first: each kind's first ``offset + limit`` rows, then the page of those."""
    offset, limit = pagination.offset, pagination.limit
    rows: list[JobRow] = []
    total = 0
    for kind in JobKind:
        count, page = ctx.repo.list_jobs(kind, owner=principal.owner, statuses=statuses, offset=0, limit=offset + limit)
        total += count
        rows.extend(page)
    rows.sort(key=lambda r: (r.created_at, r.id), reverse=True)
    return pagination.page(total, [status_view(r, []) for r in rows[offset : offset + limit]])


async def requeue(ctx: AppContext, principal: Principal, job_id: str) -> JobStatusPublic:
    def work() -> JobStatusPublic:
        job = load_job(ctx, principal, job_id)
        if not ctx.repo.requeue(job.id):
            raise Conflict(f"job {job_id} is {job.status.value}; only dead_letter or failed jobs can be requeued")
        return read(ctx, principal, job_id)

    result = await ctx.db.call(work)
    ctx.wake_dispatcher()
    ctx.changes.notify(job_id)
    return result
