"""The whole product on one machine, through real HTTP: SQLite, local storage, the real train and predict
handlers in local processes. upload -> train -> predict -> results (JSON, CSV, plot) -> accuracy."""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path

import httpx
import polars as pl
import pytest

from plastinka_forecasting.baselines import BASELINES
from plastinka_forecasting.ingest import load_sales_bytes
from plastinka_testing.servers import ADMIN_KEY, api_server, upload, wait_for

pytestmark = pytest.mark.slow


def _before(sales: Path, cutoff: date, out: Path) -> Path:
    """The same export as it looked before ``cutoff`` (rows whose sale date is earlier)."""
    lines = sales.read_text(encoding="utf-8").splitlines()
    kept = [lines[0]]
    for line in lines[1:]:
        sold = datetime.strptime(line.rsplit(";", 1)[1].split(" ")[0], "%d.%m.%Y").date()
        if sold < cutoff:
            kept.append(line)
    out.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return out


def prediction_items(client: httpx.Client, body: dict[str, str]) -> set[str]:
    """The item ids of a finished prediction's forecast."""
    job = client.post("/api/v1/prediction", json=body).json()["job_id"]
    assert wait_for(client, job)["status"] == "succeeded"
    csv = client.get(f"/api/v1/results/{job}", params={"format": "csv"})
    return set(pl.read_csv(io.BytesIO(csv.content), schema_overrides={"item_id": pl.Utf8}).get_column("item_id"))


def test_upload_train_predict_results_accuracy(tmp_path: Path, shop: tuple[Path, Path]) -> None:
    sales, stock = shop
    older = _before(sales, date(2023, 4, 1), tmp_path / "sales-march.csv")
    with api_server(tmp_path / "var") as server, server.client(ADMIN_KEY) as client:
        assert client.get("/docs").status_code == 200
        dataset = upload(client, older)  # the stock snapshot is of June: it would move the end forward
        newer = upload(client, sales, stock)
        assert dataset["report"]["period_end"] < newer["report"]["period_end"]

        job = client.post(
            "/api/v1/training", json={"dataset_id": dataset["id"], "horizon": 3, "time_budget_s": 30}
        ).json()["job_id"]
        status = wait_for(client, job)
        assert status["status"] == "succeeded", (status, server.log_tail())
        kinds = [e["kind"] for e in status["events"]]
        assert kinds[0] == "created" and "dispatched" in kinds and kinds[-1] == "succeeded"
        training = client.get(f"/api/v1/results/{job}").json()
        methods = [row["method"] for row in training["backtest"]]
        assert methods[0] == "lightgbm" and set(BASELINES) <= set(methods), training
        assert all(row["n"] > 0 and row["mae"] >= 0 for row in training["backtest"])
        assert training["metrics"]["backtest"]["windows"] >= 1
        model = client.get(f"/api/v1/models/{training['model_id']}").json()
        assert model["active"] and model["train_end"] is not None and len(model["artifact_sha256"]) == 64

        prediction = client.post("/api/v1/prediction", json={}).json()["job_id"]
        status = wait_for(client, prediction)
        assert status["status"] == "succeeded", (status, server.log_tail())
        page = client.get(f"/api/v1/results/{prediction}", params={"limit": 500}).json()
        assert page["total"] > 0
        periods = sorted({row["period"] for row in page["rows"]})
        assert periods == ["2023-04-01", "2023-05-01", "2023-06-01"]
        for row in page["rows"]:
            q = row["quantiles"]
            values = [q[k] for k in sorted(q, key=lambda name: float(name[2:]))]
            assert values == sorted(values) and values[0] >= 0
        csv = client.get(f"/api/v1/results/{prediction}", params={"format": "csv"})
        assert pl.read_csv(io.BytesIO(csv.content)).height == page["total"]
        plot = client.get(f"/api/v1/results/{prediction}/plot")
        assert plot.status_code == 200 and plot.content.startswith(b"\x89PNG")

        accuracy = client.get(f"/api/v1/results/{prediction}/accuracy", params={"dataset_id": newer["id"]})
        assert accuracy.status_code == 200, accuracy.text
        scored = accuracy.json()
        assert scored["periods"] == periods and scored["overall"]["mae"] >= 0
        # A forecast from the newer export covers every item of its stock snapshot, never-sold ones too.
        stocked = prediction_items(client, {"dataset_id": newer["id"]})
        snapshot = load_sales_bytes(sales.read_bytes(), sales.name, stock.read_bytes(), stock.name).stock
        assert snapshot is not None and set(snapshot.get_column("item_id")) <= stocked

        metrics = client.get("/metrics").text
        assert 'plastinka_store_finished_total{kind="training",status="succeeded"} 1.0' in metrics
        assert "plastinka_model_quality" in metrics
