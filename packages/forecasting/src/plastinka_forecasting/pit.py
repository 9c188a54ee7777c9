"""Calibration of count forecasts by the probability integral transform (PIT), read off quantile columns.

Plain interval coverage overstates the width of intervals on whole-number data: where a record sells nothing
in 90% of months, its proper 10% and 90% quantiles are both 0, and ``q_0.1 <= y <= q_0.9`` holds for every
zero, so a perfectly calibrated forecast "covers" 90% instead of 80%. For count data the fair check is the
randomized PIT (Czado, Gneiting and Held, 2009): with predictive distribution function ``F``, an actual ``y``
maps to a uniform draw from ``[F(y-), F(y)]`` (``F(y-) = P(Y < y)``), and a calibrated forecast makes those
draws uniform on [0, 1]. We use the draw's expectation, so the figures are deterministic:

* **coverage** of an interval ``(lo, hi)``: the mean over points of the share of ``[F(y-), F(y)]`` inside
  ``[lo, hi]`` (a point mass counts 1 inside, 0 outside); a calibrated forecast scores ``hi - lo``;
* **histogram**: the same share for each of ``bins`` equal bins of [0, 1]; a calibrated forecast is flat.

``F`` is read off the forecast's quantile columns: ``F(y)`` is the highest level whose quantile is at most
``y`` (0 if none, 1 if all), ``F(y-)`` the highest level whose quantile is below ``y``. That resolves ``F``
only to the spacing of the levels, so score forecasts made for a fine grid such as :data:`PIT_LEVELS`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import polars as pl

from plastinka_forecasting.frames import ITEM_ID, PERIOD, TARGET

__all__ = ["PIT_LEVELS", "PitSummary", "pit_bounds", "pit_summary", "quantile_pit_bounds", "summarise_pit"]

#: Quantile levels 0.01..0.99: forecasts made for these resolve the PIT to 0.01.
PIT_LEVELS: Final[tuple[float, ...]] = tuple(round(i / 100, 2) for i in range(1, 100))
_TOLERANCE: Final = 1e-9
_MIN_LEVELS: Final = 2

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class PitSummary:
    """PIT calibration of a set of forecasts: see the module docstring."""

    n: int
    interval: tuple[float, float]
    coverage: float
    histogram: tuple[float, ...]

    @classmethod
    def pooled(cls, parts: list[PitSummary]) -> PitSummary | None:
        """The summary of all ``parts``' points together (each part's figures are means over its points)."""
        n = sum(part.n for part in parts)
        if not n or len({part.interval for part in parts}) != 1:
            return None
        return cls(
            n,
            parts[0].interval,
            sum(part.coverage * part.n for part in parts) / n,
            tuple(float(v) for v in np.sum([np.multiply(part.histogram, part.n) for part in parts], axis=0) / n),
        )


def _levels(forecast: pl.DataFrame) -> list[tuple[float, str]]:
    found = []
    for column in forecast.columns:
        if column.startswith("q_"):
            try:
                found.append((float(column[2:]), column))
            except ValueError:
                continue
    if len(found) < _MIN_LEVELS:
        raise ValueError(f"the PIT needs at least {_MIN_LEVELS} quantile columns, the forecast has {len(found)}")
    return sorted(found)


def _cdf(quantiles: FloatArray, levels: FloatArray, values: FloatArray, *, strict: bool) -> FloatArray:
    """Highest level whose quantile is below (``strict``) or at most ``values``; 0 if none, 1 if all."""
    margin = values[:, None] - quantiles
    under = margin > _TOLERANCE if strict else margin >= -_TOLERANCE
    count = under.sum(axis=1)
    reached = np.concatenate([[0.0], levels])[count]
    out: FloatArray = np.where(count == levels.size, 1.0, reached)
    return out


def pit_bounds(forecast: pl.DataFrame, actuals: pl.DataFrame) -> tuple[FloatArray, FloatArray]:
    """``F(y-)`` and ``F(y)`` of every forecast row that has an actual (rows of ``actuals``' panel)."""
    pairs = _levels(forecast)
    columns = [column for _, column in pairs]
    joined = forecast.select(ITEM_ID, PERIOD, *columns).join(
        actuals.select(ITEM_ID, PERIOD, pl.col(TARGET).cast(pl.Float64)), on=[ITEM_ID, PERIOD]
    )
    joined = joined.filter(pl.col(TARGET).is_not_null() & pl.col(TARGET).is_not_nan())
    quantiles = joined.select(columns).to_numpy().astype(np.float64)
    y = joined.get_column(TARGET).to_numpy().astype(np.float64)
    return quantile_pit_bounds(quantiles, [level for level, _ in pairs], y)


def quantile_pit_bounds(quantiles: FloatArray, levels: Sequence[float], y: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``F(y-)`` and ``F(y)`` per row of a ``(rows, levels)`` quantile matrix (levels ascending) and actuals."""
    # Quantiles are non-decreasing along the row, so counting those under a value locates it on the grid.
    ordered = np.maximum.accumulate(np.asarray(quantiles, np.float64), axis=1)
    grid = np.asarray(levels, np.float64)
    values = np.asarray(y, np.float64)
    return _cdf(ordered, grid, values, strict=True), _cdf(ordered, grid, values, strict=False)


def _share_inside(low: FloatArray, high: FloatArray, start: float, end: float) -> FloatArray:
    width = high - low
    overlap = np.clip(np.minimum(high, end) - np.maximum(low, start), 0.0, None)
    point = ((low >= start) & (low <= end)).astype(np.float64)
    out: FloatArray = np.where(width > _TOLERANCE, overlap / np.where(width > _TOLERANCE, width, 1.0), point)
    return out


def summarise_pit(
    low: FloatArray, high: FloatArray, *, interval: tuple[float, float] = (0.1, 0.9), bins: int = 10
) -> PitSummary:
    """Coverage of ``interval`` and a ``bins``-bin histogram from PIT bounds (see :func:`pit_bounds`)."""
    lo, hi = interval
    if not 0.0 < lo < hi < 1.0:
        raise ValueError(f"interval must be two levels 0 < lo < hi < 1, got {interval}")
    if low.size == 0:
        return PitSummary(0, interval, float("nan"), tuple(float("nan") for _ in range(bins)))
    edges = np.linspace(0.0, 1.0, bins + 1)
    masses = [_share_inside(low, high, edges[i], edges[i + 1]) for i in range(bins)]
    # A point mass on an inner edge would count in two bins: split it evenly between them.
    total = np.sum(masses, axis=0)
    histogram = tuple(float(np.mean(m / total)) for m in masses)
    return PitSummary(int(low.size), interval, float(np.mean(_share_inside(low, high, lo, hi))), histogram)


def pit_summary(
    forecast: pl.DataFrame,
    actuals: pl.DataFrame,
    *,
    interval: tuple[float, float] = (0.1, 0.9),
    bins: int = 10,
) -> PitSummary:
    """PIT coverage and histogram of ``forecast`` (with a fine grid of quantile columns) against a panel."""
    low, high = pit_bounds(forecast, actuals)
    return summarise_pit(low, high, interval=interval, bins=bins)
