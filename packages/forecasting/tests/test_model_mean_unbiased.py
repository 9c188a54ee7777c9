"""The default ``mean`` is the expected demand: in a backtest window its total tracks the total of actuals."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from plastinka_forecasting.model import ModelParams, fit_panel, predict_panel
from plastinka_forecasting.panel import build_panel, truncate_panel

sys.path.insert(0, str(Path(__file__).parent))
from test_model_train_predict import FAST, small_shop

CUTOFF = date(2022, 12, 1)  # the shop's data run 2021-01 .. 2023-12; horizon 3 ends 2023-03


@pytest.fixture(scope="module")
def window() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    shop = small_shop(items=400, months=36, seed=11)
    panel = build_panel(shop, "M")
    history = truncate_panel(panel, CUTOFF)
    actual = panel.filter((pl.col("period") > CUTOFF) & (pl.col("period") <= date(2023, 3, 1)))
    return history, actual, shop.attributes


def _total_ratio(point: str, window: tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]) -> float:
    history, actual, attributes = window
    params = ModelParams().with_overrides({**FAST, "point": point})
    model = fit_panel(history, attributes, frequency="M", horizon=3, params=params)
    forecast = predict_panel(model, history, attributes).join(actual, on=["item_id", "period"])
    assert forecast.height == actual.filter(pl.col("item_id").is_in(history["item_id"].implode())).height
    return float(forecast["mean"].sum() / forecast["y"].sum())


def test_default_mean_total_tracks_actual_total() -> None:
    # Issue 11's criterion: the bias of totals averaged over origins stays within 10%. Four cut-offs a quarter
    # apart (~650 copies sold in each window: Poisson noise on one total is about 4%).
    assert ModelParams().point == "mean"
    shop = small_shop(items=400, months=36, seed=11)
    panel = build_panel(shop, "M")
    ratios = []
    for cutoff in (date(2022, 9, 1), date(2022, 12, 1), date(2023, 3, 1), date(2023, 6, 1)):
        history = truncate_panel(panel, cutoff)
        last = panel.filter(pl.col("period") > cutoff)["period"].unique().sort()[2]
        actual = panel.filter((pl.col("period") > cutoff) & (pl.col("period") <= last))
        ratios.append(_total_ratio("mean", (history, actual, shop.attributes)))
    assert 0.9 < sum(ratios) / len(ratios) < 1.1, ratios


def test_other_points_are_opt_in(window: tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]) -> None:
    # The RMSSE point under-states totals: it is a score-optimal point, not a mean.
    assert _total_ratio("rmsse", window) < 0.85 * _total_ratio("mean", window)


def test_unknown_point_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown point forecast"):
        ModelParams().with_overrides({"point": "median"})
