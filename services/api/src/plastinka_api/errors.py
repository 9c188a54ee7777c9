"""Every failure leaves as JSON ``{"error", "message", "details"}``: bad input is a 4xx that says what and where."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error with an HTTP status, a stable machine code and a human message."""

    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, details: Any = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.headers = headers


class BadRequest(ApiError):
    pass


class Unauthorized(ApiError):
    status_code = 401
    code = "unauthorized"


class Forbidden(ApiError):
    status_code = 403
    code = "forbidden"


class NotFound(ApiError):
    status_code = 404
    code = "not_found"

    def __init__(self, what: str, ident: str) -> None:
        super().__init__(f"{what} {ident!r} not found")


class Conflict(ApiError):
    status_code = 409
    code = "conflict"


class PayloadTooLarge(ApiError):
    status_code = 413
    code = "payload_too_large"


class UnprocessableUpload(ApiError):
    """An upload that could not be read as a shop export: ``details`` lists issues with file/row/column."""

    status_code = 422
    code = "invalid_upload"


class QueueFull(ApiError):
    """The owner's job quota is used up: try again after ``Retry-After`` seconds."""

    status_code = 429
    code = "queue_full"

    def __init__(self, message: str, *, retry_after_s: int, details: Any = None) -> None:
        super().__init__(message, details=details, headers={"Retry-After": str(retry_after_s)})


class TooManyAuthFailures(ApiError):
    """Too many failed authentications from one client address; ``Retry-After`` says when to try again."""

    status_code = 429
    code = "too_many_auth_failures"


class InvalidField(ApiError):
    """A request field that parses but breaks a rule checked later (a callback URL that resolves inside)."""

    status_code = 422
    code = "validation_error"

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"invalid request: {where}: {message}", details=[{"where": where, "message": message}])


class Unavailable(ApiError):
    status_code = 503
    code = "unavailable"


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: str = Field(description="A stable machine code: not_found, forbidden, validation_error, ...")
    message: str = Field(description="What went wrong, for a human")
    details: Any = Field(default=None, description="Where: fields, or file/row/column of an upload")


_DESCRIPTIONS = {
    400: "The request cannot be used; the message says why",
    401: "No API key, or a wrong or revoked one",
    403: "The key's role may not do this (or a signed URL was refused)",
    404: "No such object for this key's owner",
    409: "The object's current state does not allow this",
    413: "The request body is larger than the limit",
    422: "Invalid parameters, body or upload: where and why",
    429: "Too many jobs waiting for this owner, or too many failed authentications; retry after Retry-After",
    503: "A dependency is unavailable for a moment; retry after Retry-After",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` documenting these error statuses with the :class:`ErrorBody` schema.

    Wherever an API key is checked (401) the failed-authentication throttle may answer 429 too.
    """
    if 401 in codes and 429 not in codes:
        codes = (*codes, 429)
    return {code: {"model": ErrorBody, "description": _DESCRIPTIONS[code]} for code in codes}


def _body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": code, "message": message}
    if details is not None:
        body["details"] = details
    return body


def _where(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc)


async def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return JSONResponse(_body(exc.code, exc.message, exc.details), exc.status_code, headers=exc.headers)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = [{"where": _where(tuple(err.get("loc", ()))), "message": err.get("msg", "")} for err in exc.errors()]
    summary = "; ".join(f"{d['where']}: {d['message']}" for d in details[:5])
    return JSONResponse(_body("validation_error", f"invalid request: {summary}", details), 422)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden"}.get(
        exc.status_code, "http_error"
    )
    return JSONResponse(_body(code, str(exc.detail)), exc.status_code, headers=getattr(exc, "headers", None))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(_body("internal_error", "internal error; the request changed nothing it could not undo"), 500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
