"""Job rows -> public API bodies (the job of a listing, a detail, a status and a webhook)."""

from __future__ import annotations

from typing import Any

from plastinka_schemas import (
    JobEventPublic,
    JobKind,
    JobStatusPublic,
    PredictionJobPublic,
    TrainingJobPublic,
)
from plastinka_store.tables import JobEventRow, JobRow, TrainingJob

JobPublic = TrainingJobPublic | PredictionJobPublic


def kind_of(job: JobRow) -> JobKind:
    return JobKind.TRAINING if isinstance(job, TrainingJob) else JobKind.PREDICTION


def event_view(row: JobEventRow) -> JobEventPublic:
    return JobEventPublic(at=row.at, status=row.status, kind=row.type, message=row.message, progress=row.progress)


def _common(job: JobRow, events: list[JobEventRow]) -> dict[str, Any]:
    return {
        "job_id": job.id,
        "kind": kind_of(job),
        "owner": job.owner,
        "status": job.status,
        "progress": job.progress,
        "attempt": job.attempt,
        "max_attempts": job.max_attempts,
        "error_type": job.error_type,
        "error": job.error_message,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "next_attempt_at": job.next_attempt_at if job.status.value in ("queued", "retry_wait") else None,
        "events": [event_view(e) for e in events],
    }


def status_view(job: JobRow, events: list[JobEventRow]) -> JobStatusPublic:
    return JobStatusPublic(**_common(job, events))


def job_view(job: JobRow, events: list[JobEventRow]) -> JobPublic:
    if isinstance(job, TrainingJob):
        return TrainingJobPublic(
            **_common(job, events), dataset_id=job.dataset_id, parameters=job.parameters, model_id=job.model_id
        )
    return PredictionJobPublic(
        **_common(job, events), model_id=job.model_id, dataset_id=job.dataset_id, horizon=job.horizon
    )
