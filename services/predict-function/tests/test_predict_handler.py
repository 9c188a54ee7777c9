"""The predict handler end to end: train through the train handler, then forecast from its manifest."""

import asyncio
import io
import sys
from pathlib import Path

import polars as pl
import pytest

import plastinka_predict_function
import plastinka_train_function
from plastinka_forecasting.synthetic import generate_shop, write_shop
from plastinka_schemas import ArtifactRef, PredictRequest
from plastinka_storage import job_attempt_prefix
from plastinka_testing.handlers import HandlerContext, put_input, train_request

FUNCTION_DIR = Path(__file__).parents[1]


@pytest.fixture
def store(handler_store):
    return handler_store


@pytest.fixture
def trained(tmp_path, store, callback_sink):
    files = write_shop(generate_shop(20, 18, seed=5), tmp_path / "shop", fmt="csv")
    sales, stock = put_input(store, files.sales), put_input(store, files.stock)
    request = train_request("job-t", sales, callback_sink.url, stock=stock, horizon=3)
    assert plastinka_train_function.handle(request.model_dump_json(), HandlerContext("req-t"))["status"] == "succeeded"
    artifacts = callback_sink.events[-1]["manifest"]["artifacts"]
    return sales, stock, ArtifactRef(**artifacts["model"]), ArtifactRef(**artifacts["model_meta"])


def predict_request(sales, stock, model, meta, url, **overrides):
    return PredictRequest(
        job_id="job-p",
        attempt=1,
        callback_url=url,
        callback_token="callback-token-0123456789",
        output_prefix=job_attempt_prefix("job-p", 1),
        model=model,
        model_meta=meta,
        dataset=sales,
        stock=stock,
        **overrides,
    )


def test_forecast_is_stored_as_parquet_and_reported(store, trained, callback_sink):
    request = predict_request(*trained, callback_sink.url, horizon=2)

    result = plastinka_predict_function.handle(request.model_dump(mode="json"), HandlerContext("req-p"))

    assert result["status"] == "succeeded", callback_sink.events[-1]
    final = callback_sink.events[-1]
    ref = final["manifest"]["artifacts"]["forecast"]
    assert ref["key"].startswith("jobs/job-p/attempt-1/forecast-") and ref["key"].endswith(".parquet")
    forecast = pl.read_parquet(io.BytesIO(asyncio.run(store.get_bytes(ref["key"], expected_sha256=ref["sha256"]))))
    assert forecast.height == final["summary"]["rows"] > 0
    assert forecast.group_by("item_id").len()["len"].max() == 2
    quantiles = sorted(c for c in forecast.columns if c.startswith("q_"))
    assert quantiles
    assert (forecast[quantiles[0]] <= forecast[quantiles[-1]]).all()


def test_a_model_meta_that_is_not_the_archives_fails(store, trained, callback_sink):
    sales, stock, model, _ = trained
    other = ArtifactRef(key=model.key, sha256=model.sha256, size=model.size)  # right object, wrong metadata digest
    request = predict_request(sales, stock, model, other, callback_sink.url)

    assert plastinka_predict_function.handle(request.model_dump_json(), HandlerContext("req-x"))["status"] == "failed"
    assert callback_sink.events[-1]["error_type"] == "ModelMismatchError"


def test_unknown_items_fail_deterministically(store, trained, callback_sink):
    request = predict_request(*trained, callback_sink.url, items=["no-such-record"])
    assert plastinka_predict_function.handle(request.model_dump_json(), HandlerContext("req-y"))["status"] == "failed"
    assert "unknown item" in callback_sink.events[-1]["message"]


def test_importing_index_does_not_import_the_heavy_libraries():
    import subprocess

    code = "import sys, index; print(','.join(m for m in ('polars', 'lightgbm', 'aioboto3') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=FUNCTION_DIR, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_public_names_resolve_once():
    names = plastinka_predict_function.__all__
    assert len(names) == len(set(names))
    assert all(hasattr(plastinka_predict_function, n) for n in names)


def test_with_a_stock_snapshot_every_stocked_item_is_forecast(store, trained, callback_sink, tmp_path):
    """Issue 3: stocked items, including never-sold ones, travel through training into the forecast."""
    from plastinka_forecasting.artifacts import load_model
    from plastinka_forecasting.ingest import load_sales_bytes
    from plastinka_function_runtime import unpack_archive

    sales, stock, model, meta = trained
    data = load_sales_bytes(
        asyncio.run(store.get_bytes(sales.key)), "sales.csv", asyncio.run(store.get_bytes(stock.key)), "stock.csv"
    )
    assert data.stock is not None
    stocked = set(data.stock.get_column("item_id"))
    never_sold = stocked - set(data.sales.get_column("item_id"))
    assert never_sold, "the fixture must stock items that never sold"
    unpack_archive(asyncio.run(store.get_bytes(model.key)), tmp_path / "model")
    assert stocked <= set(load_model(tmp_path / "model").history.get_column("item_id"))

    # Without a newer dataset the API sends the model's own dataset and stock snapshot.
    request = predict_request(sales, stock, model, meta, callback_sink.url)
    result = plastinka_predict_function.handle(request.model_dump_json(), HandlerContext("req-s"))
    assert result["status"] == "succeeded"

    ref = callback_sink.events[-1]["manifest"]["artifacts"]["forecast"]
    forecast = pl.read_parquet(io.BytesIO(asyncio.run(store.get_bytes(ref["key"]))))
    assert stocked <= set(forecast.get_column("item_id"))
    unsold = forecast.filter(pl.col("item_id").is_in(sorted(never_sold)))
    assert unsold.group_by("item_id").len()["len"].to_list() == [3] * len(never_sold)
    assert (unsold["copies"] > 0).all() and (unsold["mean"] >= 0).all()


def test_the_order_list_is_stored_with_the_requested_service_level_and_cover(store, trained, callback_sink):
    request = predict_request(*trained, callback_sink.url, service_level=0.9, cover_months=2)
    result = plastinka_predict_function.handle(request.model_dump_json(), HandlerContext("req-o"))
    assert result["status"] == "succeeded"

    final = callback_sink.events[-1]
    artifacts = final["manifest"]["artifacts"]
    assert artifacts["orders"]["key"].startswith("jobs/job-p/attempt-1/orders-")
    orders, forecast = (
        pl.read_parquet(io.BytesIO(asyncio.run(store.get_bytes(ref["key"], expected_sha256=ref["sha256"]))))
        for ref in (artifacts["orders"], artifacts["forecast"])
    )
    assert orders.height == forecast["item_id"].n_unique()
    assert orders["service_level"].unique().to_list() == [0.9] and orders["cover_months"].unique().to_list() == [2]
    # The model was trained by this version: its totals are calibrated on held-out windows, or (history too
    # short to hold any out) Poisson, as the summary says.
    assert final["summary"]["total_method"] in ("calibrated", "poisson")
    assert final["summary"]["cover_months"] == 2 and final["summary"]["service_level"] == 0.9
    first_two = sorted(forecast["period"].unique())[:2]
    expected = forecast.filter(pl.col("period").is_in(first_two)).group_by("item_id").agg(pl.col("mean").sum())
    joined = orders.join(expected, on="item_id")
    assert (joined["total_mean"] - joined["mean"]).abs().max() < 1e-9
    stock = orders["stock"].fill_null(0)
    assert (orders["suggested_order"] == (orders["total_quantile"].ceil().cast(pl.Int64) - stock).clip(0)).all()
    assert final["summary"]["suggested_copies"] == orders["suggested_order"].sum()
