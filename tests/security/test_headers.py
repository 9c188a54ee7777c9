"""Finding 7: the security headers, from the one middleware, on every kind of response of the live server."""

from __future__ import annotations

import pytest

from plastinka_api.headers import HTML_CSP, OTHER_CSP
from plastinka_testing.security import MAX_UPLOAD_BYTES, SecureServer
from plastinka_testing.servers import API, post_dataset

COMMON = {"x-content-type-options": "nosniff", "referrer-policy": "no-referrer", "x-frame-options": "DENY"}


@pytest.mark.parametrize(
    ("path", "key", "status"),
    [
        ("/health", None, 200),
        ("/openapi.json", None, 200),
        (f"{API}/datasets", "analyst", 200),
        (f"{API}/datasets", None, 401),  # errors too
        (f"{API}/datasets/nope", "analyst", 404),
        ("/no/such/route", None, 404),
    ],
)
def test_every_response_has_the_headers(server: SecureServer, path: str, key: str | None, status: int) -> None:
    with server.client(server.keys[key] if key else None) as client:
        response = client.get(path)
    assert response.status_code == status
    for name, value in COMMON.items():
        assert response.headers.get(name) == value, (path, name)
    # Not a page: a policy that allows nothing, so a JSON body opened in a browser can run nothing.
    assert response.headers["content-security-policy"] == OTHER_CSP


def test_html_pages_get_the_same_origin_policy(server: SecureServer) -> None:
    with server.client(None) as client:
        response = client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == HTML_CSP
    policy = dict(part.strip().split(" ", 1) for part in HTML_CSP.split(";"))
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"  # no inline, no CDN
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    for name, value in COMMON.items():
        assert response.headers.get(name) == value


def test_an_upload_refused_by_the_size_limit_has_the_headers(server: SecureServer) -> None:
    with server.client(server.keys["analyst"]) as client:
        response = post_dataset(client, b"x" * (MAX_UPLOAD_BYTES + 1))
    assert response.status_code == 413
    assert response.headers.get("x-content-type-options") == "nosniff"
