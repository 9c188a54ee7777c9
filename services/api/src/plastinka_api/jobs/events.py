"""Applying a function's status events (from the callback endpoint or the storage status object).

At-least-once delivery is normal: each event maps onto one conditional transition of the jobs repository;
a duplicate, stale (older attempt) or late (job already ended) event changes nothing and is answered as
accepted-but-ignored. A ``succeeded`` event is believed only after every artifact of its manifest was read
back from storage with the stated sha256, and only keys under the attempt's own prefix are accepted.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from plastinka_api.context import AppContext
from plastinka_api.jobs import repository as jobs
from plastinka_api.jobs.notify import job_ended
from plastinka_api.models import service as models
from plastinka_schemas import (
    AnyJobEvent,
    Artifact,
    ArtifactManifest,
    FailedEvent,
    JobKind,
    JobStatus,
    ProgressEvent,
    RunningEvent,
    RunSummary,
    SucceededEvent,
    TrainingReport,
)
from plastinka_storage.errors import ChecksumMismatch, ObjectNotFound, StorageError
from plastinka_storage.keys import job_attempt_prefix
from plastinka_store.ids import job_kind_of
from plastinka_store.repository import ALL_OWNERS
from plastinka_store.tables import PredictionJob, TrainingJob

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What an event did: ``applied`` False means duplicate/stale (nothing changed)."""

    applied: bool
    status: JobStatus | None = None
    reason: str | None = None


class ManifestInvalid(Exception):
    """The manifest names objects that are missing, corrupt or outside the attempt's prefix."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


async def verify_manifest(
    ctx: AppContext, job_id: str, attempt: int, manifest: ArtifactManifest, kind: JobKind
) -> dict[Artifact, bytes]:
    """Read every artifact back and check its sha256 and size; returns the small JSON ones' bytes."""
    prefix = job_attempt_prefix(job_id, attempt)
    missing = [name.value for name in manifest.missing(kind)]
    if missing:
        raise ManifestInvalid(f"manifest lacks required artifacts {missing}", retryable=False)
    contents: dict[Artifact, bytes] = {}
    for name, ref in manifest.artifacts.items():
        if not ref.key.startswith(prefix):
            raise ManifestInvalid(f"artifact {name!r} key {ref.key!r} is outside {prefix!r}", retryable=False)
        try:
            data = await ctx.store.get_bytes(ref.key, expected_sha256=ref.sha256)
        except ObjectNotFound:
            raise ManifestInvalid(f"artifact {name!r} is missing at {ref.key!r}", retryable=True) from None
        except ChecksumMismatch as exc:
            raise ManifestInvalid(f"artifact {name!r} is corrupt: {exc}", retryable=True) from None
        if len(data) != ref.size:
            raise ManifestInvalid(f"artifact {name!r} has {len(data)} bytes, manifest says {ref.size}", retryable=True)
        if name.is_json:
            contents[name] = data
    return contents


def training_report(summary: RunSummary, contents: dict[Artifact, bytes]) -> TrainingReport:
    """The job's result from its verified ``metrics`` and ``backtest`` artifacts, read as :class:`TrainingReport`
    reads every stored result (a metrics artifact in the older layout keeps working)."""
    parts: dict[str, Any] = {}
    for name in (Artifact.METRICS, Artifact.BACKTEST):
        raw = contents.get(name)
        if raw is None:
            continue
        try:
            parts[name.value] = json.loads(raw)
        except ValueError:
            raise ManifestInvalid(f"artifact {name.value!r} is not JSON", retryable=False) from None
    try:
        return TrainingReport.model_validate({**summary.model_dump(exclude_unset=True), **parts})
    except ValidationError as exc:
        raise ManifestInvalid(f"the training report breaks its contract: {exc}", retryable=False) from None


async def apply_event(ctx: AppContext, event: AnyJobEvent) -> Outcome:
    """Apply one event to its job; the caller has already authenticated it."""
    repo = ctx.repo
    job_id, attempt = event.job_id, event.attempt
    kind = job_kind_of(job_id)
    m = ctx.metrics
    if isinstance(event, RunningEvent):
        ok = await ctx.db.call(repo.mark_running, job_id, attempt, invocation_id=event.invocation_id)
        if not ok:  # running may follow progress out of order: still a heartbeat
            ok = await ctx.db.call(repo.heartbeat, job_id, attempt)
        if event.cold_start and ok:
            m.cold_starts.labels(kind.value).inc()
        reason = None if ok else "superseded"
        return _done(ctx, event, Outcome(ok, JobStatus.RUNNING if ok else None, reason=reason))
    if isinstance(event, ProgressEvent):
        ok = await ctx.db.call(repo.progress, job_id, attempt, event.progress, event.message)
        return _done(ctx, event, Outcome(ok, JobStatus.RUNNING if ok else None))
    if isinstance(event, FailedEvent):
        return _done(ctx, event, await _failed(ctx, event, kind))
    return _done(ctx, event, await _succeeded(ctx, event, kind))


async def _failed(ctx: AppContext, event: FailedEvent, kind: JobKind) -> Outcome:
    repo = ctx.repo
    _stats(ctx, kind, event.stats)
    # A retryable failure answers the job's next status (None: not applied); a final one whether it applied.
    recorded = await ctx.db.call(
        repo.retry if event.retryable else repo.fail,
        event.job_id,
        event.attempt,
        error_type=event.error_type,
        message=event.message,
        traceback=event.traceback,
    )
    if isinstance(recorded, JobStatus) or recorded is None:
        return Outcome(recorded is not None, recorded)
    return Outcome(recorded, JobStatus.FAILED if recorded else None)


async def _succeeded(ctx: AppContext, event: SucceededEvent, kind: JobKind) -> Outcome:
    repo = ctx.repo
    job = await ctx.db.call(repo.get, event.job_id, owner=ALL_OWNERS)
    if job is None or job.attempt != event.attempt or job.status not in (JobStatus.DISPATCHED, JobStatus.RUNNING):
        return Outcome(False, reason="duplicate or stale")
    try:
        contents = await verify_manifest(ctx, event.job_id, event.attempt, event.manifest, kind)
        report = training_report(event.summary, contents) if kind is JobKind.TRAINING else None
    except ManifestInvalid as exc:
        log.warning("job %s attempt %s: refusing succeeded event: %s", event.job_id, event.attempt, exc)
        error_type = "ChecksumMismatch" if exc.retryable else "InvalidManifest"
        if exc.retryable:
            status = await ctx.db.call(repo.retry, event.job_id, event.attempt, error_type=error_type, message=str(exc))
        else:
            ok = await ctx.db.call(repo.fail, event.job_id, event.attempt, error_type=error_type, message=str(exc))
            status = JobStatus.FAILED if ok else None
        return Outcome(status is not None, status, reason=str(exc))
    except StorageError as exc:
        # Storage is unwell right now: change nothing; the function's retry (or the sweeper) comes back.
        raise StorageUnavailable(str(exc)) from exc
    _stats(ctx, kind, event.stats)
    manifest_json = event.manifest.model_dump(mode="json")
    summary = event.summary.model_dump(mode="json", exclude_none=True)
    if report is not None:
        assert isinstance(job, TrainingJob)
        metrics = report.metrics.public()
        holder: dict[str, str] = {}

        def also(session: Session) -> None:
            holder["model_id"] = models.record_trained(session, job, event.manifest, metrics, summary)
            jobs.set_model(session, job.owner, job.id, holder["model_id"])

        ok = await ctx.db.call(
            repo.succeed,
            event.job_id,
            event.attempt,
            manifest=manifest_json,
            result=report.stored(),
            also=also,
        )
        if ok:
            for name, value in numeric_leaves(metrics):
                ctx.metrics.model_quality.labels(name, "training").set(value)
    else:
        assert isinstance(job, PredictionJob)
        ok = await ctx.db.call(repo.succeed, event.job_id, event.attempt, manifest=manifest_json, result=summary)
        if ok and event.summary.rows is not None:
            ctx.metrics.rows.labels("forecast").inc(event.summary.rows)
    return Outcome(ok, JobStatus.SUCCEEDED if ok else None)


def numeric_leaves(tree: dict[str, Any], prefix: str = "", depth: int = 3) -> list[tuple[str, float]]:
    """``{"holdout": {"rows": 5}}`` -> ``[("holdout.rows", 5.0)]``: numbers of a nested report, for gauges."""
    found: list[tuple[str, float]] = []
    for name, value in tree.items():
        if isinstance(value, bool):
            continue
        if isinstance(value, int | float):
            found.append((prefix + str(name), float(value)))
        elif isinstance(value, dict) and depth > 1:
            found.extend(numeric_leaves(value, f"{prefix}{name}.", depth - 1))
    return found


class StorageUnavailable(Exception):
    """Storage could not be read to verify a manifest: answer 503 so the sender retries."""


def _stats(ctx: AppContext, kind: JobKind, stats: Any) -> None:
    if stats is None:
        return
    ctx.metrics.function_seconds.labels(kind.value).observe(stats.duration_s)
    if stats.peak_memory_mb is not None:
        ctx.metrics.function_memory.labels(kind.value).set(stats.peak_memory_mb)


def _done(ctx: AppContext, event: AnyJobEvent, outcome: Outcome) -> Outcome:
    ctx.metrics.events.labels(event.type, "applied" if outcome.applied else "ignored").inc()
    if outcome.applied:
        ctx.changes.notify(event.job_id)
        if outcome.status is not None and outcome.status.is_terminal:
            # Metrics and the webhook, best effort: the job itself is already recorded.
            ctx.spawn(job_ended(ctx, event.job_id))
        elif outcome.status is JobStatus.RETRY_WAIT:
            ctx.wake_dispatcher()
    return outcome
