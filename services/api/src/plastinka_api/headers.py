"""Security headers on every response, set in one place (a pure ASGI middleware: streamed bodies stay streamed).

Every response gets ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer`` and
``X-Frame-Options: DENY``. HTML pages (the landing page and the self-hosted docs) get a Content-Security-Policy
that allows only the API's own origin and no inline script or style; every other response gets one that allows
nothing at all, so a JSON body or a download opened as a page can run nothing either.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HTML_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
OTHER_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
COMMON = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"}
#: What a non-HTML response carries; set directly by the 500 handler, which Starlette runs outside this middleware.
NON_HTML = {**COMMON, "Content-Security-Policy": OTHER_CSP}


class SecurityHeadersMiddleware:
    """Adds the headers to ``http.response.start`` unless a route set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in COMMON.items():
                    headers.setdefault(name, value)
                html = headers.get("content-type", "").lower().startswith("text/html")
                headers.setdefault("Content-Security-Policy", HTML_CSP if html else OTHER_CSP)
            await send(message)

        await self.app(scope, receive, send_with_headers)
