"""The job engine of one API instance: a dispatcher and a sweeper, as background tasks of the app.

* Dispatcher: claims due jobs (``queued``/``retry_wait`` -> ``dispatched``, one conditional UPDATE each, so
  several instances on one database never claim a job twice), builds the function request with a signed
  callback token, and hands it to the invoker. Invocation faults retry the job (transient) or fail it.
  Fair work: owners are taken in turn (the least-loaded owner first, at most ``max_running_jobs_per_owner``
  each), and with the local runtime no more jobs are claimed than it has free slots, so a burst waits in the
  database, where the next claim can still pick another owner, not in this process's queue.
* Cancel: a job cancelled before its claim is never claimed; one cancelled between claim and start is not
  started; a local run of a cancelled job is killed (here at once, and by the dispatcher of the instance
  running it otherwise), which frees its slot.
* Sweeper: for attempts that went silent, first reconciles from the status object the function writes to
  storage (a lost callback), then retries attempts whose lease expired (backoff with jitter) or moves them to
  ``dead_letter`` after the last attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from plastinka_api.context import AppContext
from plastinka_api.invokers.base import InvocationError
from plastinka_api.invokers.local import LocalFunctionInvoker
from plastinka_api.invokers.recording import AttemptRecord
from plastinka_api.jobs.events import apply_event
from plastinka_api.jobs.notify import deliver_due_webhooks, job_ended
from plastinka_api.jobs.requests import InvalidJob, build_request, function_for
from plastinka_api.jobs.views import kind_of
from plastinka_schemas import JobKind, JobStatus, parse_job_event
from plastinka_storage.errors import StorageError
from plastinka_storage.keys import job_status_key
from plastinka_store.repository import ALL_OWNERS
from plastinka_store.tables import JobRow

log = logging.getLogger(__name__)


class JobEngine:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self._tasks: list[asyncio.Task[None]] = []
        self._inflight: set[asyncio.Task[Any]] = set()
        # Jobs between their claim and their invocation here, and those of them cancelled meanwhile.
        self._starting: set[str] = set()
        self._stopped: set[str] = set()
        ctx.stop_job = self.stop_job

    def start(self) -> None:
        self.ctx.wake = asyncio.Event()
        self.ctx.webhook_wake = asyncio.Event()
        settings = self.ctx.settings
        self._tasks = [
            asyncio.create_task(self._loop(self.webhooks_once, settings.webhook_interval_s), name="webhooks"),
            asyncio.create_task(self._loop(self.dispatch_once, settings.dispatch_interval_s), name="dispatcher"),
            asyncio.create_task(self._loop(self.sweep_once, settings.sweep_interval_s), name="sweeper"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._inflight:
            await asyncio.gather(*self._inflight, return_exceptions=True)

    async def _loop(self, step: Any, interval: float) -> None:
        while True:
            try:
                busy = await step()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s pass failed; retrying in %.1fs", step.__name__, interval)
                busy = False
            if busy:
                continue
            wake = {self.dispatch_once: self.ctx.wake, self.webhooks_once: self.ctx.webhook_wake}.get(step)
            if wake is not None:
                # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a cancel that lands as the event is
                # set (a submit just before shutdown), and stop() then awaited this loop forever.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(interval):
                        await wake.wait()
                wake.clear()
            else:
                await asyncio.sleep(interval)

    async def webhooks_once(self) -> bool:
        """Deliver due webhooks from the outbox; True when a full batch was taken (more may be due)."""
        return await deliver_due_webhooks(self.ctx) >= 20

    # --- dispatcher -----------------------------------------------------------------------------------

    async def dispatch_once(self) -> bool:
        """Claim one batch, owners in turn, and start it; True when the batch was full (more may be due)."""
        ctx = self.ctx
        if ctx.invoker is None:
            return False
        batch = ctx.settings.dispatch_batch
        if isinstance(ctx.invoker, LocalFunctionInvoker):
            await self._stop_cancelled_runs(ctx.invoker)
            batch = min(batch, ctx.invoker.free_slots)
            if batch == 0:
                return False  # a run's end wakes the dispatcher
        jobs = await ctx.db.call(ctx.repo.claim_due, batch, per_owner=ctx.settings.max_running_jobs_per_owner)
        if jobs:
            await asyncio.gather(*(self._dispatch(job) for job in jobs))
        return len(jobs) >= batch

    async def stop_job(self, job_id: str) -> None:
        """A job was cancelled: never start it here, kill its local run if it has one, and reuse the slot."""
        if job_id in self._starting:
            self._stopped.add(job_id)
        if isinstance(self.ctx.invoker, LocalFunctionInvoker) and await self.ctx.invoker.stop(job_id):
            log.info("stopped the local run of cancelled job %s", job_id)
        self.ctx.wake_dispatcher()

    async def _stop_cancelled_runs(self, invoker: LocalFunctionInvoker) -> None:
        """Kill local runs of jobs cancelled through another instance (this one's cancels stop them at once)."""
        unfinished = invoker.unfinished_jobs() - self._starting
        if unfinished:
            for job_id in await self.ctx.db.call(self.ctx.repo.cancelled_among, unfinished):
                await self.stop_job(job_id)

    async def _dispatch(self, job: JobRow) -> None:
        self._starting.add(job.id)
        try:
            await self._start(job)
        finally:
            self._starting.discard(job.id)
            self._stopped.discard(job.id)

    async def _start(self, job: JobRow) -> None:
        ctx = self.ctx
        kind = kind_of(job)
        ctx.changes.notify(job.id)
        try:
            payload = await ctx.db.call(build_request, ctx, job)
        except InvalidJob as exc:
            await ctx.db.call(ctx.repo.fail, job.id, job.attempt, error_type="InvalidJob", message=str(exc))
            await self._ended(job.id)
            return
        assert ctx.invoker is not None
        if job.id in self._stopped:
            # Cancelled (here) since its claim. No await between this check and the invoker registering the
            # run, so a cancel either lands before it or finds the run to stop.
            log.info("not starting %s: cancelled after its claim", job.id)
            return
        try:
            result = await ctx.invoker.invoke(function_for(kind), payload.model_dump(mode="json"), job_id=job.id)
        except InvocationError as exc:
            await self._invocation_failed(job, kind, exc, retryable=exc.retryable)
            return
        except Exception as exc:
            log.exception("invoker failed for %s", job.id)
            await self._invocation_failed(job, kind, exc, retryable=True)
            return
        ctx.metrics.jobs_dispatched.labels(kind.value).inc()
        log.info("dispatched %s attempt %d as %s", job.id, job.attempt, result.invocation_id)

    async def _invocation_failed(self, job: JobRow, kind: JobKind, exc: Exception, *, retryable: bool) -> None:
        ctx = self.ctx
        status = getattr(exc, "status", None)
        ctx.metrics.dispatch_errors.labels(kind.value, type(exc).__name__).inc()
        if status == 429:
            ctx.metrics.throttles.labels(kind.value).inc()
        message = f"could not start the function: {exc}"
        if retryable:
            await ctx.db.call(ctx.repo.retry, job.id, job.attempt, error_type=type(exc).__name__, message=message)
        else:
            await ctx.db.call(ctx.repo.fail, job.id, job.attempt, error_type=type(exc).__name__, message=message)
        await self._ended(job.id)

    async def _ended(self, job_id: str) -> None:
        """A transition by the engine: wake long-polls; metrics and webhook in the background."""
        self.ctx.changes.notify(job_id)
        self.ctx.spawn(job_ended(self.ctx, job_id))

    # --- attempts that ended without a word ------------------------------------------------------------

    async def attempt_finished(self, record: AttemptRecord) -> None:
        """The invoker saw a run end (local runtime): a crash or timeout is settled now, not at lease expiry."""
        self.ctx.wake_dispatcher()  # its slot is free
        if record.job_id is None or record.status in (200, 202):
            return
        if record.status is not None and record.status < 500:
            return
        await asyncio.sleep(0.2)  # a final callback posted just before exit lands first
        job = await self.ctx.db.call(self.ctx.repo.get, record.job_id, owner=ALL_OWNERS)
        if job is None or job.status not in (JobStatus.DISPATCHED, JobStatus.RUNNING):
            return
        if await self.reconcile(job):
            return
        reason = "timed out" if record.status == 504 else "crashed"
        message = f"function {record.function} {reason} (status {record.status}): {(record.error or '')[:2000]}"
        moved = await self.ctx.db.call(
            self.ctx.repo.retry,
            job.id,
            job.attempt,
            error_type=f"Function{reason.title().replace(' ', '')}",
            message=message,
        )
        if moved is not None:
            self.ctx.metrics.sweeps.labels(f"run_{moved.value}").inc()
            await self._ended(job.id)
            self.ctx.wake_dispatcher()

    # --- sweeper --------------------------------------------------------------------------------------

    async def reconcile(self, job: JobRow) -> bool:
        """Apply the attempt's final status object when the function wrote one; True if it settled the job."""
        ctx = self.ctx
        key = job_status_key(job.id, job.attempt)
        try:
            if not await ctx.store.exists(key):
                return False
            raw = await ctx.store.get_bytes(key)
            event = parse_job_event(raw)
        except (StorageError, ValidationError, ValueError) as exc:
            log.warning("status object of %s attempt %d unusable: %s", job.id, job.attempt, exc)
            return False
        if event.job_id != job.id or event.attempt != job.attempt or event.type not in ("succeeded", "failed"):
            return False
        outcome = await apply_event(ctx, event)
        if outcome.applied:
            ctx.metrics.sweeps.labels("reconciled").inc()
            log.info("reconciled %s attempt %d from storage: %s", job.id, job.attempt, event.type)
        return outcome.applied

    async def sweep_once(self) -> bool:
        ctx = self.ctx
        now = datetime.now(UTC)
        quiet = now - timedelta(seconds=ctx.settings.reconcile_after_s)
        for kind in JobKind:
            _, active = await ctx.db.call(
                ctx.repo.list_jobs,
                kind,
                owner=ALL_OWNERS,
                statuses=[JobStatus.DISPATCHED, JobStatus.RUNNING],
                limit=200,
            )
            for job in active:
                last = job.heartbeat_at or job.dispatched_at or job.updated_at
                if last < quiet:
                    await self.reconcile(job)
        leases = await ctx.db.call(ctx.repo.expired_leases, 100)
        for lease in leases:
            expired = await ctx.db.call(ctx.repo.get, lease.job_id, owner=ALL_OWNERS)
            if expired is None or expired.attempt != lease.attempt:
                continue
            if await self.reconcile(expired):
                continue
            moved = await ctx.db.call(
                ctx.repo.retry,
                lease.job_id,
                lease.attempt,
                error_type="LeaseExpired",
                message=f"no word from attempt {lease.attempt} before its lease expired",
                only_if_lease_expired=True,
            )
            if moved is not None:
                ctx.metrics.sweeps.labels(moved.value).inc()
                await self._ended(lease.job_id)
        if leases:
            ctx.wake_dispatcher()
        return False
