"""Storage failing while a ``succeeded`` event is verified: the API answers 503 (the function's reporter
retries), changes nothing, and accepts the same event once storage answers again. S3 backend through the
fault-injecting proxy in front of the loopback S3 server."""

from __future__ import annotations

from pathlib import Path

import pytest

from plastinka_testing.app import claim, event, make_settings, post_event, running_api, training_manifest, upload
from plastinka_testing.s3 import S3_ACCESS_KEY, S3_REGION, S3_SECRET_KEY

pytestmark = pytest.mark.s3


async def test_storage_outage_during_verification_is_a_503_then_accepted(
    tmp_path: Path, shop_files: tuple[Path, Path], s3_bucket: str, s3_fault_proxy: object
) -> None:
    proxy = s3_fault_proxy
    settings = make_settings(
        tmp_path,
        storage_backend="s3",
        s3_bucket=s3_bucket,
        s3_endpoint_url=proxy.endpoint_url,  # type: ignore[attr-defined]
        s3_region=S3_REGION,
        s3_access_key_id=S3_ACCESS_KEY,
        s3_secret_access_key=S3_SECRET_KEY,
        engine_enabled=False,
    )
    async with running_api(settings) as api:
        dataset = (await upload(api.analyst, *shop_files)).json()["id"]
        job = (await api.analyst.post("/api/v1/training", json={"dataset_id": dataset})).json()["job_id"]
        await claim(api.ctx)
        manifest = await training_manifest(api.ctx, job, 1)
        body = event(job, 1, "succeeded", manifest=manifest)
        proxy.fail_next(100, match="GET ")  # type: ignore[attr-defined]
        refused = await post_event(api.analyst, api.ctx, body)
        assert refused.status_code == 503 and refused.headers["retry-after"] == "5"
        status = (await api.viewer.get(f"/api/v1/status/{job}")).json()
        assert status["status"] == "dispatched" and status["error"] is None
        assert (await api.viewer.get("/api/v1/models")).json()["total"] == 0
        proxy.reset()  # type: ignore[attr-defined]
        accepted = await post_event(api.analyst, api.ctx, body)
        assert accepted.status_code == 200 and accepted.json()["status"] == "succeeded"
        assert (await api.viewer.get("/api/v1/models")).json()["total"] == 1
