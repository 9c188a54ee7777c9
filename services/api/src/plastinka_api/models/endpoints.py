"""``/api/v1/models``: list, get, activate, delete (all owner-scoped)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from plastinka_api.auth import AnalystScope, ViewerScope
from plastinka_api.errors import error_responses
from plastinka_api.models import service
from plastinka_api.models.service import model_view
from plastinka_api.pagination import Paginated
from plastinka_schemas import ModelPublic, Page

router = APIRouter(prefix="/models", tags=["models"], responses=error_responses(401, 403, 404, 409, 422))


@router.get(
    "",
    summary="List models, newest first",
    description=(
        "A page of the owner's trained models, newest first, each with its frequency, horizon, "
        "training window, metrics and whether it is the active one. Any role may call it."
    ),
)
async def listing(
    scope: ViewerScope,
    page: Paginated,
    active: Annotated[bool | None, Query(description="Only the active (or inactive) models")] = None,
) -> Page[ModelPublic]:
    total, rows = await scope.call(service.listing, page, active)
    return page.page(total, [model_view(r) for r in rows])


@router.get(
    "/{model_id}",
    summary="One model: metrics, window, dataset, sha256",
    description=(
        "The owner's model with this id: the dataset and job it was trained by, its training window, "
        "metrics and the sha256 of its stored artifact. Any role may call it."
    ),
)
async def get(model_id: str, scope: ViewerScope) -> ModelPublic:
    return model_view(await scope.call(service.get, model_id))


@router.post(
    "/{model_id}/activate",
    summary="Make this the owner's active model",
    description=(
        "Makes this model the one predictions use when they name none; the previously active model "
        "stays stored. Answers the model. Needs an analyst or admin key."
    ),
)
async def activate(model_id: str, scope: AnalystScope) -> ModelPublic:
    return model_view(await scope.call(service.activate_owned, model_id))


@router.delete(
    "/{model_id}",
    status_code=204,
    summary="Delete a model no prediction job refers to",
    description=(
        "Deletes the model's record and its stored artifact. A model a prediction job refers to "
        "answers 409, so no forecast loses its model. Answers 204 with no body. Needs an analyst or "
        "admin key."
    ),
)
async def delete(model_id: str, scope: AnalystScope) -> Response:
    await scope.call(service.delete, model_id)
    return Response(status_code=204)
