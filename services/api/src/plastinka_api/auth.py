"""Authentication (``Authorization: Bearer <key>`` or ``X-API-Key``) and role checks as FastAPI dependencies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from plastinka_api.context import AppContext, get_context
from plastinka_api.errors import Forbidden, Unauthorized
from plastinka_api.keys.service import Principal, lookup, role_at_least
from plastinka_schemas import Role

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer pk_...`")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key in the X-API-Key header")

_CHALLENGE = {"WWW-Authenticate": "Bearer"}


async def current_principal(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header_key: Annotated[str | None, Depends(_header)],
) -> Principal:
    ctx: AppContext = get_context(request)
    secret = bearer.credentials if bearer is not None else header_key
    if not secret:
        raise Unauthorized("an API key is required: Authorization: Bearer <key> or X-API-Key", headers=_CHALLENGE)
    if len(secret) > 200:
        raise Unauthorized("invalid API key", headers=_CHALLENGE)
    hit, principal = ctx.principals.get(secret)
    if not hit:
        principal = await ctx.db.call(_lookup, ctx, secret)
        if principal is not None:
            ctx.principals.put(secret, principal)
    if principal is None:
        raise Unauthorized("invalid or revoked API key", headers=_CHALLENGE)
    request.state.principal = principal
    return principal


def _lookup(ctx: AppContext, secret: str) -> Principal | None:
    with ctx.db.session() as session:
        return lookup(session, secret)


def require(minimum: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency that lets through keys of role ``minimum`` or stronger."""

    async def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not role_at_least(principal.role, minimum):
            raise Forbidden(f"this needs the {minimum.value} role; the key has {principal.role.value}")
        return principal

    dependency.__name__ = f"require_{minimum.value}"
    return dependency


Viewer = Annotated[Principal, Depends(require(Role.VIEWER))]
Analyst = Annotated[Principal, Depends(require(Role.ANALYST))]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
