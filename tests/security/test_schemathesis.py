"""schemathesis over the live OpenAPI schema of the running server (uvicorn on loopback, no function invoker,
so nothing fuzzed starts function work), with an admin key.

Every generated request (valid and invalid) must get no 5xx, a documented status code, a documented content
type and a body matching the documented schema. Path ids are mostly random (-> 404); each case whose path has
an id is sent a second time with the shop's real objects in it, so the success paths (results as CSV/XLSX,
plots, accuracy, cancel, activate...) are fuzzed too. Examples per operation are bounded and derandomised.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
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
        case.call_and_validate(base_url=server.url, headers=headers, checks=CHECKS)
        if ids and case.path_parameters:
            case.path_parameters = {**case.path_parameters, **ids}
            case.call_and_validate(base_url=server.url, headers=headers, checks=CHECKS)

    fuzz()
