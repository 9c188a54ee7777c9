"""schemathesis over the live OpenAPI schema of the running server (uvicorn on loopback, no function invoker,
so nothing fuzzed starts function work), with an admin key.

Every generated request (valid and invalid) must get no 5xx, a documented status code, a documented content
type and a body matching the documented schema. Path ids are mostly random (-> 404); each case whose path has
an id is sent a second time with the shop's real objects in it, so the success paths (results as CSV/XLSX,
plots, accuracy, cancel, activate...) are fuzzed too. Examples per operation are bounded and derandomised.

No fuzzed request makes the server resolve a public name: every generated ``callback_url`` is pointed at
loopback before it is sent (:func:`loopback_callback`), and the server refuses loopback callbacks (422).
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import AnyHttpUrl, TypeAdapter, ValidationError
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from plastinka_api.app import create_app
from plastinka_api.settings import Settings
from plastinka_testing.security import SecureServer
from plastinka_testing.servers import ADMIN_KEY

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 40
_URL = TypeAdapter(AnyHttpUrl)


def loopback_callback(case: Any) -> None:
    """Point a generated ``callback_url`` at loopback, so the server never resolves a fuzzed (public) name.

    A value the API's own URL type accepts keeps its scheme, port, path and query with the host made
    127.0.0.1 (which the server refuses with 422: not allow-listed); a value it rejects is left alone (a 422
    before any resolution).
    """
    if not isinstance(case.body, dict) or not isinstance(case.body.get("callback_url"), str):
        return
    try:
        url = _URL.validate_python(case.body["callback_url"])
    except ValidationError:
        return
    query = f"?{url.query}" if url.query else ""
    case.body = {**case.body, "callback_url": f"{url.scheme}://127.0.0.1:{url.port}{url.path or '/'}{query}"}


def _documented() -> list[tuple[str, str]]:
    """(method, path) of every operation the app documents, known at collection time."""
    app = create_app(Settings(_env_file=None, invoker="none"))
    return sorted((method.upper(), path) for path, ops in app.openapi()["paths"].items() for method in ops)


OPERATIONS = _documented()


@pytest.fixture(scope="session")
def live_schema(server: SecureServer) -> Any:
    loaded = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    served = sorted((op.method.upper(), op.path) for op in (r.ok() for r in loaded.get_all_operations()))
    assert served == OPERATIONS  # the live schema is the app's
    return loaded


def real_ids(path: str, objects: dict[str, str]) -> dict[str, str]:
    """The shop's objects for the id parameters of ``path`` (keys are left alone: revoking them breaks the run)."""
    ids: dict[str, str] = {}
    if "{dataset_id}" in path:
        ids["dataset_id"] = objects["ds"]
    if "{model_id}" in path:
        ids["model_id"] = objects["model"]
    if "{job_id}" in path:
        if path.endswith("/cancel"):
            ids["job_id"] = objects["pq"] if "/prediction/" in path else objects["tq"]
        elif "/training/" in path or path.endswith("/requeue"):
            ids["job_id"] = objects["tj"]
        elif "/internal/" in path:
            ids["job_id"] = objects["tq"]
        else:
            ids["job_id"] = objects["pj"]
    return ids


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_live_schema(method: str, path: str, live_schema: Any, server: SecureServer, objects: dict[str, str]) -> None:
    operation = live_schema[path][method]
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    ids = real_ids(path, objects)
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))

    @given(case=cases)
    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
    def fuzz(case: Any) -> None:
        loopback_callback(case)
        case.call_and_validate(base_url=server.url, headers=headers, checks=CHECKS)
        if ids and case.path_parameters:
            case.path_parameters = {**case.path_parameters, **ids}
            case.call_and_validate(base_url=server.url, headers=headers, checks=CHECKS)

    fuzz()
