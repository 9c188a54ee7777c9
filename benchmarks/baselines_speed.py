"""Time and peak memory of every baseline on the two reference sizes: 50,000 series x 60 months (horizon 12)
and 3,000 series x 104 ISO weeks (horizon 13).

The panels are random intermittent counts (negative binomial, mean ~0.4, series starting at random periods),
built once per case; each baseline's time covers the whole call, panel to forecast frame. Peak memory is the
process's peak RSS after the case (it includes the panel itself). Run:
``hatch run bench:python benchmarks/baselines_speed.py [--case monthly|weekly]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import time

import numpy as np
import polars as pl

from plastinka_forecasting.baselines import BASELINES, forecast_baseline
from plastinka_schemas import DEFAULT_QUANTILES, Frequency

CASES = {"monthly": (Frequency.MONTH, 50_000, 60, 12), "weekly": (Frequency.WEEK, 3_000, 104, 13)}


def random_panel(frequency: Frequency, n_items: int, n_periods: int, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    values = rng.negative_binomial(0.5, 0.55, size=(n_items, n_periods)).astype(np.float64)
    starts = rng.integers(0, n_periods, size=n_items)
    item, period = np.nonzero(np.arange(n_periods)[None, :] >= starts[:, None])
    if frequency is Frequency.MONTH:
        dates = (np.datetime64("2020-01", "M") + np.arange(n_periods)).astype("datetime64[D]")
    else:
        dates = np.datetime64("2020-01-06", "D") + 7 * np.arange(n_periods)
    return pl.DataFrame(
        {
            "item_id": pl.Series(item).cast(pl.Utf8).str.zfill(6),
            "period": pl.Series(dates[period]).cast(pl.Date),
            "y": values[item, period],
        }
    ).sort("item_id", "period")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--case", choices=list(CASES), action="append")
    args = parser.parse_args()
    for case in args.case or list(CASES):
        frequency, n_items, n_periods, horizon = CASES[case]
        panel = random_panel(frequency, n_items, n_periods)
        print(f"{case}: {n_items:,} series, {panel.height:,} panel rows, horizon {horizon}, {dt.date.today()}")
        for name in BASELINES:
            started = time.perf_counter()
            forecast = forecast_baseline(name, panel, horizon, frequency, DEFAULT_QUANTILES)
            seconds = time.perf_counter() - started
            print(f"  {name:15s} {seconds:6.2f} s  ({forecast.height:,} forecast rows)")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"  peak RSS so far: {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
