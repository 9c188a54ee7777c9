"""``/docs`` and ``/redoc`` work offline: their HTML names only same-origin assets, the vendored Swagger UI and
ReDoc load from the package, render the API's operations under the CSP, and no request leaves the server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from plastinka_testing.servers import ApiServer, api_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    with api_server(tmp_path_factory.mktemp("docs") / "var") as running:
        yield running


def _assets(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html)


@pytest.mark.parametrize("path", ["/", "/docs", "/redoc"])
def test_pages_name_only_same_origin_assets_and_they_load(server: ApiServer, path: str) -> None:
    page = httpx.get(server.url + path)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<style" not in page.text and " style=" not in page.text
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.text) is None, "inline script"
    assets = [a for a in _assets(page.text) if a.startswith("/static/")]
    assert assets, page.text
    assert all(a.startswith("/") and not a.startswith("//") for a in _assets(page.text)), _assets(page.text)
    for asset in assets:
        response = httpx.get(server.url + asset)
        assert response.status_code == 200, asset
        assert len(response.content) > 20, asset


def test_vendored_licences_are_served_with_the_assets(server: ApiServer) -> None:
    for path in ("/static/vendor/swagger-ui/LICENSE", "/static/vendor/redoc/LICENSE"):
        response = httpx.get(server.url + path)
        assert response.status_code == 200 and "License" in response.text, path


def test_swagger_ui_renders_offline(server: ApiServer, open_page: Any, shot: Any) -> None:
    page, watch = open_page(server.url)
    page.goto(server.url + "/docs")
    page.wait_for_selector(".swagger-ui .opblock-summary", timeout=30_000)
    assert page.locator(".swagger-ui .opblock").count() > 20
    assert "Plastinka" in page.locator(".swagger-ui .info .title").inner_text()
    shot(page, "docs-swagger")
    assert watch.foreign == [] and watch.csp_errors == [], (watch.foreign, watch.csp_errors)


def test_redoc_renders_offline(server: ApiServer, open_page: Any, shot: Any) -> None:
    page, watch = open_page(server.url)
    page.goto(server.url + "/redoc")
    page.get_by_text("Plastinka Sales Predictor API").first.wait_for(timeout=30_000)
    page.wait_for_selector("[data-section-id='tag/datasets']", state="attached", timeout=10_000)
    assert page.locator("[data-section-id^='operation/']").count() > 20
    shot(page, "docs-redoc", full_page=False)
    assert watch.foreign == [], watch.foreign
    # What the policy still refuses, rightly: the "API docs by Redocly" logo from their CDN, and a few style
    # elements ReDoc's dependencies add without the nonce (empty, or scrollbar looks). No script is refused.
    refused = [
        e for e in watch.csp_errors if "cdn.redoc.ly" not in e and not e.startswith("Applying inline style violates")
    ]
    assert refused == [], refused


def test_static_files_come_from_the_package(server: ApiServer) -> None:
    from plastinka_api.web.service import STATIC_DIR

    body = httpx.get(server.url + "/static/app.js").content
    assert body == (Path(STATIC_DIR) / "app.js").read_bytes()


def test_redoc_allows_only_its_own_fresh_style_nonce(server: ApiServer) -> None:
    first, second = httpx.get(server.url + "/redoc"), httpx.get(server.url + "/redoc")
    nonces = []
    for response in (first, second):
        policy = response.headers["content-security-policy"]
        (nonce,) = re.findall(r"'nonce-([\w-]+)'", policy)
        assert f'data-nonce="{nonce}"' in response.text
        assert "script-src 'self';" in policy and "unsafe" not in policy
        nonces.append(nonce)
    assert nonces[0] != nonces[1] and len(nonces[0]) >= 20
