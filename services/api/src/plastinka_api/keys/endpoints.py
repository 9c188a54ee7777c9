"""``/api/v1/keys``: admins create, list and revoke API keys; an analyst rotates its owner's webhook secret."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from plastinka_api.auth import Admin, Analyst
from plastinka_api.context import get_context
from plastinka_api.errors import error_responses
from plastinka_api.keys import service
from plastinka_api.pagination import Paginated100
from plastinka_schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyPublic, Page, WebhookSecretCreated

router = APIRouter(prefix="/keys", tags=["keys"], responses=error_responses(400, 401, 403, 404, 422))


@router.post("", status_code=201, response_model=ApiKeyCreated, summary="Create a key (the secret is shown once)")
async def create(body: ApiKeyCreate, request: Request, _: Admin) -> ApiKeyCreated:
    ctx = get_context(request)
    row, secret = await ctx.db.call(service.create, ctx, name=body.name, role=body.role, owner=body.owner)
    return ApiKeyCreated.model_validate({**ApiKeyPublic.model_validate(row).model_dump(), "key": secret})


@router.get("", response_model=Page[ApiKeyPublic], summary="List keys, newest first")
async def listing(request: Request, _: Admin, page: Paginated100) -> Page[ApiKeyPublic]:
    ctx = get_context(request)
    total, rows = await ctx.db.call(service.listing, ctx, page)
    return page.page(total, [ApiKeyPublic.model_validate(r) for r in rows])


@router.post(
    "/webhook-secret",
    status_code=201,
    response_model=WebhookSecretCreated,
    summary="Make a new webhook secret for the caller's owner (shown once; the old one stops at once)",
)
async def rotate_webhook_secret(request: Request, principal: Analyst) -> WebhookSecretCreated:
    ctx = get_context(request)
    row, secret = await ctx.db.call(service.rotate_webhook_secret, ctx, principal.owner)
    return WebhookSecretCreated(owner=row.owner, secret=secret, prefix=row.prefix, created_at=row.created_at)


@router.delete("/{key_id}", status_code=204, summary="Revoke a key")
async def delete(key_id: str, request: Request, principal: Admin) -> Response:
    ctx = get_context(request)
    await ctx.db.call(service.revoke, ctx, principal, key_id)
    return Response(status_code=204)
