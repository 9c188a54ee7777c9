"""Turning whatever the platform passes as ``event`` into a validated function request."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from plastinka_schemas import SCHEMA_VERSION

_Request = TypeVar("_Request", bound=BaseModel)


class RequestError(ValueError):
    """The event is not a request this handler accepts: a deterministic failure, never retried."""


def decode_event(event: object) -> dict[str, Any]:
    """The JSON object carried by ``event``.

    Accepts the raw/async body (``str`` or ``bytes``), an already-parsed mapping, and the HTTP-integration
    envelope (``{"body": ..., "isBase64Encoded": ...}``), which may wrap any of the others.
    """
    if isinstance(event, bytes | bytearray):
        try:
            event = bytes(event).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise RequestError(f"the request body is not UTF-8: {exc}") from exc
    if isinstance(event, str):
        try:
            event = json.loads(event)
        except json.JSONDecodeError as exc:
            raise RequestError(f"the request body is not JSON: {exc.msg} at position {exc.pos}") from exc
    if not isinstance(event, Mapping):
        raise RequestError(f"the request must be a JSON object, not {type(event).__name__}")
    if "body" in event and ("httpMethod" in event or "isBase64Encoded" in event):
        return decode_event(_envelope_body(event))
    return dict(event)


def _envelope_body(envelope: Mapping[str, Any]) -> str | bytes:
    body = envelope.get("body")
    if not isinstance(body, str):
        raise RequestError("the HTTP envelope has no body")
    if envelope.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise RequestError(f"the body is marked base64 but is not: {exc}") from exc
    return body


def parse_request(event: object, model: type[_Request]) -> _Request:
    """Validate the decoded event as ``model``, refusing schema versions this handler does not know."""
    data = decode_event(event)
    version = data.get("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        raise RequestError(f"unsupported schema_version {version!r}: this handler speaks version {SCHEMA_VERSION}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in exc.errors()[:10]
        )
        raise RequestError(f"invalid {model.__name__}: {problems}") from exc
