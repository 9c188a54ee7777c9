"""Submitting jobs: check what the request names belongs to the caller, write the ``queued`` row, commit.

The owner's queue quota (``max_queued_jobs_per_owner``) is checked in the same transaction as the insert, so a
burst of concurrent submissions cannot overshoot it; past it the answer is 429 with ``Retry-After``. Nothing is
invoked here: the dispatcher picks the committed row up (woken at once in this process).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import Session

from plastinka_api.context import AppContext
from plastinka_api.datasets import repository as datasets
from plastinka_api.datasets.history import check_trainable
from plastinka_api.errors import BadRequest, Conflict, CoverBeyondHorizon, QueueFull
from plastinka_api.keys.service import Principal
from plastinka_api.models import repository as models
from plastinka_schemas import JobKind, PredictionJobCreate, TrainingJobCreate
from plastinka_store.repository import IdempotencyConflict, QuotaExceeded
from plastinka_store.tables import Dataset, JobRow, Model


def training_parameters(body: TrainingJobCreate) -> dict[str, Any]:
    return {
        "frequency": body.frequency.value,
        "horizon": body.horizon,
        "quantiles": list(body.quantiles),
        "tune": body.tune,
        "time_budget_s": body.time_budget_s,
        "activate": body.activate,
    }


def queue_full(ctx: AppContext, exc: QuotaExceeded, kind: JobKind) -> QueueFull:
    """The 429 for an owner whose waiting jobs reached the quota (counted in ``/metrics``)."""
    ctx.metrics.jobs_refused.labels(kind.value, "queue_full").inc()
    return QueueFull(
        f"{exc.waiting} of your jobs are already waiting to start (the limit is {exc.limit});"
        " wait for some to start or cancel some, then submit again",
        retry_after_s=ctx.settings.queue_full_retry_after_s,
        details={"waiting": exc.waiting, "limit": exc.limit, "setting": "PLASTINKA_MAX_QUEUED_JOBS_PER_OWNER"},
    )


def submit_job(
    ctx: AppContext, principal: Principal, body: TrainingJobCreate | PredictionJobCreate, idempotency_key: str | None
) -> tuple[JobRow, bool]:
    """Check what ``body`` names and insert its ``queued`` job with the settings' attempt and queue limits;
    ``(job, created)``. A reused idempotency key with another body answers 409, a full queue 429."""
    create: Callable[..., tuple[JobRow, bool]]
    if isinstance(body, TrainingJobCreate):
        kind, create, fields = JobKind.TRAINING, ctx.repo.create_training_job, _training_fields(ctx, principal, body)
    else:
        kind, create = JobKind.PREDICTION, ctx.repo.create_prediction_job
        fields = _prediction_fields(ctx, principal, body)
    try:
        return create(
            **fields,
            owner=principal.owner,
            idempotency_key=idempotency_key,
            callback_url=str(body.callback_url) if body.callback_url else None,
            max_attempts=ctx.settings.max_attempts,
            max_waiting=ctx.settings.max_queued_jobs_per_owner,
        )
    except IdempotencyConflict as exc:
        raise Conflict(str(exc), details={"job_id": exc.job_id}) from None
    except QuotaExceeded as exc:
        raise queue_full(ctx, exc, kind) from None


def _training_fields(ctx: AppContext, principal: Principal, body: TrainingJobCreate) -> dict[str, Any]:
    with ctx.db.session() as session:
        dataset = datasets.get_or_404(session, principal.owner, body.dataset_id)
    check_trainable(dataset, body.frequency)
    return {"dataset_id": body.dataset_id, "parameters": training_parameters(body)}


def _prediction_model(session: Session, owner: str, body: PredictionJobCreate) -> Model:
    if body.model_id is not None:
        return models.get_or_404(session, owner, body.model_id)
    found = models.active(session, owner)
    if found is None:
        raise Conflict("no active model: train one first or name a model_id")
    return found


def prediction_dataset(ctx: AppContext, principal: Principal, body: PredictionJobCreate) -> Dataset:
    """The dataset a prediction would forecast from: the named one, else the model's training data."""
    with ctx.db.session() as session:
        model = _prediction_model(session, principal.owner, body)
        return datasets.get_or_404(session, principal.owner, body.dataset_id or model.dataset_id)


def _prediction_fields(ctx: AppContext, principal: Principal, body: PredictionJobCreate) -> dict[str, Any]:
    with ctx.db.session() as session:
        model = _prediction_model(session, principal.owner, body)
        if body.dataset_id is not None:
            datasets.get_or_404(session, principal.owner, body.dataset_id)
    horizon = body.horizon if body.horizon is not None else model.horizon
    if horizon > model.horizon:
        raise BadRequest(
            f"horizon {horizon} exceeds the model's horizon {model.horizon}; train a model with a longer horizon",
            details=[{"where": "body.horizon", "message": f"at most {model.horizon} for model {model.id}"}],
        )
    cover = body.cover_months if body.cover_months is not None else horizon
    if cover > horizon:
        raise CoverBeyondHorizon(
            f"cover_months {cover} exceeds the forecast's horizon {horizon}: the order list covers forecast months",
            details=[{"where": "body.cover_months", "message": f"at most {horizon}"}],
        )
    return {
        "model_id": model.id,
        "horizon": horizon,
        "dataset_id": body.dataset_id,
        "parameters": {
            "items": list(body.items) if body.items is not None else None,
            "service_level": body.service_level,
            "cover_months": cover,
        },
    }
