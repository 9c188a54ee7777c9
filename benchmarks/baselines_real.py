"""Rolling-origin backtest of every baseline on real intermittent retail sales (see real_data.py).

For each cut-off, the history is the panel up to it; every baseline forecasts the next ``H`` periods for the
series that exist by then; :func:`plastinka_forecasting.metrics.evaluate` scores all folds at once (each
series scaled by its own history up to its cut-off). Prints one table per frequency, in units (CDs).

Run: ``hatch run bench:python benchmarks/baselines_real.py [--freq M|W]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import polars as pl
from real_data import load_real_panel

from plastinka_forecasting.baselines import BASELINES, forecast_baseline
from plastinka_forecasting.frames import PERIOD
from plastinka_forecasting.metrics import CUTOFF, Evaluation, evaluate
from plastinka_schemas import Frequency

LEVELS = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
#: (horizon, number of cut-offs, periods between cut-offs) per frequency; the last fold ends with the data.
SETUP = {Frequency.MONTH: (3, 4, 1), Frequency.WEEK: (8, 6, 4)}


def cutoffs(panel: pl.DataFrame, horizon: int, windows: int, step: int) -> list[dt.date]:
    periods = panel.get_column(PERIOD).unique().sort().to_list()
    last = len(periods) - 1 - horizon
    return [periods[last - step * k] for k in reversed(range(windows))]


def backtest(panel: pl.DataFrame, frequency: Frequency, name: str) -> tuple[Evaluation, float]:
    horizon, windows, step = SETUP[frequency]
    folds = []
    seconds = 0.0
    for cutoff in cutoffs(panel, horizon, windows, step):
        history = panel.filter(pl.col(PERIOD) <= cutoff)
        started = time.perf_counter()
        forecast = forecast_baseline(name, history, horizon, frequency, LEVELS)
        seconds += time.perf_counter() - started
        folds.append(forecast.with_columns(pl.lit(cutoff).alias(CUTOFF)))
    return evaluate(pl.concat(folds), panel, panel, LEVELS, interval=(0.1, 0.9)), seconds


def table(frequency: Frequency) -> pl.DataFrame:
    panel, frequency, description = load_real_panel(frequency)
    horizon, windows, step = SETUP[frequency]
    print(description)
    print(f"cut-offs: {', '.join(str(c) for c in cutoffs(panel, horizon, windows, step))}; horizon 1..{horizon}")
    rows = []
    for name in BASELINES:
        result, seconds = backtest(panel, frequency, name)
        segments = {row["segment"]: row for row in result.by_segment.iter_rows(named=True)}
        rows.append(
            {
                "baseline": name,
                "MAE": result.overall["mae"],
                "RMSE": result.overall["rmse"],
                "RMSSE": result.overall["rmsse"],
                "SPL": result.overall["spl"],
                "cover80": result.overall["coverage"],
                "below10": result.overall["below"],
                "above90": result.overall["above"],
                "bias": result.overall["bias"],
                "winkler80": result.overall["winkler"],
                "MAE_zero": segments["zero"]["mae"],
                "MAE_sale": segments["nonzero"]["mae"],
                "cover80_sale": segments["nonzero"]["coverage"],
                "seconds": seconds,
            }
        )
    print(
        f"{int(result.overall['n_items']):,} series x cut-offs scored ({int(result.overall['n_unscaled']):,} with "
        f"zero naive scale left out of RMSSE/SPL), {int(result.overall['n']):,} points, "
        f"{result.overall['zero_share']:.1%} zero actuals"
    )
    return pl.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--freq", choices=[f.value for f in Frequency], action="append")
    args = parser.parse_args()
    with pl.Config(tbl_rows=20, tbl_cols=20, float_precision=4, tbl_hide_dataframe_shape=True, tbl_width_chars=200):
        for freq in args.freq or [Frequency.MONTH.value, Frequency.WEEK.value]:
            print(table(Frequency(freq)))
            print()


if __name__ == "__main__":
    main()
