"""``/`` (the shop owner's page), ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc): HTML shells whose scripts and
styles come from ``/static`` on the same origin, so they work offline and under a strict Content-Security-Policy
(no inline script or style)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

from plastinka_api.web import service

router = APIRouter(include_in_schema=False)
#: HTML is re-validated on every load so a new release's page never runs against an old script.
_NO_CACHE = {"Cache-Control": "no-cache"}


def static_files() -> StaticFiles:
    """The app mounts this at :data:`service.STATIC_URL`."""
    return StaticFiles(directory=service.STATIC_DIR)


def _page(route: str) -> FileResponse:
    return FileResponse(service.page_file(route), media_type="text/html; charset=utf-8", headers=_NO_CACHE)


@router.get("/")
async def index() -> FileResponse:
    return _page("/")


@router.get("/docs")
async def swagger_ui() -> FileResponse:
    return _page("/docs")


@router.get("/redoc")
async def redoc() -> HTMLResponse:
    html, policy = service.redoc_page()
    return HTMLResponse(html, headers={**_NO_CACHE, "Content-Security-Policy": policy})
