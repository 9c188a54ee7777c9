"""Where the page's files live: the ``static`` directory shipped inside the package (wheel package data)."""

from __future__ import annotations

import secrets
from pathlib import Path

#: The page, the docs' HTML shells and their scripts/styles, and the vendored Swagger UI and ReDoc.
STATIC_DIR = Path(__file__).parent / "static"
#: URL prefix the static directory is mounted at (every page references its assets under it).
STATIC_URL = "/static"
#: The HTML documents served at fixed paths: route -> file in STATIC_DIR.
PAGES = {"/": "index.html", "/docs": "docs.html", "/redoc": "redoc.html"}


def page_file(route: str) -> Path:
    """The HTML file served at ``route``; a missing file is a broken package, so it fails loudly."""
    path = STATIC_DIR / PAGES[route]
    if not path.is_file():
        raise FileNotFoundError(f"the web page file {path} is missing from the package")
    return path


#: ReDoc's styled-components add ``<style>`` elements at run time, which a ``style-src 'self'`` policy blocks (the
#: page then shows "Something went wrong"). They carry the nonce ReDoc is given, so /redoc alone allows styles
#: with a fresh nonce per response, and its search index runs in a worker made from a blob of its own bundle;
#: scripts stay same-origin only, as everywhere.
REDOC_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'nonce-{nonce}'; img-src 'self' data: blob:; "
    "worker-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def redoc_page() -> tuple[str, str]:
    """(the /redoc HTML with a fresh style nonce, the Content-Security-Policy that allows that nonce)."""
    nonce = secrets.token_urlsafe(18)
    html = page_file("/redoc").read_text(encoding="utf-8").replace("{{nonce}}", nonce)
    return html, REDOC_CSP.format(nonce=nonce)
