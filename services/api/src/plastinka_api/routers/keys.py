"""``/api/v1/keys``: admins create, list and revoke API keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from plastinka_api.auth import Admin
from plastinka_api.context import get_context
from plastinka_api.errors import BadRequest, NotFound, error_responses
from plastinka_api.keys import create_key, list_keys, revoke
from plastinka_schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyPublic, Page

router = APIRouter(prefix="/keys", tags=["keys"], responses=error_responses(400, 401, 403, 404, 422))


@router.post("", status_code=201, response_model=ApiKeyCreated, summary="Create a key (the secret is shown once)")
async def create(body: ApiKeyCreate, request: Request, _: Admin) -> ApiKeyCreated:
    ctx = get_context(request)

    def work() -> ApiKeyCreated:
        with ctx.db.write_session() as session:
            row, secret = create_key(session, name=body.name, role=body.role, owner=body.owner)
            return ApiKeyCreated.model_validate({**ApiKeyPublic.model_validate(row).model_dump(), "key": secret})

    return await ctx.db.call(work)


@router.get("", response_model=Page[ApiKeyPublic], summary="List keys, newest first")
async def listing(
    request: Request,
    _: Admin,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Page[ApiKeyPublic]:
    ctx = get_context(request)

    def work() -> Page[ApiKeyPublic]:
        with ctx.db.session() as session:
            total, rows = list_keys(session, offset=offset, limit=limit)
            return Page[ApiKeyPublic](
                total=total, offset=offset, limit=limit, items=[ApiKeyPublic.model_validate(r) for r in rows]
            )

    return await ctx.db.call(work)


@router.delete("/{key_id}", status_code=204, summary="Revoke a key")
async def delete(key_id: str, request: Request, principal: Admin) -> Response:
    ctx = get_context(request)
    if key_id == principal.key_id:
        raise BadRequest("a key cannot revoke itself; use another admin key")

    def work() -> bool:
        with ctx.db.write_session() as session:
            return revoke(session, key_id) is not None

    if not await ctx.db.call(work):
        raise NotFound("key", key_id)
    ctx.principals.clear()
    return Response(status_code=204)
