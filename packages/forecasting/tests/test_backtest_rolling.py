"""Rolling-origin backtest and tuning on a small shop: same origins and items for every method."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from plastinka_forecasting.backtest import MODEL_NAME, VARIANT_NAMES, backtest_panel, format_table, score_table
from plastinka_forecasting.baselines import BASELINES
from plastinka_forecasting.model import ModelParams
from plastinka_forecasting.panel import build_panel
from plastinka_forecasting.tuning import tune_params

sys.path.insert(0, str(Path(__file__).parent))
from test_model_train_predict import FAST, small_shop


@pytest.fixture(scope="module")
def panel() -> pl.DataFrame:
    return build_panel(small_shop(items=50, months=30, seed=8), "M")


def test_backtest_scores_model_beside_every_baseline(panel: pl.DataFrame) -> None:
    result = backtest_panel(
        panel, None, frequency="M", horizon=2, windows=3, step=2, params=ModelParams().with_overrides(FAST)
    )
    # Last cut-off: two periods before the end; earlier ones two apart.
    assert result.cutoffs == [date(2022, 12, 1), date(2023, 2, 1), date(2023, 4, 1)]  # data ends 2023-06
    methods = result.table["method"].to_list()
    assert methods[0] == MODEL_NAME and set(BASELINES) <= set(methods)
    ns = set(result.table["n"].to_list())
    assert len(ns) == 1  # every method scored on the same points
    forecast = result.forecasts[MODEL_NAME]
    assert sorted(forecast["cutoff"].unique().to_list()) == result.cutoffs
    # The model never saw the periods it is scored on: every forecast period lies after its cut-off.
    assert (forecast["period"] > forecast["cutoff"]).all()
    text = format_table(result.table)
    assert "RMSSE" in text and "tsb" in text
    # The point-forecast variants reuse the same trained models: same quantiles, another mean.
    ours = result.table.filter(pl.col("method") == MODEL_NAME)
    for name in VARIANT_NAMES.values():
        assert name in methods
        variant = result.table.filter(pl.col("method") == name)
        assert variant["spl"].item() == pytest.approx(ours["spl"].item())
        assert variant["pit80"].item() == ours["pit80"].item()
    # The issue-11 table: the same SPL, RMSSE and PIT; inclusive cover is the evaluation's coverage.
    scores = score_table(result, panel, window=12)
    assert scores["method"].to_list() == methods
    for column in ("spl", "rmsse", "pit80"):
        assert scores[column].to_list() == pytest.approx(result.table[column].to_list())
    assert scores["cover80_inclusive"].to_list() == pytest.approx(result.table["coverage"].to_list())
    assert (scores["cover80_strict"] <= scores["cover80_inclusive"]).all()
    bias = scores["bias_totals"]
    assert ((scores["bias_totals_min"] <= bias) & (bias <= scores["bias_totals_max"])).all()
    prices = panel.select("item_id").unique().with_columns(pl.lit(7.0).alias("price"))
    same = score_table(result, panel, window=12, price=prices)  # one price for all: the same weights as units
    assert same["wrmsse"].to_list() == pytest.approx(scores["wrmsse"].to_list())
    assert scores["wrmsse"].is_finite().all()


def test_backtest_scores_calibration_by_the_pit_without_changing_the_forecasts(panel: pl.DataFrame) -> None:
    params = ModelParams().with_overrides(FAST)
    args = {"frequency": "M", "horizon": 2, "windows": 2, "params": params, "with_expected": False}
    with_pit = backtest_panel(panel, None, **args)
    without = backtest_panel(panel, None, pit=False, **args)
    assert set(with_pit.pit) == {MODEL_NAME, *BASELINES}
    for name, summary in with_pit.pit.items():
        # Every scored point counts once; the PIT histogram is a distribution over [0, 1].
        assert summary.n == with_pit.evaluations[name].overall["n"]
        assert sum(summary.histogram) == pytest.approx(1.0)
        assert 0.0 < summary.coverage <= 1.0
    assert with_pit.table["pit80"].to_list() == pytest.approx([with_pit.pit[m].coverage for m in with_pit.pit])
    assert without.table["pit80"].is_null().all() and without.pit == {}
    # The fine grid is only scored: forecasts keep the requested levels, with the same values and metrics.
    for name in (MODEL_NAME, *BASELINES):
        assert with_pit.forecasts[name].columns == without.forecasts[name].columns
        assert with_pit.forecasts[name].equals(without.forecasts[name])
    for column in without.table.drop("method", "pit80").columns:  # polars may sum in another order: approx
        assert with_pit.table[column].to_list() == pytest.approx(without.table[column].to_list(), rel=1e-12)
    # Whole-number sales with many zeros: plain coverage overstates the interval, the PIT does not.
    ours = with_pit.table.filter(pl.col("method") == MODEL_NAME)
    assert ours["pit80"].item() < ours["coverage"].item()


def test_backtest_needs_enough_history(panel: pl.DataFrame) -> None:
    with pytest.raises(ValueError, match="too few"):
        backtest_panel(panel, None, frequency="M", horizon=6, windows=6)


def test_tuning_keeps_to_its_budget_and_starts_from_defaults(panel: pl.DataFrame) -> None:
    base = ModelParams().with_overrides(FAST)
    result = tune_params(panel, None, frequency="M", horizon=2, base=base, time_budget_s=0.001)
    assert len(result.trials) == 1
    assert result.trials[0]["overrides"] == {}
    assert result.params == base
    assert result.summary()["best"]["spl"] > 0


def test_a_deadline_drops_the_oldest_windows_and_the_row_cap_the_pit(panel: pl.DataFrame) -> None:
    left = [600.0, 600.0, 0.0]
    result = backtest_panel(
        panel,
        None,
        frequency="M",
        horizon=2,
        windows=3,
        step=2,
        params=ModelParams().with_overrides(FAST),
        with_expected=False,
        time_left=lambda: left.pop(0),
        max_pit_rows=panel["item_id"].n_unique() * 2 - 1,
    )
    # The latest two cut-offs ran (scored in time order), the oldest did not start, and the note says why.
    assert result.cutoffs == [date(2023, 2, 1), date(2023, 4, 1)]
    assert result.note is not None and result.note.startswith("ran 2 of 3 windows") and "deadline" in result.note
    assert sorted(result.forecasts[MODEL_NAME]["cutoff"].unique().to_list()) == result.cutoffs
    # One forecast row over the cap: no PIT grid, the rest of the table is scored.
    assert result.pit == {} and result.table["pit80"].null_count() == result.table.height
    assert result.table["spl"].null_count() == 0
