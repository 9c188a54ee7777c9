"""Authentication (``Authorization: Bearer <key>`` or ``X-API-Key``) and role checks as FastAPI dependencies.

Wrong keys are counted per client address (:mod:`plastinka_api.throttle`): past the allowance every key from
that address is answered 429 with ``Retry-After`` before it is looked up.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Concatenate, ParamSpec, TypeVar

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from plastinka_api.context import AppContext, get_context
from plastinka_api.errors import Forbidden, TooManyAuthFailures, Unauthorized
from plastinka_api.keys.service import Principal, lookup, role_at_least
from plastinka_schemas import Role

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer pk_...`")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key in the X-API-Key header")

_CHALLENGE = {"WWW-Authenticate": "Bearer"}
_HOW = "send it as `Authorization: Bearer <key>` or `X-API-Key`"


async def current_principal(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header_key: Annotated[str | None, Depends(_header)],
) -> Principal:
    ctx: AppContext = get_context(request)
    secret = bearer.credentials if bearer is not None else header_key
    if not secret:
        if request.headers.get("authorization", "").strip():
            raise Unauthorized(f"a key was sent without the Bearer scheme: {_HOW}", headers=_CHALLENGE)
        raise Unauthorized(f"an API key is required: {_HOW}", headers=_CHALLENGE)
    address = request.client.host if request.client is not None else "unknown"
    wait = ctx.auth_throttle.retry_after(address)
    if wait is not None:
        ctx.metrics.auth_failures.labels("throttled").inc()
        message = f"too many failed authentications from this address; retry after {wait} s"
        raise TooManyAuthFailures(message, headers={"Retry-After": str(wait)})
    principal = None
    if len(secret) <= 200:
        hit, principal = ctx.principals.get(secret)
        if not hit:
            principal = await ctx.db.call(_lookup, ctx, secret)
            if principal is not None:
                ctx.principals.put(secret, principal)
    if principal is None:
        ctx.auth_throttle.failed(address)
        ctx.metrics.auth_failures.labels("invalid").inc()
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

P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True)
class OwnerScope:
    """The app context and the checked key's owner: what every owner-scoped service function takes first."""

    ctx: AppContext
    owner: str

    async def call(self, fn: Callable[Concatenate[AppContext, str, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(ctx, owner, *args, **kwargs)`` on the database's worker thread."""
        return await self.ctx.db.call(fn, self.ctx, self.owner, *args, **kwargs)


async def _viewer_scope(request: Request, principal: Viewer) -> OwnerScope:
    return OwnerScope(get_context(request), principal.owner)


async def _analyst_scope(request: Request, principal: Analyst) -> OwnerScope:
    return OwnerScope(get_context(request), principal.owner)


#: ``scope: ViewerScope`` in an owner-scoped endpoint's signature: the role check of ``Viewer`` (``Analyst``), then
#: ``await scope.call(service.f, ...)`` runs ``service.f(ctx, owner, ...)``.
ViewerScope = Annotated[OwnerScope, Depends(_viewer_scope)]
AnalystScope = Annotated[OwnerScope, Depends(_analyst_scope)]
