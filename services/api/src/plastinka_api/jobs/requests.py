"""The function request of one attempt: object references, parameters, and a callback token for it alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from plastinka_api.context import AppContext
from plastinka_api.datasets import repository as datasets
from plastinka_api.models import repository as models
from plastinka_schemas import Artifact, ArtifactManifest, ArtifactRef, JobKind, PredictRequest, TrainRequest
from plastinka_storage.keys import job_attempt_prefix
from plastinka_store.tables import Dataset, PredictionJob, TrainingJob
from plastinka_store.tokens import sign_job_token

FUNCTIONS = {JobKind.TRAINING: "train", JobKind.PREDICTION: "predict"}


class InvalidJob(Exception):
    """The job names something that no longer exists or cannot be used: fail it, do not retry."""


def function_for(kind: JobKind) -> str:
    return FUNCTIONS[kind]


def callback_url(ctx: AppContext, job_id: str) -> str:
    return f"{ctx.settings.resolved_public_url}/api/v1/internal/jobs/{job_id}/events"


def _refs(dataset: Dataset) -> tuple[ArtifactRef, ArtifactRef | None]:
    main = ArtifactRef(key=dataset.object_key, sha256=dataset.sha256, size=dataset.size_bytes)
    stock = None
    if dataset.stock_key and dataset.stock_sha256 and dataset.stock_size_bytes is not None:
        stock = ArtifactRef(key=dataset.stock_key, sha256=dataset.stock_sha256, size=dataset.stock_size_bytes)
    return main, stock


def build_request(ctx: AppContext, job: TrainingJob | PredictionJob) -> TrainRequest | PredictRequest:
    """Runs in a worker thread (reads the database)."""
    now = datetime.now(UTC)
    timeout = timedelta(seconds=ctx.settings.function_timeout_s)
    # Valid for the attempt's whole life plus its lease, so a slow but alive attempt can still report.
    expires = now + timeout + timedelta(seconds=ctx.settings.lease_s) + timedelta(hours=1)
    common = {
        "job_id": job.id,
        "attempt": job.attempt,
        "callback_url": callback_url(ctx, job.id),
        "callback_token": sign_job_token(ctx.keys.callback_tokens, job.id, job.attempt, expires),
        "deadline": now + timeout,
        "output_prefix": job_attempt_prefix(job.id, job.attempt),
    }
    with ctx.db.session() as session:
        if isinstance(job, TrainingJob):
            return _train(session, job, common)
        return _predict(session, job, common)


def _train(session: Session, job: TrainingJob, common: dict[str, object]) -> TrainRequest:
    dataset = datasets.get(session, job.owner, job.dataset_id)
    if dataset is None:
        raise InvalidJob(f"dataset {job.dataset_id} no longer exists")
    main, stock = _refs(dataset)
    p = job.parameters
    return TrainRequest.model_validate(
        {
            **common,
            "dataset": main,
            "stock": stock,
            "frequency": p.get("frequency", "M"),
            "horizon": p.get("horizon", 3),
            "quantiles": tuple(p["quantiles"]),
            "tune": p.get("tune", False),
            "time_budget_s": p.get("time_budget_s", 300),
        }
    )


def _predict(session: Session, job: PredictionJob, common: dict[str, object]) -> PredictRequest:
    model = models.get(session, job.owner, job.model_id)
    if model is None:
        raise InvalidJob(f"model {job.model_id} no longer exists")
    manifest = ArtifactManifest.model_validate(model.manifest)
    dataset = datasets.get(session, job.owner, job.dataset_id or model.dataset_id)
    if dataset is None:
        raise InvalidJob(f"dataset {job.dataset_id or model.dataset_id} no longer exists")
    main, stock = _refs(dataset)
    try:
        model_ref = manifest.get(Artifact.MODEL)
        meta_ref = manifest.get(Artifact.MODEL_META)
    except KeyError as exc:
        raise InvalidJob(f"model {model.id}: {exc}") from None
    return PredictRequest.model_validate(
        {
            **common,
            "model": model_ref,
            "model_meta": meta_ref,
            "dataset": main,
            "stock": stock,
            "horizon": job.horizon,
            "items": job.parameters.get("items"),
            # Jobs submitted before the order list existed get its defaults.
            "service_level": job.parameters.get("service_level", 0.8),
            "cover_months": job.parameters.get("cover_months"),
        }
    )
