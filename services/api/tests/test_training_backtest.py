"""The training result serves the train function's backtest artifact: the table and what describes it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from apikit import Api, claim, event, post_event, put_artifact, training_manifest, upload

REPORT = {
    "method": "rolling origin",
    "windows": 2,
    "windows_requested": 3,
    "cutoffs": ["2023-01-01", "2023-04-01"],
    "note": "ran 2 of 3 windows: 4.0s were left before the deadline, a window takes about 9.0s",
    "units": {"mae": "copies per period"},
    "rows": [
        {"method": "lightgbm", "n": 120, "mae": 0.41, "rmsse": 0.7, "spl": 0.3, "coverage": 0.81, "bias": 0.01},
        {"method": "naive", "n": 120, "mae": 0.52, "rmsse": 0.9, "spl": 0.45, "coverage": 0.7, "bias": -0.05},
        {"method": "tsb", "n": 120, "mae": 0.44, "rmsse": 0.75, "spl": 0.31, "coverage": 0.83, "bias": -0.02},
    ],
}


@pytest.fixture
async def dataset_id(api: Api, shop_files: tuple[Path, Path]) -> str:
    response = await upload(api.analyst, *shop_files)
    assert response.status_code == 201
    return str(response.json()["id"])


async def test_the_backtest_artifact_is_the_training_results_table(api: Api, dataset_id: str) -> None:
    job_id = (await api.analyst.post("/api/v1/training", json={"dataset_id": dataset_id})).json()["job_id"]
    await claim(api.ctx)
    manifest = await training_manifest(api.ctx, job_id, 1)
    manifest["artifacts"]["backtest"] = await put_artifact(
        api.ctx, job_id, 1, "backtest.json", json.dumps(REPORT).encode()
    )
    done = await post_event(api.analyst, api.ctx, event(job_id, 1, "succeeded", manifest=manifest))
    assert done.json()["applied"] is True

    result = (await api.viewer.get(f"/api/v1/results/{job_id}")).json()
    assert result["backtest"] == REPORT["rows"]
    described = result["metrics"]["backtest"]
    assert described["windows"] == 2 and described["note"].startswith("ran 2 of 3 windows")
    assert "rows" not in described
    csv = await api.viewer.get(f"/api/v1/results/{job_id}", params={"format": "csv"})
    assert csv.status_code == 200
    assert csv.text.splitlines()[0].split(",")[:3] == ["method", "n", "mae"]
    assert [line.split(",")[0] for line in csv.text.splitlines()[1:]] == ["lightgbm", "naive", "tsb"]


async def test_a_corrupt_backtest_artifact_is_not_accepted(api: Api, dataset_id: str) -> None:
    job_id = (await api.analyst.post("/api/v1/training", json={"dataset_id": dataset_id})).json()["job_id"]
    await claim(api.ctx)
    manifest = await training_manifest(api.ctx, job_id, 1)
    manifest["artifacts"]["backtest"] = await put_artifact(api.ctx, job_id, 1, "backtest.json", b"{}")
    manifest["artifacts"]["backtest"]["sha256"] = "0" * 64
    response = await post_event(api.analyst, api.ctx, event(job_id, 1, "succeeded", manifest=manifest))
    assert response.json()["status"] == "retry_wait"
    assert (await api.viewer.get("/api/v1/models")).json()["total"] == 0
