"""Sales events -> the zero-filled history panel (``item_id``, ``period``, ``y``) at monthly or weekly frequency.

Each series starts at the item's first sale or its stock arrival (``added_at``), whichever is earlier, but never
before the first period of the data, and runs to the last period of the data. With a stock snapshot every
stocked item gets a series, so items that never sold still get a forecast.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from plastinka_forecasting.frames import ITEM_ID, PERIOD, TARGET, SalesData
from plastinka_schemas import Frequency

__all__ = [
    "MIN_TRAINING_PERIODS",
    "build_panel",
    "next_periods",
    "period_interval",
    "period_start",
    "truncate_panel",
]

#: The fewest periods of history the model trains on (``fit_panel``); the API refuses shorter data at submit.
MIN_TRAINING_PERIODS = 3


def period_interval(frequency: Frequency) -> str:
    """The polars duration string of one period."""
    return "1mo" if Frequency(frequency) is Frequency.MONTH else "1w"


def period_start(dates: pl.Expr, frequency: Frequency) -> pl.Expr:
    """The start of the period holding each date: the 1st of the month, or the Monday of the ISO week."""
    return dates.cast(pl.Date).dt.truncate(period_interval(frequency))


def next_periods(last: date, frequency: Frequency, count: int) -> list[date]:
    """The ``count`` period starts following ``last``."""
    if count < 1:
        return []
    step = period_interval(frequency)
    anchor = pl.Series([last], dtype=pl.Date)
    start = anchor.dt.offset_by(step)[0]
    stop = anchor.dt.offset_by(f"{count}{step[1:]}")[0]
    return list(pl.date_range(start, stop, step, eager=True))


def _arrivals(data: SalesData, frequency: Frequency) -> pl.DataFrame:
    """``item_id``, ``arrival`` (period of the earliest known ``added_at``) from attributes and stock."""
    frames = []
    for frame in (data.attributes, data.stock):
        if frame is not None and "added_at" in frame.columns and frame.height:
            frames.append(frame.select(ITEM_ID, pl.col("added_at").cast(pl.Date)))
    if not frames:
        return pl.DataFrame(schema={ITEM_ID: pl.Utf8, "arrival": pl.Date})
    return (
        pl.concat(frames)
        .drop_nulls("added_at")
        .group_by(ITEM_ID)
        .agg(period_start(pl.col("added_at").min(), frequency).alias("arrival"))
    )


def build_panel(data: SalesData, frequency: Frequency, *, end: date | None = None) -> pl.DataFrame:
    """The history panel: one row per item and period, zero-filled, sorted by ``item_id``, ``period``.

    ``end`` (any date) fixes the last period; by default it is the period of the latest sale or arrival.
    Stocked items without sales start at their arrival, or at the last period when the arrival is unknown.
    """
    frequency = Frequency(frequency)
    sales = data.sales.select(
        pl.col(ITEM_ID).cast(pl.Utf8),
        period_start(pl.col("date"), frequency).alias(PERIOD),
        pl.col("quantity").cast(pl.Float64),
    )
    agg = sales.group_by(ITEM_ID, PERIOD).agg(pl.col("quantity").sum().alias(TARGET))
    arrivals = _arrivals(data, frequency)
    stocked = (
        data.stock.select(pl.col(ITEM_ID).cast(pl.Utf8)).unique()
        if data.stock is not None
        else pl.DataFrame(schema={ITEM_ID: pl.Utf8})
    )

    candidates = [d for d in (agg[PERIOD].min(), agg[PERIOD].max()) if isinstance(d, date)]
    if arrivals.height:
        arrival_max = arrivals["arrival"].max()
        if isinstance(arrival_max, date):
            candidates.append(arrival_max)
    if end is not None:
        candidates = [d for d in candidates if d <= end] or [end]
    if not candidates:
        return pl.DataFrame(schema={ITEM_ID: pl.Utf8, PERIOD: pl.Date, TARGET: pl.Float64})
    first = min(candidates)
    last = pl.select(period_start(pl.lit(end if end is not None else max(candidates)), frequency)).item()

    first_sale = agg.group_by(ITEM_ID).agg(pl.col(PERIOD).min().alias("first_sale"))
    items = (
        pl.concat([first_sale.select(ITEM_ID), stocked, arrivals.select(ITEM_ID)])
        .unique()
        .join(first_sale, on=ITEM_ID, how="left")
        .join(arrivals, on=ITEM_ID, how="left")
    )
    # Arrival-only items that are not in stock are gone: without a sale they have no series.
    in_stock = stocked.with_columns(pl.lit(True).alias("_stocked"))
    items = items.join(in_stock, on=ITEM_ID, how="left").filter(
        pl.col("first_sale").is_not_null() | pl.col("_stocked").fill_null(False)
    )
    items = items.with_columns(
        pl.min_horizontal("first_sale", "arrival")
        .fill_null(pl.lit(last))
        .clip(pl.lit(first), pl.lit(last))
        .alias("start")
    ).filter(pl.col("start") <= pl.lit(last))

    grid = (
        items.select(ITEM_ID, pl.date_ranges("start", pl.lit(last), period_interval(frequency)).alias(PERIOD))
        .explode(PERIOD)
        .drop_nulls(PERIOD)
    )
    return (
        grid.join(agg, on=[ITEM_ID, PERIOD], how="left")
        .with_columns(pl.col(TARGET).fill_null(0.0))
        .select(ITEM_ID, PERIOD, TARGET)
        .sort(ITEM_ID, PERIOD)
    )


def truncate_panel(panel: pl.DataFrame, last: date) -> pl.DataFrame:
    """The panel as it was known at the end of period ``last`` (items without rows by then disappear)."""
    return panel.filter(pl.col(PERIOD) <= last)
