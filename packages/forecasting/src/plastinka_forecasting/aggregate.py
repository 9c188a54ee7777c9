"""Forecasts of a group of items (a genre, an artist, the whole shop) from per-item forecasts.

Means add up exactly. Quantiles do not: summing them assumes every item sells high in the same month, which
for hundreds of mostly-independent records gives bands many times too wide. Instead each item's spread is read
off its widest central interval as a normal standard deviation, floored at the Poisson variance (the mean:
integer quantiles of a sparse item hide most of its spread, and sales counts are rarely under-dispersed),
variances add (items taken as independent),
and the group's quantiles come from a normal approximation of the sum, clipped at zero. With many items the
sum is close to normal (central limit theorem); with one item its own quantiles are returned unchanged.
"""

from __future__ import annotations

from statistics import NormalDist

import polars as pl

from plastinka_forecasting.frames import ITEM_ID, MEAN, PERIOD, quantile_column

__all__ = ["group_forecast"]


def _levels(columns: list[str]) -> list[float]:
    return sorted(float(c[2:]) for c in columns if c.startswith("q_"))


def group_forecast(forecast: pl.DataFrame) -> pl.DataFrame:
    """One row per period: the summed ``mean`` and the quantiles of the sum (same ``q_<level>`` columns)."""
    levels = _levels(forecast.columns)
    qcols = [quantile_column(q) for q in levels]
    if forecast.select(pl.col(ITEM_ID).n_unique()).item() <= 1:
        return forecast.select(PERIOD, MEAN, *qcols).sort(PERIOD)
    pairs = [(lo, 1 - lo) for lo in levels if lo < 0.5 and any(abs(h - (1 - lo)) < 1e-9 for h in levels)]
    if not pairs:
        # No central interval to read a spread from: the comonotonic sum is the only defensible answer.
        return forecast.group_by(PERIOD).agg(pl.col(MEAN).sum(), *(pl.col(c).sum() for c in qcols)).sort(PERIOD)
    lo, hi = min(pairs)
    hi_col = next(quantile_column(h) for h in levels if abs(h - hi) < 1e-9)
    width = 2 * NormalDist().inv_cdf(hi)
    spread = ((pl.col(hi_col) - pl.col(quantile_column(lo))) / width).pow(2)
    variance = pl.max_horizontal(spread, pl.col(MEAN).clip(lower_bound=0.0))
    totals = forecast.group_by(PERIOD).agg(pl.col(MEAN).sum(), variance.sum().sqrt().alias("_sd")).sort(PERIOD)
    z = {q: NormalDist().inv_cdf(q) for q in levels}
    return totals.select(
        PERIOD,
        MEAN,
        *((pl.col(MEAN) + z[q] * pl.col("_sd")).clip(lower_bound=0.0).alias(quantile_column(q)) for q in levels),
    )
