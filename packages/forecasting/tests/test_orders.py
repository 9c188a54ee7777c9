"""The order list: the quantile of the N-period total (not a sum of monthly quantiles), the suggested order
formula, the Poisson fallback of older models, and the backtest's stock-out rate on the synthetic shop."""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from plastinka_forecasting.artifacts import META_FILE, load_model, save_model
from plastinka_forecasting.backtest import backtest_panel
from plastinka_forecasting.frames import SalesData, ValidationReport
from plastinka_forecasting.model import ModelParams, fit_panel, predict_panel
from plastinka_forecasting.orders import order_list, stockout_summary
from plastinka_forecasting.panel import build_panel
from plastinka_forecasting.synthetic import generate_shop
from plastinka_forecasting.totals import TotalCalibration, window_totals
from plastinka_schemas import Frequency


def _held_out(rng: np.random.Generator, windows: int, horizon: int) -> tuple[np.ndarray, ...]:
    """Held-out rows of whole windows: Poisson months around a known mean, shuffled like real rows."""
    mean = np.repeat(rng.gamma(2.0, 1.5, windows), horizon)
    actual = rng.poisson(mean).astype(np.float64)
    item = np.repeat(np.arange(windows) // 3, horizon)
    origin = np.repeat(np.arange(windows) % 3, horizon)
    h = np.tile(np.arange(1, horizon + 1), windows)
    order = rng.permutation(len(mean))
    return mean[order], actual[order], item[order], origin[order], h[order]


def test_window_totals_sum_the_first_n_steps_of_each_window() -> None:
    mean = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    actual = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    item = np.array([0, 0, 0, 1, 1])
    origin = np.array([5, 5, 5, 5, 5])
    h = np.array([3, 1, 2, 1, 3])  # item 1 misses step 2: only its 1-step total exists
    totals = window_totals(mean, actual, item, origin, h, 3)
    assert sorted(totals[1][0].tolist()) == [2.0, 8.0]
    assert totals[2][0].tolist() == [6.0] and totals[2][1].tolist() == [3.0]
    assert totals[3][0].tolist() == [7.0] and totals[3][1].tolist() == [3.0]


def test_the_quantile_of_the_total_is_not_the_sum_of_monthly_quantiles() -> None:
    rng = np.random.default_rng(0)
    horizon = 3
    mean, actual, item, origin, h = _held_out(rng, 6000, horizon)
    totals = TotalCalibration.fit(mean, actual, item, origin, h, horizon)
    monthly_mean = np.full(2000, 2.0)
    monthly_q80 = np.quantile(rng.poisson(2.0, (200_000,)), 0.8, method="inverted_cdf")
    total_q80 = totals.quantile(monthly_mean * horizon, horizon, 0.8)
    # The months' ups and downs partly cancel: the total's 80% quantile is well below 3 monthly ones.
    assert np.all(total_q80 < horizon * monthly_q80)
    # And it covers the total as promised: fresh Poisson(6) totals fall at or under it at least 80% of the time.
    fresh = rng.poisson(6.0, 20_000)
    covered = float(np.mean(fresh <= total_q80[0]))
    assert 0.8 <= covered < 0.8 + 0.15
    # Quantiles are whole copies and grow with the level.
    levels = [totals.quantile(np.array([6.0]), horizon, p)[0] for p in (0.5, 0.8, 0.9, 0.95)]
    assert levels == sorted(levels) and all(float(v).is_integer() for v in levels)
    assert TotalCalibration.from_json(totals.to_json()) == totals


def _forecast(means: dict[str, list[float]], stock: dict[str, int | None] | None = None) -> pl.DataFrame:
    periods = [date(2025, m, 1) for m in (1, 2, 3)]
    rows = [
        {"item_id": item, "period": periods[i], "mean": value}
        for item, values in means.items()
        for i, value in enumerate(values)
    ]
    frame = pl.DataFrame(rows)
    if stock is not None:
        copies = pl.DataFrame(
            {"item_id": list(stock), "copies": list(stock.values())}, schema_overrides={"copies": pl.Int64}
        )
        frame = frame.join(copies, on="item_id", how="left")
    return frame


def test_the_suggested_order_is_ceil_of_the_quantile_minus_stock_never_negative() -> None:
    forecast = _forecast(
        {"a": [2.0, 2.0, 2.0], "b": [0.5, 0.5, 0.5], "c": [10.0, 10.0, 10.0], "d": [1.0, 1.0, 1.0]},
        {"a": 2, "b": None, "c": 100, "d": 0},
    )
    orders = order_list(forecast, None, service_level=0.9, cover=2)
    assert orders.get_column("total_method").unique().to_list() == ["poisson"]
    rows = {r["item_id"]: r for r in orders.iter_rows(named=True)}
    assert rows["a"]["total_mean"] == pytest.approx(4.0)
    for row in rows.values():
        stock = row["stock"] or 0
        assert row["suggested_order"] == max(0, math.ceil(row["total_quantile"]) - stock)
        assert row["cover_months"] == 2 and row["service_level"] == 0.9
    assert rows["b"]["stock"] is None and rows["c"]["suggested_order"] == 0
    # Poisson(4)'s 90% quantile is 7: a needs 7 copies and holds 2.
    assert rows["a"]["total_quantile"] == 7.0 and rows["a"]["suggested_order"] == 5
    with pytest.raises(ValueError, match="cover_months 4"):
        order_list(forecast, None, cover=4)
    with pytest.raises(ValueError, match="service_level"):
        order_list(forecast, None, service_level=1.0)
    assert order_list(forecast.clear(), None).is_empty()


@pytest.fixture(scope="module")
def shop_backtest() -> pl.DataFrame:
    shop = generate_shop(items=1000, months=36, seed=1)
    sales = SalesData(shop.truth, pl.DataFrame({"item_id": shop.items["item_id"]}), None, ValidationReport())
    panel = build_panel(sales, Frequency.MONTH)
    result = backtest_panel(
        panel, None, frequency=Frequency.MONTH, horizon=3, windows=3, baselines=(), with_expected=False, pit=False
    )
    assert result.orders is not None
    return result.orders


def test_the_backtest_stock_out_rate_is_about_one_minus_p_on_the_synthetic_shop(shop_backtest: pl.DataFrame) -> None:
    summary = stockout_summary(shop_backtest)
    assert summary["total_method"] == "calibrated" and summary["cover_months"] == 3
    for row in summary["rows"]:
        n, target, rate, attainable = row["suggestions"], row["target"], row["stockout_rate"], row["attainable"]
        assert n >= 2000
        # Each rate is a share of n suggestions: three binomial standard errors bound its noise (about 0.02
        # here; records repeat over the three cut-offs, so this is a little generous, not tight).
        noise = 3 * math.sqrt(target * (1 - target) / n)
        # Never out of stock more often than promised, beyond noise.
        assert rate <= target + noise, row
        # Whole copies cannot order a fraction of the chance of one more sale: the lowest rate they allow is
        # what the same rule gave on the calibration windows. Out of sample it lands there, within noise.
        assert abs(rate - attainable) <= noise, row
        assert attainable <= target + 1e-9
    by_level = {row["service_level"]: row["stockout_rate"] for row in summary["rows"]}
    assert by_level[0.5] > by_level[0.8] > by_level[0.9] > by_level[0.95]
    # At the default p = 0.8 the rate is near 0.2 (whole copies keep it a little under).
    assert 0.1 <= by_level[0.8] <= 0.2 + 0.025


def test_the_totals_table_is_saved_and_older_models_fall_back_to_poisson(tmp_path: Path) -> None:
    shop = generate_shop(items=120, months=24, seed=2)
    sales = SalesData(shop.truth, pl.DataFrame({"item_id": shop.items["item_id"]}), None, ValidationReport())
    params = ModelParams(max_rounds=20, num_leaves=7, min_data_in_leaf=20, combine=False)
    model = fit_panel(build_panel(sales, Frequency.MONTH), None, frequency=Frequency.MONTH, horizon=3, params=params)
    assert model.totals is not None and model.totals.horizon == 3
    save_model(model, tmp_path)
    assert load_model(tmp_path).totals == model.totals
    forecast = predict_panel(model, model.history, None)
    assert order_list(forecast, model.totals)["total_method"].unique().to_list() == ["calibrated"]

    meta = json.loads((tmp_path / META_FILE).read_text(encoding="utf-8"))
    del meta["totals"]  # as written before the order list existed
    (tmp_path / META_FILE).write_text(json.dumps(meta), encoding="utf-8")
    older = load_model(tmp_path)
    assert older.totals is None
    orders = order_list(predict_panel(older, older.history, None), older.totals)
    assert orders["total_method"].unique().to_list() == ["poisson"] and orders.height == forecast["item_id"].n_unique()
