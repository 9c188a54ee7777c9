"""One API process for the whole security suite, with the shop owner's real objects made through the API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from plastinka_testing.security import (
    MAX_UPLOAD_BYTES,
    MAX_UPLOAD_ROWS,
    SecureServer,
    forecast_parquet,
    make_keys,
    predict,
    secure_server,
    train,
)
from plastinka_testing.servers import API, post_dataset, shop_files


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureServer]:
    env = {
        "PLASTINKA_MAX_UPLOAD_BYTES": str(MAX_UPLOAD_BYTES),
        "PLASTINKA_MAX_UPLOAD_ROWS": str(MAX_UPLOAD_ROWS),
        # The suite sends hundreds of deliberately wrong keys from one address; test_auth_hardening throttles.
        "PLASTINKA_AUTH_THROTTLE_BURST": "1000000",
    }
    with secure_server(tmp_path_factory.mktemp("security-api"), env) as running:
        running.keys = make_keys(running)
        yield running


@pytest.fixture(scope="session")
def shop(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return shop_files(tmp_path_factory.mktemp("security-shop"), items=20, months=24, seed=11, start=date(2022, 1, 1))


@pytest.fixture(scope="session")
def objects(server: SecureServer, shop: tuple[Path, Path]) -> dict[str, str]:
    """The shop owner's dataset, succeeded training job and model, succeeded prediction job with results,
    a queued job of each kind (to cancel) and a spare key (to revoke)."""
    with server.client(server.keys["analyst"]) as analyst, server.client() as admin:
        created = post_dataset(analyst, shop[0].read_bytes(), shop[0].name, shop[1].read_bytes())
        assert created.status_code == 201, created.text
        ds = created.json()["id"]
        tj, model = train(server, analyst, ds)
        pj = predict(server, analyst, model, forecast_parquet(["a", "b"]))
        tq = analyst.post(f"{API}/training", json={"dataset_id": ds}).json()["job_id"]
        pq = analyst.post(f"{API}/prediction", json={"model_id": model}).json()["job_id"]
        spare = admin.post(f"{API}/keys", json={"name": "spare", "role": "viewer", "owner": "shop"}).json()["id"]
    return {"ds": ds, "tj": tj, "model": model, "pj": pj, "tq": tq, "pq": pq, "key": spare}
