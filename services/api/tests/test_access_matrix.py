"""Every endpoint x key (none, wrong, revoked, each role, another owner): role limits hold, and another
owner's objects are 404, never 403 (which would confirm they exist)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from apikit import Api, claim, event, forecast_frame, post_event, prediction_manifest, run_training, upload

# (method, path, minimum role, body); {ds} {tj} {pj} {model} are the shop owner's objects.
ROUTES: list[tuple[str, str, str, Any]] = [
    ("GET", "/api/v1/datasets", "viewer", None),
    ("GET", "/api/v1/datasets/{ds}", "viewer", None),
    ("GET", "/api/v1/training", "viewer", None),
    ("GET", "/api/v1/training/{tj}", "viewer", None),
    ("POST", "/api/v1/training", "analyst", {"dataset_id": "{ds}"}),
    ("GET", "/api/v1/prediction", "viewer", None),
    ("GET", "/api/v1/prediction/{pj}", "viewer", None),
    ("POST", "/api/v1/prediction", "analyst", {"model_id": "{model}"}),
    ("GET", "/api/v1/status", "viewer", None),
    ("GET", "/api/v1/status/{tj}", "viewer", None),
    ("GET", "/api/v1/results/{tj}", "viewer", None),
    ("GET", "/api/v1/results/{pj}", "viewer", None),
    ("GET", "/api/v1/results/{pj}/download", "viewer", None),
    ("GET", "/api/v1/models", "viewer", None),
    ("GET", "/api/v1/models/{model}", "viewer", None),
    ("POST", "/api/v1/models/{model}/activate", "analyst", None),
    ("POST", "/api/v1/status/{tj}/requeue", "admin", None),
    ("GET", "/api/v1/keys", "admin", None),
    ("POST", "/api/v1/keys", "admin", {"name": "n", "role": "viewer", "owner": "o"}),
]
RANK = {"viewer": 0, "analyst": 1, "admin": 2}
OWNED = ("{ds}", "{tj}", "{pj}", "{model}")


@pytest.fixture
async def objects(api: Api, shop_files: tuple[Path, Path]) -> dict[str, str]:
    ds = (await upload(api.analyst, *shop_files)).json()["id"]
    tj, model = await run_training(api, ds)
    pj = (await api.analyst.post("/api/v1/prediction", json={"model_id": model})).json()["job_id"]
    await claim(api.ctx)
    manifest = await prediction_manifest(api.ctx, pj, 1, forecast_frame(["a"]))
    await post_event(api.analyst, api.ctx, event(pj, 1, "succeeded", manifest=manifest))
    revoked = await api.admin.post("/api/v1/keys", json={"name": "old", "role": "admin", "owner": "shop"})
    await api.admin.delete(f"/api/v1/keys/{revoked.json()['id']}")
    return {"{ds}": ds, "{tj}": tj, "{pj}": pj, "{model}": model, "revoked": revoked.json()["key"]}


def _fill(value: Any, objects: dict[str, str]) -> Any:
    if isinstance(value, str):
        for name, ident in objects.items():
            value = value.replace(name, ident)
        return value
    if isinstance(value, dict):
        return {k: _fill(v, objects) for k, v in value.items()}
    return value


async def test_the_access_matrix(api: Api, objects: dict[str, str]) -> None:
    failures = []
    for method, template, minimum, body in ROUTES:
        path = _fill(template, objects)
        payload = _fill(body, objects)
        callers = {
            "none": api.client(None),
            "wrong": api.client("pk_" + "x" * 43),
            "revoked": api.client(objects["revoked"]),
        }
        for name, client in callers.items():
            async with client:
                status = (await client.request(method, path, json=payload)).status_code
            if status != 401:
                failures.append((method, template, name, status, 401))
        for role in ("viewer", "analyst", "admin"):
            status = (await api.clients[role].request(method, path, json=payload)).status_code
            allowed = RANK[role] >= RANK[minimum]
            if (allowed and status in (401, 403, 404)) or (not allowed and status != 403):
                failures.append((method, template, role, status, "2xx/409" if allowed else 403))
        if any(marker in template or marker in str(body) for marker in OWNED) and minimum != "admin":
            status = (await api.other.request(method, path, json=payload)).status_code
            if status != 404:
                failures.append((method, template, "other owner", status, 404))
    assert failures == []
