"""Headless Debian chromium driven by Playwright (no `playwright install`: the system browser), pages held to
the Content-Security-Policy the API sends, and screenshots kept under ``var/browser/`` as CI artefacts."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

#: The API's policy (the security middleware's): the page and the docs must work under it, so no inline code.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
CHROMIUM = os.environ.get("PLASTINKA_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "browser"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Module-scoped: Playwright's sync API runs its own event loop, which must be gone before any asyncio test
    of a later module starts."""
    if not Path(CHROMIUM).exists():
        message = f"no chromium at {CHROMIUM}: apt-get install chromium (.ci/run does)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Watch:
    """What a page did that a test must see: dialogs opened (an XSS would), CSP refusals, foreign requests."""

    origin: str
    dialogs: list[str] = field(default_factory=list)
    csp_errors: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)


@pytest.fixture
def open_page(browser: Any) -> Iterator[Any]:
    """``open_page(origin) -> (page, watch)``: a fresh context whose page gets the CSP header on every response,
    may not leave ``origin`` (a foreign request is aborted and recorded), and records and dismisses dialogs."""
    contexts: list[Any] = []

    def make(origin: str) -> tuple[Any, Watch]:
        context = browser.new_context(accept_downloads=True, locale="ru-RU", viewport={"width": 1280, "height": 900})
        contexts.append(context)
        return _watched(context.new_page(), origin)

    yield make
    for context in contexts:
        context.close()


def _watched(page: Any, origin: str) -> tuple[Any, Watch]:
    watch = Watch(origin)

    def enforce(route: Any) -> None:
        if not route.request.url.startswith(origin):
            watch.foreign.append(route.request.url)
            route.abort()
            return
        if route.request.method != "GET":  # an upload's body cannot be re-sent from here: let it through as is
            route.continue_()
            return
        response = route.fetch()
        # A route's own policy (/redoc's style nonce) stands, as it does with the API's security middleware.
        headers = {"content-security-policy": CSP, **response.headers}
        route.fulfill(response=response, headers=headers)

    page.route("**/*", enforce)

    def on_dialog(dialog: Any) -> None:
        watch.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on(
        "console",
        lambda message: (watch.csp_errors.append(message.text) if "Content Security Policy" in message.text else None),
    )
    return page, watch


@pytest.fixture
def shot() -> Any:
    """``shot(page, name)``: a (full-page) screenshot at ``var/browser/<name>.png``."""

    def take(page: Any, name: str, full_page: bool = True) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take
