"""Real intermittent retail sales for the benchmarks, read from a PyPI package (no download at run time).

The data: the CDNOW transaction log (Fader & Hardie), as bundled in the ``lifetimes`` package (MIT) as
``lifetimes/datasets/CDNOW_master.txt``. CDNOW was an online CD shop; the log holds every purchase, from the
first purchase to the end of June 1998, of the 23,570 customers who first bought there in January-March
1997: 69,659 rows of ``customer_id``, ``date`` (YYYYMMDD), ``number_of_cds``, ``dollar_value``.

Each customer is one series of CDs bought per period: records sold at 0-5 a period, series starting at their
first sale and dying out, the same shape as a record shop's per-title panel, but keyed by customer, not title.

Run ``python benchmarks/real_data.py`` to print the panel's summary.
"""

from __future__ import annotations

import datetime as dt
from importlib import metadata
from pathlib import Path

import polars as pl

from plastinka_forecasting.frames import ITEM_ID, PANEL_SCHEMA, PERIOD, TARGET
from plastinka_schemas import Frequency

PACKAGE = "lifetimes"
DATA_FILE = "lifetimes/datasets/CDNOW_master.txt"
#: The log ends on Tuesday 1998-06-30: the week starting Monday 1998-06-29 is cut off, so weekly panels end
#: with the week before it.
LAST_DAY = dt.date(1998, 6, 30)


def data_path() -> Path:
    """Where the installed ``lifetimes`` keeps the CDNOW log (found without importing the package)."""
    try:
        path = Path(str(metadata.distribution(PACKAGE).locate_file(DATA_FILE)))
    except metadata.PackageNotFoundError as exc:
        raise RuntimeError(f"install the benchmark dependency: pip install {PACKAGE} (or hatch -e bench)") from exc
    if not path.is_file():
        raise RuntimeError(f"{PACKAGE} is installed but has no {DATA_FILE}")
    return path


def load_transactions() -> pl.DataFrame:
    """``customer_id`` (Utf8, zero-padded as in the file), ``date`` (Date), ``quantity`` (Float64 CDs),
    ``dollars`` (Float64)."""
    rows = [line.split() for line in data_path().read_text(encoding="ascii").splitlines()[1:] if line.strip()]
    return pl.DataFrame(
        {
            "customer_id": [row[0] for row in rows],
            "date": [dt.date(int(row[1][:4]), int(row[1][4:6]), int(row[1][6:8])) for row in rows],
            "quantity": [float(row[2]) for row in rows],
            "dollars": [float(row[3]) for row in rows],
        }
    )


def customer_prices() -> pl.DataFrame:
    """``item_id`` (customer), ``price``: dollars per CD over the whole log, for revenue weights (WRMSSE)."""
    return (
        load_transactions()
        .group_by("customer_id")
        .agg((pl.col("dollars").sum() / pl.col("quantity").sum()).fill_nan(0.0).alias("price"))
        .select(pl.col("customer_id").alias(ITEM_ID), "price")
    )


def _period_start(frequency: Frequency) -> pl.Expr:
    if frequency is Frequency.MONTH:
        return pl.col("date").dt.truncate("1mo")
    return pl.col("date").dt.truncate("1w")  # polars weeks start on Monday


def load_real_panel(frequency: Frequency | str = Frequency.WEEK) -> tuple[pl.DataFrame, Frequency, str]:
    """The CDNOW log as a panel (``item_id`` = customer, ``period``, ``y`` = CDs bought), zero-filled from each
    customer's first purchase period to the last complete period of the data; with the frequency and a
    one-paragraph description for reports."""
    frequency = Frequency(frequency)
    sales = load_transactions().with_columns(_period_start(frequency).alias(PERIOD))
    last = dt.date(1998, 6, 1) if frequency is Frequency.MONTH else dt.date(1998, 6, 22)
    sales = sales.filter(pl.col(PERIOD) <= last)
    totals = sales.group_by("customer_id", PERIOD).agg(pl.col("quantity").sum().alias(TARGET))
    every = "1mo" if frequency is Frequency.MONTH else "1w"
    spans = totals.group_by("customer_id").agg(
        pl.date_ranges(pl.col(PERIOD).min(), pl.lit(last), interval=every).first().alias(PERIOD)
    )
    panel = (
        spans.explode(PERIOD)
        .join(totals, on=["customer_id", PERIOD], how="left")
        .select(
            pl.col("customer_id").alias(ITEM_ID),
            pl.col(PERIOD),
            pl.col(TARGET).fill_null(0.0),
        )
        .cast(PANEL_SCHEMA)
        .sort(ITEM_ID, PERIOD)
    )
    zero_share = float((panel[TARGET] == 0).mean() or 0.0)
    description = (
        f"CDNOW online CD shop transaction log (Fader & Hardie; bundled in the lifetimes package, MIT), "
        f"CDs bought per customer per {'month' if frequency is Frequency.MONTH else 'ISO week'}: "
        f"{panel[ITEM_ID].n_unique():,} series, {panel.height:,} rows, {panel[PERIOD].min()} to "
        f"{panel[PERIOD].max()}, {zero_share:.1%} zeros, mean {panel[TARGET].mean():.3f} CDs per period."
    )
    return panel, frequency, description


if __name__ == "__main__":
    for freq in Frequency:
        panel, _, text = load_real_panel(freq)
        print(text)
        per_series = panel.group_by(ITEM_ID).agg(
            pl.len().alias("periods"), (pl.col(TARGET) > 0).sum().alias("with_sales"), pl.col(TARGET).max()
        )
        print(per_series.describe())
