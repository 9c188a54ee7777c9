"""A bug answers a plain 500 in the API's error shape, with the same security headers as every other response."""

from __future__ import annotations

from pathlib import Path

import httpx

from plastinka_api.app import create_app
from plastinka_api.headers import NON_HTML
from plastinka_testing.app import make_settings


async def test_an_unhandled_exception_is_a_500_with_the_security_headers(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path))

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("a bug with a secret in its message")

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
            response = await client.get("/boom")

    assert response.status_code == 500
    body = response.json()
    assert body["error"] == "internal_error"
    assert "secret" not in response.text
    for name, value in NON_HTML.items():
        assert response.headers.get(name) == value, name
