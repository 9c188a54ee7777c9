"""Point adjustments: the default mean calibration removes bias per cell; the opt-in RMSSE shrink lowers RMSSE."""

from __future__ import annotations

import numpy as np

from plastinka_forecasting.point import PointShrink


def _windows(seed: int, n: int = 3000, horizon: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    rate = np.repeat(rng.gamma(0.4, 1.0, n), horizon)
    actual = rng.poisson(rate).astype(float)
    window = np.repeat(np.arange(n), horizon)
    scale = np.repeat(np.sqrt(2 * rng.gamma(0.4, 1.0, n)) + 0.1, horizon)
    return rate, actual, window, scale


def _rmsse(point: np.ndarray, actual: np.ndarray, window: np.ndarray, scale: np.ndarray) -> float:
    sq = np.bincount(window, weights=(point - actual) ** 2)
    counts = np.bincount(window)
    per_window_scale = np.bincount(window, weights=scale) / counts
    return float(np.mean(np.sqrt(sq / counts) / per_window_scale))


def test_shrink_lowers_rmsse_and_leaves_busy_windows_nearly_alone() -> None:
    mean, actual, window, scale = _windows(0)
    shrink = PointShrink.fit(mean, actual, window, scale, 3)
    assert shrink.factors[0] < 1.0  # the sparsest windows are shrunk
    assert shrink.factors[-1] >= 0.7  # busy windows keep most of their mean
    # Out of sample (a fresh draw) the shrunk forecast still scores better.
    mean2, actual2, window2, scale2 = _windows(1)
    assert _rmsse(shrink.apply(mean2, window2), actual2, window2, scale2) < _rmsse(mean2, actual2, window2, scale2)
    assert (shrink.apply(mean2, window2) >= 0).all()
    # ... and it is not a mean: its total falls well short of the actual total.
    assert shrink.apply(mean2, window2).sum() < 0.9 * actual2.sum()


def _biased(seed: int, n: int = 60_000, horizon: int = 6) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Predictions that over-state slow sellers by 50%, under-state busy ones by 10%, drifting up at long horizons."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(0.5, 1.0, n)
    h = rng.integers(1, horizon + 1, n)
    actual = rng.poisson(rate).astype(float)
    distortion = np.where(rate < 0.5, 1.5, 0.9) * (1.0 + 0.06 * (h - 1))
    return rate * distortion, actual, h


def test_mean_calibration_removes_bias_per_demand_level_and_horizon() -> None:
    predicted, actual, h = _biased(0)
    calibration = PointShrink.fit_mean(predicted, actual, h, 6)
    assert not calibration.is_identity and calibration.by == "row"
    fresh, actual2, h2 = _biased(1)
    window = np.arange(len(fresh))
    adjusted = calibration.apply(fresh, window, h2)
    assert abs(fresh.sum() / actual2.sum() - 1) > 0.05  # the raw predictions are biased overall
    assert abs(adjusted.sum() / actual2.sum() - 1) < 0.03  # the calibrated ones track the total
    slow = fresh < np.quantile(fresh, 0.4)
    assert abs(adjusted[slow].sum() / actual2[slow].sum() - 1) < 0.1  # and per demand level
    assert abs(fresh[slow].sum() / actual2[slow].sum() - 1) > 0.2
    late = h2 >= 4  # one horizon group (4-6)
    assert abs(adjusted[late].sum() / actual2[late].sum() - 1) < 0.05
    # Squared error falls too: a cell's ratio also removes the cell's constant-factor error.
    assert np.mean((adjusted - actual2) ** 2) < np.mean((fresh - actual2) ** 2)


def test_mean_calibration_of_an_unbiased_forecast_stays_near_one() -> None:
    rng = np.random.default_rng(4)
    rate = rng.gamma(0.5, 1.0, 30_000)
    h = rng.integers(1, 4, len(rate))
    calibration = PointShrink.fit_mean(rate, rng.poisson(rate).astype(float), h, 3)
    assert all(0.85 < f < 1.15 for f in calibration.factors)


def test_identity_thin_data_and_json_round_trip() -> None:
    mean, actual, window, scale = _windows(2, n=50)
    assert PointShrink.fit(mean, actual, window, scale, 3).is_identity  # too few windows to learn from
    assert PointShrink.fit_mean(mean, actual, np.ones(len(mean), np.int64), 3).is_identity
    assert np.array_equal(PointShrink.identity().apply(mean, window), mean)
    for fitted in (PointShrink.fit(*_windows(3)[:4], 3), PointShrink.fit_mean(*_biased(3), 6)):
        again = PointShrink.from_json(fitted.to_json())
        hs = np.tile(np.arange(1, 7), len(mean) // 6 + 1)[: len(mean)]
        assert np.array_equal(again.apply(mean, window, hs), fitted.apply(mean, window, hs))
    # Artifacts written before mean calibration existed carry no "by": they are RMSSE shrinks.
    old = {"edges": [0.5], "factors": [0.0, 1.0], "windows": 100}
    assert PointShrink.from_json(old).by == "window"
