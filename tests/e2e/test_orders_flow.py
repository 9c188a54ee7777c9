"""The order list through the whole product on one machine: real HTTP, the real train and predict handlers in
local processes, the shop's own files. upload -> train -> predict (p = 0.9, 2 months) -> /records -> the
Russian order list as XLSX and CSV, and the training backtest's stock-out rates."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import polars as pl
import pytest

from plastinka_testing.servers import ADMIN_KEY, api_server, upload, wait_for

pytestmark = pytest.mark.slow


def test_a_shop_goes_from_its_files_to_a_russian_order_list(tmp_path: Path, shop: tuple[Path, Path]) -> None:
    sales, stock = shop
    with api_server(tmp_path / "var") as server, server.client(ADMIN_KEY) as client:
        dataset = upload(client, sales, stock)
        training = client.post(
            "/api/v1/training", json={"dataset_id": dataset["id"], "horizon": 3, "time_budget_s": 30}
        ).json()["job_id"]
        assert wait_for(client, training)["status"] == "succeeded", server.log_tail()
        metrics = client.get(f"/api/v1/results/{training}").json()["metrics"]
        stockouts = metrics["order_stockouts"]
        assert [row["service_level"] for row in stockouts["rows"]] == [0.5, 0.8, 0.9, 0.95]
        assert all(0 <= row["stockout_rate"] <= 1 for row in stockouts["rows"])

        refused = client.post("/api/v1/prediction", json={"cover_months": 4})
        assert refused.status_code == 422, refused.text
        prediction = client.post("/api/v1/prediction", json={"service_level": 0.9, "cover_months": 2}).json()
        assert wait_for(client, prediction["job_id"])["status"] == "succeeded", server.log_tail()
        job = prediction["job_id"]

        page = client.get(f"/api/v1/results/{job}/records", params={"limit": 500}).json()
        assert page["service_level"] == 0.9 and page["cover_months"] == 2 and len(page["periods"]) == 3
        assert page["total"] == len(page["rows"]) > 0
        for row in page["rows"]:
            assert len(row["mean"]) == len(row["low"]) == len(row["high"]) == 3
            assert row["total_mean"] == pytest.approx(sum(row["mean"][:2]), abs=0.02)
            assert row["suggested_order"] == max(0, math.ceil(row["total_quantile"]) - (row["stock"] or 0))
        named = next(row for row in page["rows"] if row["artist"])
        found = client.get(f"/api/v1/results/{job}/records", params={"q": named["artist"].upper()}).json()
        assert named["item_id"] in {row["item_id"] for row in found["rows"]}

        xlsx = client.get(f"/api/v1/results/{job}/orders", params={"format": "xlsx", "lang": "ru"})
        sheet = pl.read_excel(io.BytesIO(xlsx.content), engine="calamine", infer_schema_length=0)
        assert sheet.height == page["total"] and "Рекомендуемый заказ" in sheet.columns
        assert set(sheet["Штрихкод"].to_list()) == {row["barcode"] for row in page["rows"]}
        download = client.get(f"/api/v1/results/{job}/orders", params={"format": "csv", "lang": "ru"})
        assert download.content.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(download.content[3:].decode()), delimiter=";"))
        assert rows[0][0] == "Штрихкод" and len(rows) == page["total"] + 1
