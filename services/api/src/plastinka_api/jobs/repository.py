"""SQL on the job tables that the API writes itself; everything else about jobs (create, claim, transitions,
reads, listings, events, leases, outbox) is ``plastinka_store.repository.JobRepository`` (``ctx.repo``), which
takes the owner on every read. Every query here names the owner too."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import orm
from sqlmodel import Session, func, select

from plastinka_store.tables import PredictionJob, TrainingJob

_training = TrainingJob.__table__  # type: ignore[attr-defined]


def set_model(session: orm.Session, owner: str, job_id: str, model_id: str) -> None:
    """Record the model a training job produced (in the caller's transaction)."""
    session.execute(
        sa.update(_training).where(_training.c.owner == owner, _training.c.id == job_id).values(model_id=model_id)
    )


def predictions_using(session: Session, owner: str, model_id: str) -> int:
    """How many of the owner's prediction jobs name this model."""
    query = select(func.count()).select_from(PredictionJob)
    return int(session.exec(query.where(PredictionJob.owner == owner, PredictionJob.model_id == model_id)).one())
