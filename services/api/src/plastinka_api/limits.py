"""Request body caps enforced while the body streams in, before any parsing: a huge upload is refused
with 413 by its ``Content-Length``, or as soon as it passes the cap when it has none (chunked)."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from plastinka_api.errors import hint_for

#: Bodies other than uploads (JSON): generous for a list of 100 000 item ids, small enough to matter.
JSON_BODY_LIMIT = 8 * 1024 * 1024
#: Multipart framing and form fields beside the files.
MULTIPART_OVERHEAD = 1024 * 1024


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_upload_bytes: int) -> None:
        self.app = app
        # A dataset upload carries up to two files (sales and stock).
        self.upload_limit = 2 * max_upload_bytes + MULTIPART_OVERHEAD

    def limit_for(self, scope: Scope) -> int:
        if str(scope.get("path", "")).rstrip("/").endswith("/datasets"):
            return self.upload_limit
        return JSON_BODY_LIMIT

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _refuse(send, limit)
            return
        seen = 0
        refused = False

        async def counted() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # Answer now and tell the app the client went away: it stops reading and its own
                    # response (whatever parsing error it makes of a cut body) is dropped below.
                    refused = True
                    await _refuse(send, limit)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not refused:
                await send(message)

        await self.app(scope, counted, guarded_send)


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps(
        {
            "error": "payload_too_large",
            "message": f"request body is larger than the limit of {limit} bytes",
            "hint": hint_for("payload_too_large", 413),
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
