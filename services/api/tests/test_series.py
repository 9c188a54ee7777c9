"""``/results/{job}/series``: the web page's chart data, a record titled "Исполнитель — Альбом" or the shop's
total, history beside the forecast's median and likely range."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from plastinka_api.results.series import series, title
from plastinka_forecasting.ingest import load_sales_bytes
from plastinka_testing.app import Api, claim, event, forecast_frame, post_event, prediction_manifest, run_training


def _history() -> pl.DataFrame:
    periods = [date(2023, m, 1) for m in (10, 11, 12)]
    return pl.DataFrame(
        {
            "item_id": ["a"] * 3 + ["never"] * 3,
            "period": periods * 2,
            "y": [2.0, 0.0, 3.0, 0.0, 0.0, 0.0],
        }
    )


def test_a_record_chart_has_its_history_and_its_band() -> None:
    body = series(_history(), forecast_frame(["a", "never"]), "a", "Pink Floyd — The Wall", "M")
    assert body["title"] == "Pink Floyd — The Wall" and body["item_id"] == "a" and body["frequency"] == "M"
    assert [p["quantity"] for p in body["history"]] == [2.0, 0.0, 3.0]
    first = body["forecast"][0]
    # No q10/q90 in this model: the lowest and highest quantiles it has make the range.
    assert first == {"period": "2024-01-01", "mean": 1.5, "median": 1.0, "low": 0.0, "high": 4.0}


def test_q10_and_q90_are_the_range_when_the_model_has_them() -> None:
    frame = forecast_frame(["a"]).with_columns(pl.lit(0.5).alias("q_0.1"), pl.lit(3.0).alias("q_0.9"))
    point = series(_history(), frame, "a", "a", "M")["forecast"][0]
    assert (point["low"], point["high"]) == (0.5, 3.0)


def test_the_total_sums_history_and_means() -> None:
    body = series(_history(), forecast_frame(["a", "never"]), None, "Все записи", "M")
    assert body["item_id"] is None and [p["quantity"] for p in body["history"]] == [2.0, 0.0, 3.0]
    assert all(p["mean"] == 3.0 and p["low"] <= p["median"] <= p["high"] for p in body["forecast"])


def test_titles_say_artist_and_album_and_fall_back_to_what_is_known() -> None:
    names = {"1": ("Кино", "Группа крови"), "2": (None, "Альбом"), "3": (" ", None)}
    assert title("1", names) == "Кино — Группа крови"
    assert title("2", names) == "Альбом"
    assert title("3", names) == "3" and title("unknown", names) == "unknown"
    assert title(None, names) == "Все записи"


async def test_series_endpoint(api: Api, dataset_id: str, shop_files: tuple[Path, Path]) -> None:
    sales, stock = shop_files
    attributes = load_sales_bytes(sales.read_bytes(), sales.name, stock.read_bytes(), stock.name).attributes
    record = attributes.filter(pl.col("artist").is_not_null() & pl.col("album").is_not_null()).row(0, named=True)
    training, _ = await run_training(api, dataset_id)
    job = (await api.analyst.post("/api/v1/prediction", json={})).json()["job_id"]
    await claim(api.ctx)
    manifest = await prediction_manifest(api.ctx, job, 1, forecast_frame([record["item_id"]], date(2024, 1, 1)))
    assert (await post_event(api.analyst, api.ctx, event(job, 1, "succeeded", manifest=manifest))).status_code == 200

    one = await api.viewer.get(f"/api/v1/results/{job}/series", params={"item_id": record["item_id"]})
    assert one.status_code == 200, one.text
    body = one.json()
    assert body["title"] == f"{record['artist']} — {record['album']}"
    assert body["history"] and [p["period"] for p in body["forecast"]] == ["2024-01-01", "2024-02-01", "2024-03-01"]
    total = (await api.viewer.get(f"/api/v1/results/{job}/series")).json()
    assert total["title"] == "Все записи" and total["item_id"] is None
    assert sum(p["quantity"] for p in total["history"]) >= sum(p["quantity"] for p in body["history"])

    missing = await api.viewer.get(f"/api/v1/results/{job}/series", params={"item_id": "no-such-record"})
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    assert (await api.viewer.get(f"/api/v1/results/{training}/series")).status_code == 400
    assert (await api.other.get(f"/api/v1/results/{job}/series")).status_code == 404
