"""Baseline forecasts in plain polars/numpy: the yardstick every model is compared with, and a fallback.

Every baseline works on the whole panel at once (items are matrix rows) and returns a forecast frame (see
:mod:`plastinka_forecasting.frames`) for the ``horizon`` periods after the panel's last period.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

import numpy as np
import polars as pl

from plastinka_forecasting.baselines import _methods
from plastinka_forecasting.baselines._grid import SeriesGrid, to_forecast_frame, to_grid
from plastinka_forecasting.baselines._quantiles import tidy
from plastinka_forecasting.frames import ITEM_ID, PERIOD, forecast_columns
from plastinka_schemas import Frequency

__all__ = ["BASELINES", "forecast_baseline"]

_Method = Callable[..., _methods.Forecast]

_METHODS: Final[dict[str, _Method]] = {
    "naive": _methods.naive,
    "seasonal_naive": _methods.seasonal_naive,
    "window_average": _methods.window_average,
    "window_average_year": _methods.window_average_year,
    "croston_sba": _methods.croston_sba,
    "tsb": _methods.tsb,
}

#: Names accepted by :func:`forecast_baseline`.
BASELINES: Final[tuple[str, ...]] = tuple(_METHODS)


def _levels(quantiles: Sequence[float]) -> list[float]:
    levels = sorted({float(q) for q in quantiles})
    if any(not 0.0 < q < 1.0 for q in levels):
        raise ValueError(f"quantile levels must lie strictly between 0 and 1, got {list(quantiles)}")
    return levels


def forecast_baseline(
    name: str,
    history: pl.DataFrame,
    horizon: int,
    frequency: Frequency | str,
    quantiles: Sequence[float],
) -> pl.DataFrame:
    """Forecast every item of ``history`` (a panel) ``horizon`` periods past the panel's last period.

    ``name`` is one of :data:`BASELINES`:

    * ``naive``: the last value; quantiles add the series' own in-sample ``h``-step errors ``y[t] - y[t-h]``.
    * ``seasonal_naive``: the value one season back (12 months / 52 weeks), ``naive`` for shorter series;
      quantiles from in-sample seasonal errors.
    * ``window_average``: mean of the last 12 months / 26 weeks; quantiles = empirical quantiles of that window.
    * ``window_average_year``: the same over one year (12 months / 52 weeks; monthly it equals ``window_average``).
    * ``croston_sba``: Croston with the Syntetos-Boylan correction (alpha 0.1), negative-binomial quantiles.
    * ``tsb``: Teunter-Syntetos-Babai (alpha 0.1 for size, beta 0.1 for probability), negative-binomial quantiles.

    Empirical quantiles are used only with at least 4 in-sample errors (window values); otherwise they are
    Poisson around the point forecast. On whole-number data the naive methods' error quantiles are observed
    values (the inverted empirical CDF), so their quantiles stay whole numbers; window-average quantiles
    interpolate (each choice won on the real-data backtest); negative-binomial quantiles are whole numbers.
    The negative-binomial dispersion is the variance-to-mean ratio of the method's one-step in-sample
    residuals, shrunk towards the pooled ratio over all series. Means and quantiles are clipped at zero and the
    quantile columns made non-decreasing.

    Returns ``item_id``, ``period``, ``mean`` and one ``q_<level>`` column per distinct level (ascending),
    sorted by item and period.
    """
    if name not in _METHODS:
        raise ValueError(f"unknown baseline {name!r}; choose one of {', '.join(BASELINES)}")
    if horizon < 1:
        raise ValueError(f"horizon must be at least 1, got {horizon}")
    frequency = Frequency(frequency)
    levels = _levels(quantiles)
    grid: SeriesGrid = to_grid(history, frequency)
    if grid.n_items == 0:
        schema: dict[str, pl.DataType] = dict.fromkeys(forecast_columns(levels), pl.Float64())
        schema.update({ITEM_ID: pl.Utf8(), PERIOD: pl.Date()})
        return pl.DataFrame(schema=schema)
    mean, spread = _METHODS[name](grid, horizon, levels, discrete=grid.is_discrete)
    mean, spread = tidy(mean, spread)
    if not (np.isfinite(mean).all() and np.isfinite(spread).all()):
        raise ArithmeticError(f"baseline {name!r} produced a non-finite forecast")
    return to_forecast_frame(grid, mean, spread, levels)
