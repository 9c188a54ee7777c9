"""Poisson and negative-binomial quantiles in numpy alone, vectorised over rows (the forecasting core does
not depend on scipy).

Both use scipy's parameterisations and quantile rule: the ``level`` quantile is the smallest ``k`` with
``cdf(k) >= level``. The negative binomial counts failures before the ``size``-th success with success
probability ``p``: ``pmf(k) = C(k + size - 1, k) p^size (1 - p)^k``, mean ``size (1 - p) / p``.

Method: the pmf by its recursion ``pmf(k + 1) = pmf(k) * ratio(k)``, summed into the cdf, one step per count
for every row at once, until each row's cdf reaches its highest level. A row starts at ``k0 = 0`` when its
mean is within 10 standard deviations of 0 (``pmf(0)`` is exact, ``exp(-mean)`` or ``p^size``); otherwise at
``k0 = floor(mean - 10 sd)``, with ``log pmf(k0)`` from a Stirling series for ``log Gamma`` (series error
under 1e-12; with the rounding of terms near 1e5, ``pmf(k0)`` is good to about 1e-11 relative). The mass
below ``k0`` is neglected: under 1e-20 for both families there (their lower tails are no heavier than the
normal's once the mean exceeds 10 sd). So the quantiles are exact up to that rounding of the cdf (about
1e-11 when the walk starts above 0, 1e-13 otherwise): a level within that distance of a cdf value may land
one count off (tested against scipy: only exact ties such as NB(n, 1/2)'s median differ). The cost is one
vectorised step per count between ``k0`` and the highest quantile, about 12 sd for a large mean.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["nbinom_quantiles", "poisson_quantiles"]

FloatArray = npt.NDArray[np.float64]

#: Rows start this many standard deviations below the mean (or at 0).
_START_SDS = 10.0
#: log pmf(k0) under this would underflow: outside the supported range (extreme dispersion at huge means).
_MIN_LOG_PMF = -700.0
_HALF_LOG_2PI = 0.5 * np.log(2.0 * np.pi)


def _lgamma(x: FloatArray) -> FloatArray:
    """``log Gamma(x)`` for ``x > 0``: Stirling's series at ``x + 10`` shifted back by the recurrence."""
    shift = np.zeros_like(x)
    z = x.copy()
    for _ in range(10):
        shift += np.log(z)
        z += 1.0
    inv = 1.0 / z
    inv2 = inv * inv
    series = inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 * (1 / 1680))))
    result: FloatArray = (z - 0.5) * np.log(z) - z + _HALF_LOG_2PI + series - shift
    return result


def _levels(levels: Sequence[float] | FloatArray) -> FloatArray:
    grid = np.asarray(levels, dtype=np.float64).reshape(-1)
    if grid.size and not (np.all(grid > 0.0) and np.all(grid < 1.0)):
        raise ValueError(f"quantile levels must lie strictly between 0 and 1, got {grid.tolist()}")
    return grid


def _quantiles(start: FloatArray, log_pmf0: FloatArray, ratio: _Ratio, levels: FloatArray) -> FloatArray:
    """Walk the pmf from ``start`` (with ``log pmf(start)``) by ``ratio(k, rows)``; shape (rows, levels)."""
    rows, n_levels = start.shape[0], levels.size
    if rows == 0 or n_levels == 0:
        return np.zeros((rows, n_levels))
    if np.any(log_pmf0 < _MIN_LOG_PMF):
        raise ValueError("distribution too spread for the pmf recursion (pmf at its start underflows)")
    order = np.argsort(levels, kind="stable")
    sorted_levels = levels[order]
    top = sorted_levels[-1]
    # passed[r, c]: steps at which row r had exactly c levels at or below its cdf; quantile j = sum_{c<=j}.
    passed = np.zeros((rows, n_levels + 1), dtype=np.int64)
    active = np.arange(rows)
    k = start.copy()
    pmf = np.exp(log_pmf0)
    cdf = pmf.copy()
    while active.size:
        crossed = np.searchsorted(sorted_levels, cdf, side="right")
        passed[active, crossed] += 1  # each row once per step: no repeated index, no need for np.add.at
        going = (cdf < top) & (pmf > 0.0)  # pmf 0: the cdf cannot grow any more (rounding left it short)
        if not going.all():
            active, k, pmf, cdf = active[going], k[going], pmf[going], cdf[going]
        pmf = pmf * ratio(k, active)
        k = k + 1.0
        cdf = cdf + pmf
    steps = np.cumsum(passed, axis=1)[:, :n_levels]
    out = np.empty((rows, n_levels))
    out[:, order] = start[:, None] + steps
    return out


class _Ratio:
    """``pmf(k + 1) / pmf(k)`` for the rows of a family, indexed by row number."""

    def __init__(self, scale: FloatArray, offset: FloatArray, *, poisson: bool) -> None:
        self.scale, self.offset, self.poisson = scale, offset, poisson

    def __call__(self, k: FloatArray, rows: npt.NDArray[np.intp]) -> FloatArray:
        # Poisson: mu / (k + 1); negative binomial: (1 - p) (k + size) / (k + 1).
        if self.poisson:
            return self.scale[rows] / (k + 1.0)
        return self.scale[rows] * (k + self.offset[rows]) / (k + 1.0)


def poisson_quantiles(mean: FloatArray | Sequence[float], levels: Sequence[float] | FloatArray) -> FloatArray:
    """Quantiles of Poisson(``mean``) (``scipy.stats.poisson.ppf``); shape (*mean.shape, levels)."""
    mu = np.asarray(mean, dtype=np.float64)
    if np.any(~np.isfinite(mu)) or np.any(mu < 0.0):
        raise ValueError("Poisson means must be finite and non-negative")
    grid = _levels(levels)
    flat = mu.reshape(-1)
    start = np.maximum(np.floor(flat - _START_SDS * np.sqrt(flat)), 0.0)
    log_pmf0 = start * np.log(np.maximum(flat, 1e-300)) - flat - _lgamma(start + 1.0)
    log_pmf0 = np.where(start == 0.0, -flat, log_pmf0)
    out = _quantiles(start, log_pmf0, _Ratio(flat, flat, poisson=True), grid)
    return out.reshape(*mu.shape, grid.size)


def nbinom_quantiles(
    size: FloatArray | Sequence[float], p: FloatArray | Sequence[float], levels: Sequence[float] | FloatArray
) -> FloatArray:
    """Quantiles of the negative binomial (``scipy.stats.nbinom.ppf(level, size, p)``); ``size > 0``,
    ``0 < p <= 1``, broadcast together; shape (*broadcast shape, levels)."""
    n, prob = np.broadcast_arrays(np.asarray(size, dtype=np.float64), np.asarray(p, dtype=np.float64))
    if np.any(~(n > 0.0)) or np.any(~np.isfinite(n)) or np.any(~((prob > 0.0) & (prob <= 1.0))):
        raise ValueError("negative binomial needs size > 0 and 0 < p <= 1")
    grid = _levels(levels)
    n, prob = n.reshape(-1), prob.reshape(-1)
    q = 1.0 - prob
    mean = n * q / prob
    sd = np.sqrt(mean / prob)
    start = np.maximum(np.floor(mean - _START_SDS * sd), 0.0)
    log_p, log_q = np.log(prob), np.log(np.maximum(q, 1e-300))
    log_pmf0 = _lgamma(start + n) - _lgamma(n) - _lgamma(start + 1.0) + n * log_p + start * log_q
    log_pmf0 = np.where(start == 0.0, n * log_p, log_pmf0)
    shape = np.broadcast_shapes(np.shape(size), np.shape(p))
    out = _quantiles(start, log_pmf0, _Ratio(q, n, poisson=False), grid)
    return out.reshape(*shape, grid.size)
