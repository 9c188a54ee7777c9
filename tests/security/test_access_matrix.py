"""Every route of the app x every kind of caller, over real HTTP against real objects.

The routes are enumerated from the app itself: a route missing from ``MATRIX`` (a new endpoint) fails
``test_every_route_is_in_the_matrix``, so nothing slips through unclassified. Callers: no key, a wrong key, a
revoked key, each role of the objects' owner (``shop``), and keys of another owner (``rival``). Expected:
401 for no/wrong/revoked keys (public routes excepted), 403 below the route's role, 404 for another owner's
object (never 403, which would confirm it exists), success for the owner.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from plastinka_api.app import create_app
from plastinka_api.settings import Settings
from plastinka_testing.security import SecureServer

RANK = {"viewer": 0, "analyst": 1, "admin": 2}
PUBLIC = "public"
#: Authenticated by the job's callback token, never by an API key.
CALLBACK = "callback"
RUNNING = {"job_id": "{tq}", "attempt": 1, "type": "running", "at": "2026-01-01T00:00:00Z"}
#: Authenticated by the URL's signature (a capability URL), never by an API key.
SIGNED = "signed"


@dataclass(frozen=True)
class Rule:
    """Who may call a route: a minimum role, or one of PUBLIC/CALLBACK/SIGNED.

    ``path`` fills the route's template with the shop owner's objects (``{ds}`` ...); ``owned`` says the route
    acts on an object of the owner, in its path or body (another owner must get 404); ``ok`` is what the
    owner's allowed roles get
    (409: an earlier caller of the matrix already changed the object's state, e.g. cancelled it).
    """

    access: str
    path: str
    ok: frozenset[int] = frozenset({200})
    owned: bool = True
    body: Any = None
    files: bool = False


def ok(*codes: int) -> frozenset[int]:
    return frozenset(codes)


MATRIX: dict[tuple[str, str], Rule] = {
    ("GET", "/health"): Rule(PUBLIC, "/health", owned=False),
    ("GET", "/ready"): Rule(PUBLIC, "/ready", owned=False),
    ("GET", "/metrics"): Rule("admin", "/metrics", owned=False),
    ("GET", "/openapi.json"): Rule(PUBLIC, "/openapi.json", owned=False),
    ("GET", "/docs"): Rule(PUBLIC, "/docs", owned=False),
    ("GET", "/redoc"): Rule(PUBLIC, "/redoc", owned=False),
    ("GET", "/"): Rule(PUBLIC, "/", owned=False),  # the web page: static HTML, its data comes with the key
    ("GET", "/files/{key}"): Rule(SIGNED, "{download}"),
    ("POST", "/api/v1/internal/jobs/{job_id}/events"): Rule(
        CALLBACK, "/api/v1/internal/jobs/{tq}/events", body=RUNNING
    ),
    ("GET", "/api/v1/keys"): Rule("admin", "/api/v1/keys", owned=False),
    ("POST", "/api/v1/keys"): Rule(
        "admin", "/api/v1/keys", ok(201), owned=False, body={"name": "m", "role": "viewer", "owner": "shop"}
    ),
    ("POST", "/api/v1/keys/webhook-secret"): Rule("analyst", "/api/v1/keys/webhook-secret", ok(201), owned=False),
    # Keys are managed deployment-wide by admins (POST /keys names any owner), so not owner-scoped.
    ("DELETE", "/api/v1/keys/{key_id}"): Rule("admin", "/api/v1/keys/{key}", ok(204), owned=False),
    ("POST", "/api/v1/datasets"): Rule("analyst", "/api/v1/datasets", ok(200, 201), owned=False, files=True),
    ("GET", "/api/v1/datasets"): Rule("viewer", "/api/v1/datasets", owned=False),
    ("GET", "/api/v1/datasets/{dataset_id}"): Rule("viewer", "/api/v1/datasets/{ds}"),
    ("POST", "/api/v1/training"): Rule("analyst", "/api/v1/training", ok(202), body={"dataset_id": "{ds}"}),
    ("GET", "/api/v1/training"): Rule("viewer", "/api/v1/training", owned=False),
    ("GET", "/api/v1/training/{job_id}"): Rule("viewer", "/api/v1/training/{tj}"),
    ("POST", "/api/v1/training/{job_id}/cancel"): Rule("analyst", "/api/v1/training/{tq}/cancel", ok(200, 409)),
    ("POST", "/api/v1/prediction"): Rule("analyst", "/api/v1/prediction", ok(202), body={"model_id": "{model}"}),
    ("GET", "/api/v1/prediction"): Rule("viewer", "/api/v1/prediction", owned=False),
    ("GET", "/api/v1/prediction/{job_id}"): Rule("viewer", "/api/v1/prediction/{pj}"),
    ("POST", "/api/v1/prediction/{job_id}/cancel"): Rule("analyst", "/api/v1/prediction/{pq}/cancel", ok(200, 409)),
    ("GET", "/api/v1/status"): Rule("viewer", "/api/v1/status", owned=False),
    ("GET", "/api/v1/status/{job_id}"): Rule("viewer", "/api/v1/status/{tj}"),
    # A succeeded job cannot be requeued: 409 proves the admin got past access control to the object.
    ("POST", "/api/v1/status/{job_id}/requeue"): Rule("admin", "/api/v1/status/{tj}/requeue", ok(409)),
    ("GET", "/api/v1/results/{job_id}"): Rule("viewer", "/api/v1/results/{pj}?format=csv"),
    ("GET", "/api/v1/results/{job_id}/download"): Rule("viewer", "/api/v1/results/{pj}/download"),
    ("GET", "/api/v1/results/{job_id}/plot"): Rule("viewer", "/api/v1/results/{pj}/plot"),
    # 409: the dataset has no actuals for the forecast periods yet (decided after the owner's checks passed).
    ("GET", "/api/v1/results/{job_id}/accuracy"): Rule(
        "viewer", "/api/v1/results/{pj}/accuracy?dataset_id={ds}", ok(200, 409)
    ),
    ("GET", "/api/v1/results/{job_id}/series"): Rule("viewer", "/api/v1/results/{pj}/series"),
    ("GET", "/api/v1/results/{job_id}/records"): Rule("viewer", "/api/v1/results/{pj}/records?q=a&sort=artist"),
    ("GET", "/api/v1/results/{job_id}/orders"): Rule("viewer", "/api/v1/results/{pj}/orders?format=xlsx&lang=ru"),
    ("GET", "/api/v1/models"): Rule("viewer", "/api/v1/models", owned=False),
    ("GET", "/api/v1/models/{model_id}"): Rule("viewer", "/api/v1/models/{model}"),
    ("POST", "/api/v1/models/{model_id}/activate"): Rule("analyst", "/api/v1/models/{model}/activate"),
    # The model is used by a prediction job, so its owner's delete is refused with 409 and it stays.
    ("DELETE", "/api/v1/models/{model_id}"): Rule("analyst", "/api/v1/models/{model}", ok(409)),
}

CALLERS = ("none", "wrong", "revoked", "revoked_x", "viewer", "viewer_x", "analyst", "admin", "other", "other_admin")
#: Callers ending in ``_x`` send their key in ``X-API-Key`` instead of ``Authorization: Bearer``.


def app_routes() -> set[tuple[str, str]]:
    """(method, path) of every route the app serves, nested routers included."""
    app = create_app(Settings(_env_file=None, invoker="none"))

    def walk(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, str]]:
        for route in routes:
            if hasattr(route, "original_router"):  # an included router (FastAPI >= 0.16x keeps them nested)
                yield from walk(route.original_router.routes, prefix + route.include_context.prefix)
            else:
                for method in sorted(set(getattr(route, "methods", None) or ()) - {"HEAD"}):
                    yield method, (prefix + route.path).replace(":path}", "}")

    found = set(walk(app.routes))
    found |= {(m.upper(), p) for p, ops in app.openapi()["paths"].items() for m in ops}
    return found


def test_every_route_is_in_the_matrix() -> None:
    routes = app_routes()
    assert routes - set(MATRIX) == set(), "new routes need a row in MATRIX"
    assert set(MATRIX) - routes == set(), "MATRIX names routes the app no longer has"


def _fill(value: Any, objects: dict[str, str]) -> Any:
    if isinstance(value, str):
        for name, ident in objects.items():
            value = value.replace("{" + name + "}", ident)
        return value
    if isinstance(value, dict):
        return {k: _fill(v, objects) for k, v in value.items()}
    return value


def _client(server: SecureServer, caller: str) -> Any:
    if caller == "none":
        return server.client(None)
    if caller == "wrong":
        return server.client("pk_" + "w" * 43)
    if caller.endswith("_x"):
        return server.client(None, **{"X-API-Key": server.keys[caller.removesuffix("_x")]})
    return server.client(server.keys[caller])


def expected(rule: Rule, caller: str) -> frozenset[int]:
    if rule.access == PUBLIC:
        return ok(200)
    if rule.access == SIGNED:
        return ok(200)  # the signature is the credential: any caller (or none) with the URL may fetch it
    if rule.access == CALLBACK:
        return ok(401)  # an API key of any role is not the job's callback token
    caller = caller.removesuffix("_x")
    if caller in ("none", "wrong", "revoked"):
        return ok(401)
    role = "admin" if caller == "other_admin" else "analyst" if caller == "other" else caller
    if RANK[role] < RANK[rule.access]:
        return ok(403)
    if caller.startswith("other") and rule.owned:
        return ok(404)
    return rule.ok


@pytest.fixture(scope="module")
def download_path(server: SecureServer, objects: dict[str, str]) -> str:
    with server.client(server.keys["viewer"]) as viewer:
        url = viewer.get(f"/api/v1/results/{objects['pj']}/download").json()["url"]
    return url.removeprefix(server.url)


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda r: f"{r[0]} {r[1]}")
def test_access(
    route: tuple[str, str],
    caller: str,
    server: SecureServer,
    objects: dict[str, str],
    download_path: str,
    shop: Any,
) -> None:
    method, _ = route
    rule = MATRIX[route]
    values = {**objects, "download": download_path}
    kwargs: dict[str, Any] = {}
    if rule.body is not None:
        kwargs["json"] = _fill(rule.body, values)
    if rule.files:
        kwargs["files"] = {"file": (shop[0].name, shop[0].read_bytes(), "text/csv")}
    with _client(server, caller) as client:
        response = client.request(method, _fill(rule.path, values), **kwargs)
    want = expected(rule, caller)
    assert response.status_code in want, f"{caller}: {response.status_code} {response.text[:300]}"
    if response.status_code in (401, 403, 404):
        assert response.json()["error"] in ("unauthorized", "forbidden", "not_found")


def test_public_endpoints_carry_no_owner_data(server: SecureServer, objects: dict[str, str]) -> None:
    """/health and /ready answer without a key (probes), so they must not name any owner's objects or keys."""
    secrets = [*objects.values(), "shop", "rival", *server.keys.values()]
    with server.client(None) as anonymous:
        for path in ("/health", "/ready"):
            body = anonymous.get(path).text
            assert [s for s in secrets if s in body] == [], path
