"""Real item-level retail sales for the benchmarks: Online Retail II, from the shared data directory.

The data (``../shared/data/online-retail-ii/`` beside the repository, see its README.md): a UK online gift
wholesaler's sales per stock item and day, 2009-12-01 .. 2011-06-05, derived from the UCI Online Retail II log
(Chen 2012, CC BY 4.0): ``item_id``, ``date``, ``quantity`` (> 0), ``price`` (quantity-weighted unit price
that day, GBP). Days without a row are days without sales.

The panel: one series per item, ``y`` = copies sold per ISO week (Monday starts) or calendar month,
zero-filled from the item's first sale to the last complete period. The data ends on Sunday 2011-06-05, so
weekly panels end with the week of 2011-05-30; monthly panels drop the incomplete June 2011 and end in May.

Run ``python benchmarks/online_retail.py`` to print the panels' summaries.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from plastinka_forecasting.frames import ITEM_ID, PERIOD, TARGET, SalesData, ValidationReport
from plastinka_forecasting.panel import build_panel
from plastinka_schemas import Frequency

DATA_FILE = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "online-retail-ii"
DATA_FILE = DATA_FILE / "sales_2009-12_2011-06.parquet"
#: The last complete period of each frequency (the week starting Monday 2011-05-30, May 2011) and its last day.
LAST_PERIOD = {Frequency.WEEK: dt.date(2011, 5, 30), Frequency.MONTH: dt.date(2011, 5, 1)}
LAST_DAY = {Frequency.WEEK: dt.date(2011, 6, 5), Frequency.MONTH: dt.date(2011, 5, 31)}


def load_sales(path: Path = DATA_FILE) -> pl.DataFrame:
    """``item_id``, ``date``, ``quantity`` (Float64), ``price`` as stored."""
    if not path.is_file():
        raise RuntimeError(f"no {path}: the benchmark expects the shared data directory beside the repository")
    return pl.read_parquet(path).with_columns(pl.col("quantity").cast(pl.Float64))


def item_prices(sales: pl.DataFrame) -> pl.DataFrame:
    """``item_id``, ``price``: each item's quantity-weighted mean unit price over the whole data, for revenue
    weights (WRMSSE). One price per item: its changes over time would move weights, not the forecasts."""
    return sales.group_by(ITEM_ID).agg((pl.col("price") * pl.col("quantity")).sum() / pl.col("quantity").sum())


def online_retail_sales(frequency: Frequency | str, path: Path = DATA_FILE) -> SalesData:
    """The sales up to the last complete period as a dataset (no attributes, no stock): what ``train`` takes."""
    # Sales after the last complete period go before any panel is built: an item first sold in June 2011 must
    # not get a zero series for May.
    sales = load_sales(path).filter(pl.col("date") <= LAST_DAY[Frequency(frequency)])
    return SalesData(
        sales.select(ITEM_ID, "date", "quantity"), pl.DataFrame(schema={ITEM_ID: pl.Utf8}), None, ValidationReport()
    )


def load_online_retail_panel(
    frequency: Frequency | str = Frequency.WEEK, path: Path = DATA_FILE
) -> tuple[pl.DataFrame, pl.DataFrame, str]:
    """The panel (``item_id``, ``period``, ``y``), the per-item prices and a one-paragraph description."""
    frequency = Frequency(frequency)
    panel = build_panel(online_retail_sales(frequency, path), frequency, end=LAST_PERIOD[frequency])
    zero_share = float((panel[TARGET] == 0).mean() or 0.0)
    unit = "month" if frequency is Frequency.MONTH else "ISO week"
    description = (
        f"Online Retail II (UK online gift wholesaler, UCI, CC BY 4.0), copies sold per item per {unit}: "
        f"{panel[ITEM_ID].n_unique():,} series, {panel.height:,} rows, {panel[PERIOD].min()} to "
        f"{panel[PERIOD].max()}, {zero_share:.1%} zeros, mean {panel[TARGET].mean():.2f} copies per period."
    )
    return panel, item_prices(load_sales(path)), description


if __name__ == "__main__":
    for freq in (Frequency.WEEK, Frequency.MONTH):
        panel, prices, text = load_online_retail_panel(freq)
        print(text)
        per_series = panel.group_by(ITEM_ID).agg(
            pl.len().alias("periods"), (pl.col(TARGET) > 0).sum().alias("with_sales"), pl.col(TARGET).max()
        )
        print(per_series.describe())
    print(prices.describe())
