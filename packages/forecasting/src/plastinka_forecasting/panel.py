"""Sales events -> the zero-filled history panel (``item_id``, ``period``, ``y``) at monthly or weekly frequency.

Each series starts at the item's first sale or its stock arrival (``added_at``), whichever is earlier, but never
before the first period of the data, and runs to the last period of the data. With a stock snapshot every
stocked item gets a series, so items that never sold still get a forecast.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

import polars as pl

from plastinka_forecasting.frames import ITEM_ID, PERIOD, TARGET, SalesData
from plastinka_schemas import Frequency

__all__ = [
    "MIN_TRAINING_PERIODS",
    "PartialPeriod",
    "build_panel",
    "complete_panel",
    "next_periods",
    "partial_last_period",
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


#: Fewest distinct sale dates before the shop's usual quiet spell between sales can be read off the data.
_MIN_SALE_DATES = 10
#: The quiet spell a shop may have at the end of a complete period: this quantile of the gaps between its sale dates.
_GAP_QUANTILE = 0.95


@dataclass(frozen=True)
class PartialPeriod:
    """The data's last period, cut short: the sales stop well before the period ends (an export taken mid-month),
    so its total is not a period's demand. It is left out of training and becomes the first forecast period."""

    period: date
    last_sale: date
    days_covered: int
    period_days: int
    rows: int
    copies: float
    #: Records with no sale before this period: they are forecast from no history.
    new_items: int

    def describe(self) -> str:
        return (
            f"the last period ({self.period}) holds sales up to {self.last_sale} only ({self.days_covered} of "
            f"{self.period_days} days): its {self.rows} sale rows ({self.copies:g} copies) are left out of training "
            f"and the forecast starts with that period"
            + (f"; {self.new_items} records first sold in it are forecast from no history" if self.new_items else "")
        )

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "period": self.period.isoformat(), "last_sale": self.last_sale.isoformat()}


def partial_last_period(sales: pl.DataFrame, frequency: Frequency) -> PartialPeriod | None:
    """The last period of ``sales`` (``item_id``, ``date``, ``quantity``) when the data stop before its end by
    more than the shop's usual quiet spell between sale days (the 95th percentile of the gaps between its sale
    dates: a shop closed on Sundays may end a complete month on the 30th); ``None`` when it looks complete or
    there are too few sale dates to tell."""
    frequency = Frequency(frequency)
    dates = sales.get_column("date").cast(pl.Date).unique().sort()
    if dates.len() < _MIN_SALE_DATES:
        return None
    last = dates[-1]
    start = pl.select(period_start(pl.lit(last), frequency)).item()
    end = next_periods(start, frequency, 1)[0] - timedelta(days=1)
    gaps = dates.diff().drop_nulls().dt.total_days()
    usual_quiet = max(int(gaps.quantile(_GAP_QUANTILE, interpolation="higher") or 1) - 1, 0)
    if (end - last).days <= usual_quiet or dates[0] >= start:  # complete, or nothing before it to train on
        return None
    inside = sales.filter(period_start(pl.col("date"), frequency) == start)
    before = sales.filter(period_start(pl.col("date"), frequency) < start).get_column(ITEM_ID).unique()
    sold = inside.get_column(ITEM_ID).unique()
    new = sold.filter(~sold.is_in(before.implode()))
    return PartialPeriod(
        period=start,
        last_sale=last,
        days_covered=(last - start).days + 1,
        period_days=(end - start).days + 1,
        rows=inside.height,
        copies=float(inside.get_column("quantity").sum()),
        new_items=new.len(),
    )


def complete_panel(data: SalesData, frequency: Frequency) -> tuple[pl.DataFrame, PartialPeriod | None]:
    """:func:`build_panel` up to the last complete period, and the partial period left out (if any)."""
    partial = partial_last_period(data.sales, frequency)
    if partial is None:
        return build_panel(data, frequency), None
    return build_panel(data, frequency, end=partial.period - timedelta(days=1)), partial
