"""What happens once a job has ended: duration/outcome metrics, and webhook delivery from the outbox.

The webhook itself is not sent here: the repository writes it to ``webhook_outbox`` in the transaction of the
terminal transition, and :func:`deliver_due_webhooks` (run by the engine) POSTs it, retrying with backoff,
so an API restart between the transition and the POST loses nothing.
"""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime, timedelta

from plastinka_api.context import AppContext
from plastinka_api.jobs.views import job_view, kind_of
from plastinka_api.keys.service import webhook_signing_key
from plastinka_store.repository import ALL_OWNERS
from plastinka_store.tables import WebhookOutbox

log = logging.getLogger(__name__)

#: How long one delivery try may hold its outbox row before another pass (or instance) may take it.
WEBHOOK_LEASE = timedelta(seconds=60)


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
    if job.callback_url:
        ctx.wake_webhooks()


async def deliver_due_webhooks(ctx: AppContext, limit: int = 20) -> int:
    """One outbox pass: deliver due webhooks; returns how many were tried."""
    rows = await ctx.db.call(ctx.repo.claim_webhooks, limit, WEBHOOK_LEASE)
    for row in rows:
        await _deliver(ctx, row)
    return len(rows)


async def _deliver(ctx: AppContext, row: WebhookOutbox) -> None:
    assert row.id is not None
    job = await ctx.db.call(ctx.repo.get, row.job_id, owner=ALL_OWNERS)
    if job is None:
        await ctx.db.call(ctx.repo.webhook_done, row.id, delivered=False, error="job no longer exists")
        return
    payload = job_view(job, []).model_dump(mode="json")
    secret = await ctx.db.call(webhook_signing_key, ctx, job.owner)  # the owner's own, when it made one
    delivered, retryable, error = await ctx.webhooks.post_once(row.url, row.event, payload, secret=secret)
    retry_at = None
    if not delivered and retryable and row.attempts < ctx.settings.webhook_attempts:
        backoff = min(ctx.settings.webhook_retry_base_s * 2 ** (row.attempts - 1), 600.0)
        retry_at = datetime.now(UTC) + timedelta(seconds=backoff * random.uniform(0.5, 1.0))  # noqa: S311
    await ctx.db.call(ctx.repo.webhook_done, row.id, delivered=delivered, error=error, retry_at=retry_at)
    if delivered:
        ctx.metrics.webhooks.labels("delivered").inc()
    elif retry_at is None:
        ctx.metrics.webhooks.labels("failed").inc()
        log.warning("webhook of %s to %s given up after %d tries: %s", row.job_id, row.url, row.attempts, error)
    else:
        log.info("webhook of %s to %s failed (%s); retrying", row.job_id, row.url, error)
