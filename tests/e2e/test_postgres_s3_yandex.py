"""The cloud shape on loopback: PostgreSQL, the S3 server (moto), and the Yandex invoker against the gRPC
fakes (IAM, FunctionService) and the functions emulator, which runs the real handlers."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest

from plastinka_testing.s3 import S3_ACCESS_KEY, S3_REGION, S3_SECRET_KEY
from plastinka_testing.servers import ADMIN_KEY, api_server, upload, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.s3, pytest.mark.slow]

SERVICES = Path(__file__).resolve().parents[2] / "services"


def test_train_and_predict_through_the_yandex_invoker(
    tmp_path: Path,
    postgres_url: str,
    s3_server: str,
    s3_bucket: str,
    yandex_cloud: object,
    functions_emulator: object,
    shop: tuple[Path, Path],
) -> None:
    cloud, emulator = yandex_cloud, functions_emulator
    storage = {
        "PLASTINKA_STORAGE_BACKEND": "s3",
        "PLASTINKA_S3_BUCKET": s3_bucket,
        "PLASTINKA_S3_ENDPOINT_URL": s3_server,
        "PLASTINKA_S3_REGION": S3_REGION,
        "PLASTINKA_S3_ACCESS_KEY_ID": S3_ACCESS_KEY,
        "PLASTINKA_S3_SECRET_ACCESS_KEY": S3_SECRET_KEY,
    }
    emulator.env = {**os.environ, **storage}  # type: ignore[attr-defined]
    for function_id, directory in (("d4etrain", "train-function"), ("d4epredict", "predict-function")):
        url = emulator.register(function_id, SERVICES / directory)  # type: ignore[attr-defined]
        cloud.add_function(function_id, url, {"$latest": "v1"})  # type: ignore[attr-defined]
    key_file = tmp_path / "sa-key.json"
    key_file.write_text(json.dumps(cloud.new_service_account_key()))  # type: ignore[attr-defined]
    roots = tmp_path / "roots.pem"
    roots.write_bytes(cloud.root_certificates)  # type: ignore[attr-defined]
    env = {
        **storage,
        "PLASTINKA_DATABASE_URL": postgres_url,
        "PLASTINKA_INVOKER": "yandex",
        "PLASTINKA_YANDEX_TRAIN_FUNCTION_ID": "d4etrain",
        "PLASTINKA_YANDEX_PREDICT_FUNCTION_ID": "d4epredict",
        "PLASTINKA_YANDEX_SA_KEY_FILE": str(key_file),
        "PLASTINKA_YANDEX_API_ENDPOINT": cloud.address,  # type: ignore[attr-defined]
        "PLASTINKA_YANDEX_ROOT_CERTIFICATES_FILE": str(roots),
    }
    with api_server(tmp_path / "var", env) as server, server.client(ADMIN_KEY) as client:
        ready = client.get("/ready").json()
        assert ready["checks"] == {"database": "ok", "storage": "ok"}
        dataset = upload(client, *shop)
        job = client.post(
            "/api/v1/training", json={"dataset_id": dataset["id"], "horizon": 2, "time_budget_s": 20}
        ).json()["job_id"]
        status = wait_for(client, job)
        assert status["status"] == "succeeded", (status, server.log_tail())
        prediction = client.post("/api/v1/prediction", json={}).json()["job_id"]
        status = wait_for(client, prediction)
        assert status["status"] == "succeeded", (status, server.log_tail())
        page = client.get(f"/api/v1/results/{prediction}").json()
        assert page["total"] > 0
        link = client.get(f"/api/v1/results/{prediction}/download").json()
        assert link["url"].startswith(s3_server)
        fetched = httpx.get(link["url"], timeout=30)
        assert fetched.status_code == 200 and len(fetched.content) == link["size"]
    invoked = {request.function_id for request in emulator.requests}  # type: ignore[attr-defined]
    assert invoked == {"d4etrain", "d4epredict"}
