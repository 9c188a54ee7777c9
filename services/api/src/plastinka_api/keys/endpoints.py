"""``/api/v1/keys``: admins create, list and revoke API keys; an analyst rotates its owner's webhook secret."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from plastinka_api.auth import Admin, AnalystScope
from plastinka_api.context import get_context
from plastinka_api.errors import error_responses
from plastinka_api.keys import service
from plastinka_api.pagination import Paginated100
from plastinka_schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyPublic, Page, WebhookSecretCreated

router = APIRouter(prefix="/keys", tags=["keys"], responses=error_responses(400, 401, 403, 404, 422))


@router.post(
    "",
    status_code=201,
    summary="Create a key (the secret is shown once)",
    description=(
        "Creates an API key with a role (admin, analyst or viewer) for an owner: keys of one owner "
        "see the same datasets, jobs and models. Answers the key's record with the secret in `key`, "
        "shown this once and never again. Needs an admin key."
    ),
)
async def create(body: ApiKeyCreate, request: Request, _: Admin) -> ApiKeyCreated:
    ctx = get_context(request)
    row, secret = await ctx.db.call(service.create, ctx, name=body.name, role=body.role, owner=body.owner)
    return ApiKeyCreated.model_validate({**ApiKeyPublic.model_validate(row).model_dump(), "key": secret})


@router.get(
    "",
    summary="List keys, newest first",
    description=(
        "A page of every key's record (never the secrets), newest first, revoked keys included with "
        "`revoked_at`. Needs an admin key."
    ),
)
async def listing(request: Request, _: Admin, page: Paginated100) -> Page[ApiKeyPublic]:
    ctx = get_context(request)
    total, rows = await ctx.db.call(service.listing, ctx, page)
    return page.page(total, [ApiKeyPublic.model_validate(r) for r in rows])


@router.post(
    "/webhook-secret",
    status_code=201,
    summary="Make a new webhook secret for the caller's owner (shown once; the old one stops at once)",
    description=(
        "Makes a new secret for verifying the webhooks of the caller's owner and answers it once (`whsec_...`); "
        "from then on every webhook is signed with it and the previous secret stops at once. The secret verifies "
        "webhooks only: it cannot sign download URLs or callback tokens. Needs an analyst or admin key."
    ),
)
async def rotate_webhook_secret(scope: AnalystScope) -> WebhookSecretCreated:
    row, secret = await scope.call(service.rotate_webhook_secret)
    return WebhookSecretCreated(owner=row.owner, secret=secret, prefix=row.prefix, created_at=row.created_at)


@router.delete(
    "/{key_id}",
    status_code=204,
    summary="Revoke a key",
    description=(
        "Revokes the key at once: requests made with it are refused with 401 from then on. Answers "
        "204 with no body. Needs an admin key; an admin cannot revoke the key it is calling with."
    ),
)
async def delete(key_id: str, request: Request, principal: Admin) -> Response:
    ctx = get_context(request)
    await ctx.db.call(service.revoke, ctx, principal, key_id)
    return Response(status_code=204)
