"""What happens once a job has ended: duration/outcome metrics and the signed webhook."""

from __future__ import annotations

import logging

from plastinka_api.context import AppContext
from plastinka_api.views import job_view, kind_of
from plastinka_jobs.repository import ALL_OWNERS

log = logging.getLogger(__name__)


async def job_ended(ctx: AppContext, job_id: str) -> None:
    job = await ctx.db.call(ctx.repo.get, job_id, owner=ALL_OWNERS)
    if job is None or not job.status.is_terminal:
        return
    kind = kind_of(job)
    ctx.metrics.jobs_finished.labels(kind.value, job.status.value).inc()
    if job.finished_at is not None:
        ctx.metrics.job_duration.labels(kind.value, job.status.value).observe(
            (job.finished_at - job.created_at).total_seconds()
        )
    if not job.callback_url:
        return
    payload = job_view(job, []).model_dump(mode="json")
    delivered = await ctx.webhooks.deliver(job.callback_url, f"job.{job.status.value}", payload)
    ctx.metrics.webhooks.labels("delivered" if delivered else "failed").inc()
