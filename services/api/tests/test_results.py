"""Results: a prediction's forecast as pages, files, a signed download and plots; a training job's backtest
artifact as its results table."""

from __future__ import annotations

import io
import json

import polars as pl

from plastinka_testing.app import (
    Api,
    claim,
    event,
    post_event,
    put_artifact,
    run_training,
    succeed_prediction,
    training_manifest,
)


async def test_prediction_results_pages_files_download_and_plot(api: Api, dataset_id: str) -> None:
    _, model_id = await run_training(api, dataset_id)
    no_model = await api.other.post("/api/v1/prediction", json={})
    assert no_model.status_code == 409
    too_far = await api.analyst.post("/api/v1/prediction", json={"horizon": 9})
    assert too_far.status_code == 400
    response = await api.analyst.post("/api/v1/prediction", json={})  # the active model
    assert response.status_code == 202
    job = response.json()["job_id"]
    assert (await api.viewer.get(f"/api/v1/prediction/{job}")).json()["model_id"] == model_id
    assert (await api.viewer.get(f"/api/v1/results/{job}")).status_code == 409
    items = [f"item-{i}" for i in range(5)] + ['=HYPERLINK("http://evil")', "@SUM(1)"]
    done = await succeed_prediction(api, job, items, summary={"rows": len(items) * 3})
    assert done.json()["status"] == "succeeded"

    page = (await api.viewer.get(f"/api/v1/results/{job}", params={"limit": 4, "offset": 2})).json()
    assert page["total"] == len(items) * 3 and len(page["rows"]) == 4 and page["offset"] == 2
    assert set(page["rows"][0]["quantiles"]) == {"q_0.05", "q_0.25", "q_0.5", "q_0.75", "q_0.95"}
    one = (await api.viewer.get(f"/api/v1/results/{job}", params={"item_id": "item-3"})).json()
    assert one["total"] == 3 and {r["item_id"] for r in one["rows"]} == {"item-3"}

    csv = await api.viewer.get(f"/api/v1/results/{job}", params={"format": "csv"})
    assert csv.headers["content-type"].startswith("text/csv")
    assert "'=HYPERLINK" in csv.text and "'@SUM(1)" in csv.text
    assert "\n=HYPERLINK" not in csv.text
    xlsx = await api.viewer.get(f"/api/v1/results/{job}", params={"format": "xlsx"})
    cells = pl.read_excel(io.BytesIO(xlsx.content), engine="calamine").get_column("item_id").to_list()
    assert '\'=HYPERLINK("http://evil")' in cells and not any(str(c).startswith("=") for c in cells)
    parquet = await api.viewer.get(f"/api/v1/results/{job}", params={"format": "parquet"})
    assert pl.read_parquet(io.BytesIO(parquet.content)).height == len(items) * 3
    assert (await api.viewer.get(f"/api/v1/results/{job}", params={"format": "exe"})).status_code == 422

    link = (await api.viewer.get(f"/api/v1/results/{job}/download")).json()
    assert link["url"].startswith(api.ctx.settings.resolved_public_url + "/files/")
    path = link["url"].split("://", 1)[1].split("/", 1)[1]
    fetched = await api.viewer.get("/" + path)
    assert fetched.status_code == 200 and len(fetched.content) == link["size"]
    tampered = await api.viewer.get("/" + path.replace("signature=", "signature=0"))
    assert tampered.status_code == 403
    assert (await api.other.get(f"/api/v1/results/{job}/download")).status_code == 404

    total = await api.viewer.get(f"/api/v1/results/{job}/plot")
    assert total.status_code == 200 and total.content.startswith(b"\x89PNG")
    single = await api.viewer.get(f"/api/v1/results/{job}/plot", params={"item_id": "item-1"})
    assert single.status_code == 200 and single.headers["content-type"] == "image/png"
    assert (await api.viewer.get(f"/api/v1/results/{job}/plot", params={"item_id": "nope"})).status_code == 404


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
