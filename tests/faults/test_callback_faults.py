"""Fault matrix, callbacks and artifacts: lost callbacks (reconciled from the status object), duplicated,
reordered and replayed-after-the-end events; an artifact corrupted after upload. SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from plastinka_testing.faults import env_for, ledger, local_objects, settle, summary, train
from plastinka_testing.servers import ADMIN_KEY, api_server, upload

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("mode", ["drop", "duplicate", "reorder", "replay"])
def test_callbacks_lost_duplicated_reordered_replayed(
    tmp_path: Path, shop: tuple[Path, Path], backend: dict[str, str], mode: str, matrix: dict[str, Any]
) -> None:
    matrix.update(case=f"callbacks {mode}", backend=backend["name"])
    data = tmp_path / "var"
    env = env_for(backend, tmp_path, PLASTINKA_TEST_CALLBACKS=mode)
    with api_server(data, env) as server, server.client(ADMIN_KEY) as client:
        dataset = upload(client, *shop)["id"]
        jobs = [train(client, dataset) for _ in range(2)]
        final = settle(client, jobs, local_objects(data))
        assert all(s["status"] == "succeeded" and s["attempt"] == 1 for s in final.values()), server.log_tail()
        for status in final.values():
            kinds = [e["kind"] for e in status["events"]]
            assert kinds.count("succeeded") == 1, kinds  # applied once, whatever arrived
            assert kinds[-1] == "succeeded", kinds  # nothing after the end changed the job
        models = client.get("/api/v1/models", params={"limit": 100}).json()["items"]
        assert sorted(m["training_job_id"] for m in models) == sorted(jobs)  # one model per job
    assert sorted(ledger(tmp_path)) == sorted((job, 1) for job in jobs)
    matrix["outcome"] = summary(final) + ("; reconciled from status object" if mode == "drop" else "")


def test_artifact_corrupted_after_upload(
    tmp_path: Path, shop: tuple[Path, Path], backend: dict[str, str], matrix: dict[str, Any]
) -> None:
    matrix.update(case="artifact corrupted after upload", backend=backend["name"])
    data = tmp_path / "var"
    with (
        api_server(data, env_for(backend, tmp_path, PLASTINKA_TEST_CORRUPT_ATTEMPT="1")) as server,
        server.client(ADMIN_KEY) as client,
    ):
        dataset = upload(client, *shop)["id"]
        job = train(client, dataset)
        final = settle(client, [job], local_objects(data))
        status = final[job]
        assert status["status"] == "succeeded" and status["attempt"] == 2, (status, server.log_tail())
        retried = [e["message"] or "" for e in status["events"] if e["kind"] == "retry_wait"]
        assert retried and "corrupt" in retried[0]
    matrix["outcome"] = summary(final) + "; attempt 1 refused (checksum mismatch)"
