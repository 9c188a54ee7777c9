"""The RMSSE point forecast: shrinks sparse windows, never worsens held-out RMSSE, round-trips through JSON."""

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


def test_identity_and_json_round_trip() -> None:
    mean, actual, window, scale = _windows(2, n=50)
    assert PointShrink.fit(mean, actual, window, scale, 3).factors == [1.0]  # too few windows to learn from
    assert np.array_equal(PointShrink.identity().apply(mean, window), mean)
    fitted = PointShrink.fit(*_windows(3)[:4], 3)
    again = PointShrink.from_json(fitted.to_json())
    assert np.array_equal(again.apply(mean, window), fitted.apply(mean, window))
