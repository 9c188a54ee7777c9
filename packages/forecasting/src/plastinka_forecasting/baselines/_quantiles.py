"""Quantile machinery shared by the baselines: row-wise empirical quantiles and negative-binomial quantiles."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from plastinka_forecasting.baselines._grid import FloatArray
from plastinka_forecasting.distributions import nbinom_quantiles, poisson_quantiles

#: Fewer in-sample errors than this and a series' empirical error quantiles are not trusted (Poisson instead).
MIN_ERRORS = 4
#: Means below this many units count as no demand when building count quantiles.
TINY_MEAN = 1e-9


def empirical_quantiles(samples: FloatArray, levels: Sequence[float], *, discrete: bool) -> FloatArray:
    """Quantiles of each row of ``samples`` (NaN = missing), shape (rows, levels); NaN where a row is empty.

    ``discrete=True`` uses the inverted empirical CDF (Hyndman-Fan type 1), so every quantile is an observed value
    and integer data give integer quantiles; otherwise linear interpolation (type 7).
    """
    ordered = np.sort(samples, axis=1)  # NaN sorts last
    counts = (~np.isnan(samples)).sum(axis=1)
    result = np.full((samples.shape[0], len(levels)), np.nan)
    has = counts > 0
    if not has.any():
        return result
    ordered, counts = ordered[has], counts[has]
    rows = np.arange(ordered.shape[0])
    out = np.empty((ordered.shape[0], len(levels)))
    for k, level in enumerate(levels):
        if discrete:
            position = np.clip(np.ceil(level * counts).astype(np.int64) - 1, 0, counts - 1)
            out[:, k] = ordered[rows, position]
        else:
            exact = level * (counts - 1)
            low = np.floor(exact).astype(np.int64)
            high = np.minimum(low + 1, counts - 1)
            weight = exact - low
            out[:, k] = ordered[rows, low] * (1.0 - weight) + ordered[rows, high] * weight
    result[has] = out
    return result


def count_quantiles(mean: FloatArray, dispersion: FloatArray, levels: Sequence[float]) -> FloatArray:
    """Quantiles of a count with the given mean and variance ``dispersion * mean``; shape (*mean.shape, levels).

    ``dispersion <= 1`` gives Poisson quantiles; above 1 a negative binomial with ``p = 1 / dispersion`` and
    ``n = mean / (dispersion - 1)`` (the NB1 parameterisation: variance grows linearly with the mean).
    A mean under :data:`TINY_MEAN` gives zero quantiles (no size-0 negative binomials).
    """
    mu = np.maximum(np.asarray(mean, dtype=np.float64), 0.0)
    phi = np.broadcast_to(np.asarray(dispersion, dtype=np.float64), mu.shape)
    grid = np.asarray(levels, dtype=np.float64)
    out = np.zeros((*mu.shape, grid.size))
    positive = mu > TINY_MEAN
    over = positive & (phi > 1.0 + 1e-9)
    poisson = positive & ~over
    if poisson.any():
        out[poisson] = poisson_quantiles(mu[poisson], grid)
    if over.any():
        size = mu[over] / (phi[over] - 1.0)
        out[over] = nbinom_quantiles(size, 1.0 / phi[over], grid)
    return out


def tidy(mean: FloatArray, quantiles: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Non-negative means and quantiles, quantiles non-decreasing along the last axis."""
    return np.maximum(mean, 0.0), np.maximum.accumulate(np.maximum(quantiles, 0.0), axis=-1)
