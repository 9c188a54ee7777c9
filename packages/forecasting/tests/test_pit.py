"""PIT calibration: exact on hand-made rows, near nominal for calibrated count and continuous forecasts."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from scipy import stats

from plastinka_forecasting.frames import quantile_column
from plastinka_forecasting.pit import PIT_LEVELS, PitSummary, pit_bounds, pit_summary, summarise_pit

PERIOD = dt.date(2024, 1, 1)


def frame(quantiles: np.ndarray, levels: tuple[float, ...], actual: np.ndarray) -> tuple[pl.DataFrame, pl.DataFrame]:
    ids = [f"i{i}" for i in range(actual.size)]
    forecast = pl.DataFrame(
        {
            "item_id": ids,
            "period": [PERIOD] * actual.size,
            "mean": quantiles.mean(axis=1),
            **{quantile_column(level): quantiles[:, k] for k, level in enumerate(levels)},
        }
    )
    panel = pl.DataFrame({"item_id": ids, "period": [PERIOD] * actual.size, "y": actual.astype(np.float64)})
    return forecast, panel


def raw_coverage(forecast: pl.DataFrame, panel: pl.DataFrame) -> float:
    joined = forecast.join(panel, on=["item_id", "period"])
    inside = (joined["y"] >= joined["q_0.1"]) & (joined["y"] <= joined["q_0.9"])
    return float(inside.mean() or 0.0)


def test_bounds_and_shares_on_hand_made_rows() -> None:
    levels = (0.25, 0.5, 0.75)
    quantiles = np.array([[0.0, 0.0, 1.0], [0.0, 0.0, 1.0], [0.0, 1.0, 2.0], [1.0, 1.0, 1.0]])
    actual = np.array([0, 1, 5, 0])
    low, high = pit_bounds(*frame(quantiles, levels, actual))
    # y=0 with P(Y<=0) read as 0.5; y=1 above the 0.5 level, at the 0.75 one; 5 above all; 0 below all.
    assert low.tolist() == [0.0, 0.5, 1.0, 0.0]
    assert high.tolist() == [0.5, 1.0, 1.0, 0.0]
    summary = summarise_pit(low, high, interval=(0.1, 0.9), bins=4)
    # shares inside [0.1, 0.9]: 0.4/0.5, 0.4/0.5, point at 1 (out), point at 0 (out)
    assert summary.coverage == pytest.approx((0.8 + 0.8) / 4)
    # bins of 0.25: row 1 halves over bins 1-2, row 2 over bins 3-4, the point masses in bins 4 and 1
    assert summary.histogram == pytest.approx((1.5 / 4, 0.5 / 4, 0.5 / 4, 1.5 / 4))
    assert sum(summary.histogram) == pytest.approx(1.0)


def test_calibrated_count_forecasts_score_the_nominal_coverage_that_raw_coverage_overstates() -> None:
    rng = np.random.default_rng(7)
    mu = rng.uniform(0.05, 3.0, 20_000)
    actual = rng.poisson(mu)
    quantiles = stats.poisson.ppf(np.array(PIT_LEVELS)[None, :], mu[:, None])
    forecast, panel = frame(quantiles, PIT_LEVELS, actual)
    summary = pit_summary(forecast, panel)
    assert summary.n == 20_000
    assert summary.coverage == pytest.approx(0.80, abs=0.015)
    assert all(share == pytest.approx(0.1, abs=0.015) for share in summary.histogram)
    assert raw_coverage(forecast, panel) > 0.88


def test_forecasts_that_are_too_high_pile_the_pit_up_at_the_bottom() -> None:
    rng = np.random.default_rng(8)
    mu = rng.uniform(0.5, 3.0, 10_000)
    actual = rng.poisson(mu)
    quantiles = stats.poisson.ppf(np.array(PIT_LEVELS)[None, :], 2.5 * mu[:, None])
    summary = pit_summary(*frame(quantiles, PIT_LEVELS, actual))
    assert summary.histogram[0] > 0.2
    assert sum(summary.histogram[:5]) > 0.7


def test_continuous_forecasts_agree_with_raw_coverage() -> None:
    rng = np.random.default_rng(9)
    actual = rng.normal(10.0, 2.0, 20_000)
    quantiles = np.broadcast_to(stats.norm.ppf(np.array(PIT_LEVELS), 10.0, 2.0), (actual.size, len(PIT_LEVELS)))
    forecast, panel = frame(np.array(quantiles), PIT_LEVELS, actual)
    summary = pit_summary(forecast, panel)
    assert summary.coverage == pytest.approx(raw_coverage(forecast, panel), abs=0.01)
    assert summary.coverage == pytest.approx(0.80, abs=0.015)


def test_refuses_too_few_quantiles_and_bad_intervals() -> None:
    forecast, panel = frame(np.array([[1.0]]), (0.5,), np.array([1]))
    with pytest.raises(ValueError, match="at least 2 quantile columns"):
        pit_summary(forecast, panel)
    with pytest.raises(ValueError, match="interval"):
        summarise_pit(np.zeros(1), np.ones(1), interval=(0.9, 0.1))


def test_pooled_summaries_equal_the_summary_of_all_points() -> None:
    rng = np.random.default_rng(10)
    low = rng.uniform(0, 0.9, 1_000)
    high = np.minimum(low + rng.uniform(0, 0.3, 1_000), 1.0)
    parts = [summarise_pit(low[:300], high[:300]), summarise_pit(low[300:], high[300:])]
    pooled, whole = PitSummary.pooled(parts), summarise_pit(low, high)
    assert pooled is not None and pooled.n == whole.n == 1_000
    assert pooled.coverage == pytest.approx(whole.coverage)
    assert pooled.histogram == pytest.approx(whole.histogram)
    assert PitSummary.pooled([]) is None
