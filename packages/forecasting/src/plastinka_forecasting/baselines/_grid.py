"""A panel as a dense item x period matrix, and forecast matrices back to a forecast frame.

Rows follow the items in sorted order; columns run from the panel's first period to its last. Cells before an
item's first period are NaN, so "observed" always means ``~isnan``. Periods are counted as integers: months
since 1970-01, or ISO weeks since Monday 1970-01-05.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from plastinka_forecasting.frames import ITEM_ID, MEAN, PERIOD, TARGET, quantile_column
from plastinka_schemas import Frequency

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_EPOCH_MONDAY_DAYS = 4  # 1970-01-05, the first Monday after the Unix epoch


def period_index(periods: pl.Expr, frequency: Frequency) -> pl.Expr:
    """Integer position of each period start: months since 1970-01 or weeks since 1970-01-05."""
    if frequency is Frequency.MONTH:
        return ((periods.dt.year().cast(pl.Int64) - 1970) * 12 + periods.dt.month().cast(pl.Int64) - 1).alias("_t")
    return ((periods.dt.epoch("d").cast(pl.Int64) - _EPOCH_MONDAY_DAYS) // 7).alias("_t")


def period_dates(index: IntArray, frequency: Frequency) -> npt.NDArray[np.datetime64]:
    """The period start dates of integer positions made by :func:`period_index`."""
    if frequency is Frequency.MONTH:
        return (np.datetime64("1970-01", "M") + index.astype("timedelta64[M]")).astype("datetime64[D]")
    return np.datetime64("1970-01-05", "D") + (index * 7).astype("timedelta64[D]")


def check_period_starts(history: pl.DataFrame, frequency: Frequency) -> None:
    """Fail loudly on periods that are not period starts (1st of month, or Monday)."""
    if frequency is Frequency.MONTH:
        bad = history.filter(pl.col(PERIOD).dt.day() != 1)
        what = "the 1st of a month"
    else:
        bad = history.filter(pl.col(PERIOD).dt.weekday() != 1)
        what = "a Monday"
    if bad.height:
        raise ValueError(f"period {bad[PERIOD][0]} of item {bad[ITEM_ID][0]!r} is not {what} (frequency {frequency})")


@dataclass(frozen=True)
class SeriesGrid:
    """``values[i, t]`` is item ``items[i]``'s demand in period ``start + t`` (NaN before the item starts)."""

    items: pl.Series
    values: FloatArray
    start: int
    frequency: Frequency

    @property
    def n_items(self) -> int:
        return int(self.values.shape[0])

    @property
    def n_periods(self) -> int:
        return int(self.values.shape[1])

    @property
    def observed(self) -> npt.NDArray[np.bool_]:
        return ~np.isnan(self.values)

    @property
    def lengths(self) -> IntArray:
        lengths: IntArray = self.observed.sum(axis=1).astype(np.int64)
        return lengths

    @property
    def is_discrete(self) -> bool:
        """True when every observed value is a whole number (counts of copies)."""
        seen = self.values[self.observed]
        return bool(np.all(seen == np.round(seen)))

    def future_periods(self, horizon: int) -> npt.NDArray[np.datetime64]:
        last = self.start + self.n_periods - 1
        return period_dates(np.arange(last + 1, last + 1 + horizon, dtype=np.int64), self.frequency)


def to_grid(history: pl.DataFrame, frequency: Frequency) -> SeriesGrid:
    """Lay a panel out as a matrix; gaps after an item's first period count as zero sales, repeated
    (item, period) rows add up. Only the distinct items are sorted: rows are placed by hashing, not sorting."""
    missing = {ITEM_ID, PERIOD, TARGET} - set(history.columns)
    if missing:
        raise ValueError(f"history lacks column(s) {sorted(missing)}")
    check_period_starts(history, frequency)
    frame = history.select(
        pl.col(ITEM_ID).cast(pl.Utf8),
        period_index(pl.col(PERIOD), frequency),
        pl.col(TARGET).cast(pl.Float64).fill_null(0.0).fill_nan(0.0),
    )
    items = frame.get_column(ITEM_ID).unique().sort()
    if frame.is_empty():
        return SeriesGrid(items=items, values=np.zeros((0, 0)), start=0, frequency=frequency)
    codes = pl.DataFrame({ITEM_ID: items, "_row": np.arange(items.len(), dtype=np.int64)})
    placed = frame.join(codes, on=ITEM_ID, how="left")
    row = placed.get_column("_row").to_numpy()
    t = placed.get_column("_t").to_numpy().astype(np.int64)
    start, stop = int(t.min()), int(t.max())
    n_items, n_periods = items.len(), stop - start + 1
    flat = row * n_periods + (t - start)
    totals = np.bincount(flat, weights=placed.get_column(TARGET).to_numpy(), minlength=n_items * n_periods)
    first = np.full(n_items, n_periods, dtype=np.int64)
    np.minimum.at(first, row, t - start)
    values: FloatArray = totals.reshape(n_items, n_periods).astype(np.float64, copy=False)
    values[np.arange(n_periods)[None, :] < first[:, None]] = np.nan
    return SeriesGrid(items=items, values=values, start=start, frequency=frequency)


def to_forecast_frame(
    grid: SeriesGrid, mean: FloatArray, quantiles: FloatArray, levels: Sequence[float]
) -> pl.DataFrame:
    """``mean`` is (items, horizon); ``quantiles`` is (items, horizon, levels), levels ascending."""
    n_items, horizon = mean.shape
    rows = np.repeat(np.arange(n_items), horizon)
    columns: dict[str, pl.Series] = {
        ITEM_ID: grid.items.gather(rows).alias(ITEM_ID),
        PERIOD: pl.Series(PERIOD, np.tile(grid.future_periods(horizon), n_items), dtype=pl.Date),
        MEAN: pl.Series(MEAN, mean.reshape(-1), dtype=pl.Float64),
    }
    for k, level in enumerate(levels):
        name = quantile_column(level)
        columns[name] = pl.Series(name, quantiles[:, :, k].reshape(-1), dtype=pl.Float64)
    return pl.DataFrame(columns)
