"""Models' rules: one active model per owner (activation lives here alone: the endpoint and a succeeded training
event both call :func:`activate`), a model is deleted only when no prediction job refers to it, and a
succeeded training job is recorded as a model."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import orm

from plastinka_api.errors import Conflict
from plastinka_api.jobs import repository as jobs
from plastinka_api.models import repository
from plastinka_api.pagination import Pagination
from plastinka_schemas import Artifact, ArtifactManifest, ModelPublic
from plastinka_store.ids import new_id
from plastinka_store.tables import Model, TrainingJob

if TYPE_CHECKING:
    from plastinka_api.context import AppContext


def listing(ctx: AppContext, owner: str, pagination: Pagination, active: bool | None) -> tuple[int, list[Model]]:
    with ctx.db.session() as session:
        return repository.page(session, owner, pagination, active=active)


def get(ctx: AppContext, owner: str, model_id: str) -> Model:
    with ctx.db.session() as session:
        return repository.get_or_404(session, owner, model_id)


def activate(session: orm.Session, owner: str, model_id: str) -> None:
    """Make ``model_id`` the owner's active model, in the caller's transaction."""
    repository.set_active(session, owner, model_id)


def activate_owned(ctx: AppContext, owner: str, model_id: str) -> Model:
    """The endpoint's activation: the owner's model (or 404), now active."""
    with ctx.db.write_session() as session:
        model = repository.get_or_404(session, owner, model_id)
        activate(session, owner, model.id)
        session.commit()
        session.refresh(model)
        return model


def delete(ctx: AppContext, owner: str, model_id: str) -> None:
    with ctx.db.write_session() as session:
        model = repository.get_or_404(session, owner, model_id)
        used = jobs.predictions_using(session, owner, model.id)
        if used:
            raise Conflict(f"model {model_id} is used by {used} prediction job(s); it is kept for their results")
        repository.delete(session, model)


def record_trained(
    session: orm.Session, job: TrainingJob, manifest: ArtifactManifest, metrics: dict[str, Any], summary: dict[str, Any]
) -> str:
    """The model of a succeeded training job, activated unless the job said not to; returns its id."""
    params = job.parameters
    model_ref = manifest.get(Artifact.MODEL)
    window = metrics.get("training_window") or summary.get("training_window") or {}
    model = repository.add(
        session,
        Model(
            id=new_id("mdl"),
            owner=job.owner,
            dataset_id=job.dataset_id,
            training_job_id=job.id,
            frequency=params.get("frequency", "M"),
            horizon=int(params.get("horizon", 3)),
            quantiles=list(params.get("quantiles", [])),
            train_start=_date(window.get("first_period")),
            train_end=_date(window.get("last_period")),
            artifact_key=model_ref.key,
            artifact_sha256=model_ref.sha256,
            manifest=manifest.model_dump(mode="json"),
            metrics=metrics,
            active=False,
        ),
    )
    if bool(params.get("activate", True)):
        activate(session, job.owner, model.id)
    return model.id


def _date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def model_view(row: Model) -> ModelPublic:
    return ModelPublic.model_validate(row)
