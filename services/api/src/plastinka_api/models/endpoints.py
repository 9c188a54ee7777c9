"""``/api/v1/models``: list, get, activate, delete (all owner-scoped)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from plastinka_api.auth import Analyst, Viewer
from plastinka_api.context import get_context
from plastinka_api.errors import error_responses
from plastinka_api.models import service
from plastinka_api.models.service import model_view
from plastinka_api.pagination import Paginated
from plastinka_schemas import ModelPublic, Page

router = APIRouter(prefix="/models", tags=["models"], responses=error_responses(401, 403, 404, 409, 422))


@router.get("", response_model=Page[ModelPublic], summary="List models, newest first")
async def listing(
    request: Request,
    principal: Viewer,
    page: Paginated,
    active: Annotated[bool | None, Query(description="Only the active (or inactive) models")] = None,
) -> Page[ModelPublic]:
    ctx = get_context(request)
    total, rows = await ctx.db.call(service.listing, ctx, principal.owner, page, active)
    return page.page(total, [model_view(r) for r in rows])


@router.get("/{model_id}", response_model=ModelPublic, summary="One model: metrics, window, dataset, sha256")
async def get(model_id: str, request: Request, principal: Viewer) -> ModelPublic:
    ctx = get_context(request)
    return model_view(await ctx.db.call(service.get, ctx, principal.owner, model_id))


@router.post("/{model_id}/activate", response_model=ModelPublic, summary="Make this the owner's active model")
async def activate(model_id: str, request: Request, principal: Analyst) -> ModelPublic:
    ctx = get_context(request)
    return model_view(await ctx.db.call(service.activate_owned, ctx, principal.owner, model_id))


@router.delete("/{model_id}", status_code=204, summary="Delete a model no prediction job refers to")
async def delete(model_id: str, request: Request, principal: Analyst) -> Response:
    ctx = get_context(request)
    await ctx.db.call(service.delete, ctx, principal.owner, model_id)
    return Response(status_code=204)
