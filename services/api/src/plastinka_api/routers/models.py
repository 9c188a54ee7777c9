"""``/api/v1/models``: list, get, activate, delete (all owner-scoped)."""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Query, Request, Response
from sqlmodel import col, func, select

from plastinka_api.auth import Analyst, Viewer
from plastinka_api.context import get_context
from plastinka_api.errors import Conflict, error_responses
from plastinka_api.submit import owned_model
from plastinka_api.views import model_view
from plastinka_jobs.tables import Model, PredictionJob
from plastinka_schemas import ModelPublic, Page

router = APIRouter(prefix="/models", tags=["models"], responses=error_responses(401, 403, 404, 409, 422))


@router.get("", response_model=Page[ModelPublic], summary="List models, newest first")
async def listing(
    request: Request,
    principal: Viewer,
    active: Annotated[bool | None, Query(description="Only the active (or inactive) models")] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> Page[ModelPublic]:
    ctx = get_context(request)

    def work() -> Page[ModelPublic]:
        where: list[Any] = [Model.owner == principal.owner]
        if active is not None:
            where.append(col(Model.active).is_(active))
        with ctx.db.session() as session:
            total = int(session.exec(select(func.count()).select_from(Model).where(*where)).one())
            rows = session.exec(
                select(Model)
                .where(*where)
                .order_by(col(Model.created_at).desc(), col(Model.id).desc())
                .offset(offset)
                .limit(limit)
            ).all()
        return Page[ModelPublic](total=total, offset=offset, limit=limit, items=[model_view(r) for r in rows])

    return await ctx.db.call(work)


@router.get("/{model_id}", response_model=ModelPublic, summary="One model: metrics, window, dataset, sha256")
async def get(model_id: str, request: Request, principal: Viewer) -> ModelPublic:
    ctx = get_context(request)

    def work() -> ModelPublic:
        with ctx.db.session() as session:
            return model_view(owned_model(session, principal.owner, model_id))

    return await ctx.db.call(work)


@router.post("/{model_id}/activate", response_model=ModelPublic, summary="Make this the owner's active model")
async def activate(model_id: str, request: Request, principal: Analyst) -> ModelPublic:
    ctx = get_context(request)

    def work() -> ModelPublic:
        with ctx.db.write_session() as session:
            model = owned_model(session, principal.owner, model_id)
            table = Model.__table__  # type: ignore[attr-defined]
            session.execute(
                sa.update(table).where(table.c.owner == principal.owner, table.c.id != model.id).values(active=False)
            )
            session.execute(sa.update(table).where(table.c.id == model.id).values(active=True))
            session.commit()
            session.refresh(model)
            return model_view(model)

    return await ctx.db.call(work)


@router.delete("/{model_id}", status_code=204, summary="Delete a model no prediction job refers to")
async def delete(model_id: str, request: Request, principal: Analyst) -> Response:
    ctx = get_context(request)

    def work() -> None:
        with ctx.db.write_session() as session:
            model = owned_model(session, principal.owner, model_id)
            used = int(
                session.exec(
                    select(func.count()).select_from(PredictionJob).where(PredictionJob.model_id == model.id)
                ).one()
            )
            if used:
                raise Conflict(f"model {model_id} is used by {used} prediction job(s); it is kept for their results")
            session.delete(model)
            session.commit()

    await ctx.db.call(work)
    return Response(status_code=204)
