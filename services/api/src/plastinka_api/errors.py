"""Every failure leaves as JSON ``{"error", "message", "details", "hint"}``: bad input is a 4xx that says what and
where, and ``hint`` says in a plain sentence what to do about it (in Russian for ``Accept-Language: ru``)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from plastinka_api.headers import NON_HTML

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error with an HTTP status, a stable machine code and a human message.

    A subclass names its status and code in its header: ``class Gone(ApiError, status=410, code="gone")``.
    """

    status_code = 400
    code = "bad_request"

    def __init_subclass__(cls, *, status: int | None = None, code: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if status is not None:
            cls.status_code = status
        if code is not None:
            cls.code = code

    def __init__(self, message: str, *, details: Any = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.headers = headers


class BadRequest(ApiError): ...


class Unauthorized(ApiError, status=401, code="unauthorized"): ...


class Forbidden(ApiError, status=403, code="forbidden"): ...


class NotFound(ApiError, status=404, code="not_found"):
    def __init__(self, what: str, ident: str) -> None:
        super().__init__(f"{what} {ident!r} not found")


class Conflict(ApiError, status=409, code="conflict"): ...


class PayloadTooLarge(ApiError, status=413, code="payload_too_large"): ...


class UnprocessableUpload(ApiError, status=422, code="invalid_upload"):
    """An upload that could not be read as a shop export: ``details`` lists issues with file/row/column."""


class CoverBeyondHorizon(ApiError, status=422, code="cover_beyond_horizon"):
    """The order list's ``cover_months`` reaches past the forecast's horizon."""


class QueueFull(ApiError, status=429, code="queue_full"):
    """The owner's job quota is used up: try again after ``Retry-After`` seconds."""

    def __init__(self, message: str, *, retry_after_s: int, details: Any = None) -> None:
        super().__init__(message, details=details, headers={"Retry-After": str(retry_after_s)})


class TooManyAuthFailures(ApiError, status=429, code="too_many_auth_failures"):
    """Too many failed authentications from one client address; ``Retry-After`` says when to try again."""


class InvalidField(ApiError, status=422, code="validation_error"):
    """A request field that parses but breaks a rule checked later (a callback URL that resolves inside)."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"invalid request: {where}: {message}", details=[{"where": where, "message": message}])


class Unavailable(ApiError, status=503, code="unavailable"): ...


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: str = Field(description="A stable machine code: not_found, forbidden, validation_error, ...")
    message: str = Field(description="What went wrong, for a human")
    details: Any = Field(default=None, description="Where: fields, or file/row/column of an upload")
    hint: str | None = Field(
        default=None,
        description="What to do about it, in a plain sentence for a person: Russian when the request's "
        "Accept-Language prefers ru, English otherwise. Chosen by `error`; programs should read `error`.",
    )


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


#: A plain sentence per error code, (English, Russian): what a person should do about it.
HINTS: dict[str, tuple[str, str]] = {
    "bad_request": (
        "The request cannot be used as sent: change what the message names and send it again.",
        "Запрос нельзя выполнить в таком виде: исправьте то, что названо в сообщении, и отправьте его снова.",
    ),
    "unauthorized": (
        "Send your API key as `Authorization: Bearer <key>` or in the `X-API-Key` header; if it was revoked, "
        "ask the administrator for a new one.",
        "Передайте API-ключ в заголовке `Authorization: Bearer <ключ>` или `X-API-Key`; если ключ отозван, "
        "попросите у администратора новый.",
    ),
    "forbidden": (
        "Your key's role may not do this: use a key with a higher role, or ask the administrator.",
        "Роль вашего ключа не позволяет это сделать: возьмите ключ с более высокой ролью или обратитесь к "
        "администратору.",
    ),
    "not_found": (
        "Nothing with this id belongs to your key's owner: check the id, or list what you have.",
        "У владельца вашего ключа нет ничего с таким идентификатором: проверьте его или откройте список.",
    ),
    "conflict": (
        "The object's current state does not allow this: check its status and do what the message suggests.",
        "Текущее состояние объекта этого не позволяет: проверьте его статус и сделайте то, что предлагает сообщение.",
    ),
    "payload_too_large": (
        "The file is larger than the server accepts: send a smaller file, for example a shorter period.",
        "Файл больше, чем принимает сервер: отправьте файл поменьше, например за более короткий период.",
    ),
    "invalid_upload": (
        "The file could not be used as a sales export: the details name the file, row and column to fix.",
        "Файл не удалось использовать как выгрузку продаж: в подробностях указаны файл, строка и столбец, "
        "которые нужно исправить.",
    ),
    "unavailable": (
        "A service the API needs is unavailable for a moment: wait a little and try again.",
        "Сервис, нужный для работы, ненадолго недоступен: подождите немного и повторите.",
    ),
    "validation_error": (
        "Some parameters are missing or wrong: the details list each one with what is expected.",
        "Некоторые параметры не указаны или неверны: в подробностях перечислено, что ожидается в каждом.",
    ),
    "method_not_allowed": (
        "This address does not accept this kind of request: /docs lists the operations it offers.",
        "Этот адрес не принимает такой запрос: список операций есть на странице /docs.",
    ),
    "http_error": (
        "The request could not be served: the message says why.",
        "Запрос не удалось выполнить: причина указана в сообщении.",
    ),
    "internal_error": (
        "Something failed on the server and nothing half-done was kept: try again later, and tell the "
        "administrator if it keeps failing.",
        "На сервере произошёл сбой, незавершённые изменения не сохранены: повторите позже, а если ошибка "
        "повторяется, сообщите администратору.",
    ),
    "unknown_items": (
        "Some record ids are not in the dataset: check the barcodes, or leave `items` out to forecast every record.",
        "Некоторых пластинок нет в наборе данных: проверьте штрихкоды или не указывайте `items`, чтобы получить "
        "прогноз по всем.",
    ),
    "too_little_history": (
        "The sales export covers too short a time to learn from: upload one with at least three months of sales.",
        "Выгрузка продаж охватывает слишком короткий срок, чтобы на ней учиться: загрузите продажи хотя бы за "
        "три месяца.",
    ),
}

#: The hint of a code without its own entry (an error class added later), by HTTP status.
_STATUS_HINTS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    422: "validation_error",
    503: "unavailable",
}


def wants_russian(accept_language: str | None) -> bool:
    """True when ``Accept-Language`` ranks Russian above English (and above any language we do not speak)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        language = tag.strip().lower().split("-")[0]
        if language in ("ru", "en") and quality > 0:
            ranked.append((-quality, position, language))
    return bool(ranked) and min(ranked)[2] == "ru"


def hint_for(code: str, status: int, *, russian: bool = False) -> str:
    """The plain sentence of an error code (or of its HTTP status when the code has none)."""
    english, russian_text = HINTS.get(code) or HINTS.get(_STATUS_HINTS.get(status, ""), HINTS["http_error"])
    return russian_text if russian else english


def _body(
    code: str, message: str, details: Any = None, *, status: int = 400, request: Request | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"error": code, "message": message}
    if details is not None:
        body["details"] = details
    russian = request is not None and wants_russian(request.headers.get("accept-language"))
    body["hint"] = hint_for(code, status, russian=russian)
    return body


def _plain(message: str) -> str:
    """Pydantic's ``Value error, horizon must be ...`` without the prefix a person does not need."""
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            return message[len(prefix) :]
    return message


def _where(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc)


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    body = _body(exc.code, exc.message, exc.details, status=exc.status_code, request=request)
    return JSONResponse(body, exc.status_code, headers=exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = [
        {"where": _where(tuple(err.get("loc", ()))), "message": _plain(str(err.get("msg", "")))} for err in exc.errors()
    ]
    summary = "; ".join(f"{d['where']}: {d['message']}" for d in details[:5])
    body = _body("validation_error", f"invalid request: {summary}", details, status=422, request=request)
    return JSONResponse(body, 422)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden"}.get(
        exc.status_code, "http_error"
    )
    body = _body(code, str(exc.detail), status=exc.status_code, request=request)
    return JSONResponse(body, exc.status_code, headers=getattr(exc, "headers", None))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    message = "internal error; the request changed nothing it could not undo"
    # Starlette calls this from its outermost ServerErrorMiddleware, past SecurityHeadersMiddleware: set them here.
    return JSONResponse(_body("internal_error", message, status=500, request=request), 500, headers=NON_HTML)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
