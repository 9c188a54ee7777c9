"""Accuracy of the default model beside every baseline, by rolling-origin backtest, on synthetic and real data.

* synthetic: the synthetic shop (``plastinka_forecasting.synthetic``) written in the shop's export format and
  read back through ingestion, monthly;
* real: the CDNOW log (``real_data.py``), monthly and weekly, with the same folds as ``baselines_real.py``.

Every table comes from :func:`plastinka_forecasting.backtest.backtest_panel` with the default parameters: the
same origins, items and metrics for every method. Run:
``hatch run bench:python benchmarks/accuracy.py [--only synthetic|real-M|real-W] [--items N --months M]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from plastinka_forecasting.backtest import BACKTEST_LEVELS, BacktestResult, backtest_panel, format_table
from plastinka_forecasting.baselines import BASELINES
from plastinka_forecasting.baselines._methods import default_window
from plastinka_forecasting.frames import SalesData
from plastinka_forecasting.ingest import load_sales
from plastinka_forecasting.metrics import evaluate
from plastinka_forecasting.panel import build_panel
from plastinka_forecasting.synthetic import generate_shop, write_shop
from plastinka_schemas import Frequency

sys.path.insert(0, str(Path(__file__).parent))
from real_data import load_real_panel

#: (horizon, windows, step) per case; the real folds match baselines_real.py.
SETUP = {
    "synthetic": (Frequency.MONTH, 3, 4, 3),
    "real-M": (Frequency.MONTH, 3, 4, 1),
    "real-W": (Frequency.WEEK, 8, 6, 4),
}


def synthetic_sales(items: int, months: int, seed: int) -> SalesData:
    shop = generate_shop(items, months, seed=seed)
    with tempfile.TemporaryDirectory() as tmp:
        files = write_shop(shop, tmp, fmt="csv")
        return load_sales(files.sales, files.stock)


def run(name: str, panel: pl.DataFrame, attributes: pl.DataFrame | None, description: str) -> None:
    frequency, horizon, windows, step = SETUP[name]
    started = time.perf_counter()
    result = backtest_panel(panel, attributes, frequency=frequency, horizon=horizon, windows=windows, step=step)
    seconds = time.perf_counter() - started
    print(f"\n## {name}: {description}")
    print(
        f"horizon {horizon}, {windows} origins {step} apart, cut-offs {result.cutoffs[0]}..{result.cutoffs[-1]}; "
        f"{seconds:.0f} s"
    )
    print(format_table(result.table))
    ours = result.evaluations["lightgbm"]
    scored = result.forecasts["lightgbm"].join(panel.rename({"y": "actual"}), on=["item_id", "period"])
    below = float((scored["actual"] < scored["q_0.1"]).mean() or 0.0)
    above = float((scored["actual"] > scored["q_0.9"]).mean() or 0.0)
    zero_share = float((scored["actual"] == 0).mean() or 0.0)
    print(
        f"lightgbm tails: {below:.4f} of actuals below q_0.1 (nominal at most 0.10), {above:.4f} above q_0.9 "
        f"(nominal at most 0.10); zero share of scored actuals {zero_share:.4f}"
    )
    totals = []
    for method, forecast in result.forecasts.items():
        joined = forecast.join(panel.rename({"y": "actual"}), on=["item_id", "period"])
        per_cut = joined.group_by("cutoff").agg(pl.col("mean").sum(), pl.col("actual").sum())
        ratios = (per_cut["mean"] / per_cut["actual"]).to_list()
        totals.append(f"{method} {min(ratios):.3f}..{max(ratios):.3f}")
    print("total forecast / total actual per cut-off (min..max): " + "; ".join(totals))
    pit = result.pit["lightgbm"]
    print(
        "lightgbm PIT histogram by decile (0.100 each when calibrated): "
        + " ".join(f"{share:.3f}" for share in pit.histogram)
    )
    # RMSSE's per-series square root rewards forecasting less than the mean on sparse series: the all-zero
    # forecast shows how far, on the same points.
    zero = result.forecasts["lightgbm"].with_columns(
        *(pl.lit(0.0).alias(c) for c in result.forecasts["lightgbm"].columns if c == "mean" or c.startswith("q_"))
    )
    nothing = evaluate(zero, panel, panel, BACKTEST_LEVELS).overall
    print(
        f"reference, 0 forecast for every item and period: RMSSE {nothing['rmsse']:.4f}, SPL {nothing['spl']:.4f}, "
        f"MAE {nothing['mae']:.4f}, bias {nothing['bias']:.4f}"
    )
    dormancy_split(result, panel, frequency)
    for method in ("lightgbm", min(BASELINES, key=lambda name: result.evaluations[name].overall["spl"])):
        spl = {q: evaluate(result.forecasts[method], panel, panel, [q]).overall["spl"] for q in BACKTEST_LEVELS}
        print(f"SPL per quantile level, {method}: " + ", ".join(f"{q}: {v:.4f}" for q, v in spl.items()))
    print("lightgbm by segment:")
    print(ours.by_segment.select("segment", "n", "mae", "rmsse", "spl", "coverage", "bias"))
    sys.stdout.flush()


def dormancy_split(result: BacktestResult, panel: pl.DataFrame, frequency: Frequency) -> None:
    """RMSSE and mean demand of each method on series that sold within the window average's window before the
    cut-off ("active") and on those that did not ("dormant"), where window average forecasts 0."""
    window = default_window(frequency)
    cutoffs = pl.DataFrame({"cutoff": result.cutoffs})
    recent = (
        panel.join(cutoffs, how="cross")
        .filter(pl.col("period") <= pl.col("cutoff"))
        .sort("period")
        .group_by("item_id", "cutoff")
        .agg(pl.col("y").tail(window).sum().alias("recent"))
    )
    print(f"RMSSE by whether the series sold in the {window} periods before the cut-off (mean forecast / actual):")
    for method in ("lightgbm", "window_average", "tsb", "croston_sba", "naive"):
        forecast = result.forecasts[method].join(recent, on=["item_id", "cutoff"], how="left")
        cells = []
        for segment, rule in (("active", pl.col("recent") > 0), ("dormant", pl.col("recent") == 0)):
            part = forecast.filter(rule).drop("recent")
            rmsse = evaluate(part, panel, panel, BACKTEST_LEVELS).overall["rmsse"]
            scored = part.join(panel, on=["item_id", "period"])
            cells.append(
                f"{segment} {rmsse:.4f} ({scored['mean'].mean():.4f} / {scored['y'].mean():.4f}, n {scored.height})"
            )
        print(f"  {method:<15}" + "; ".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(SETUP), action="append")
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--months", type=int, default=48)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    cases = args.only or list(SETUP)
    if "synthetic" in cases:
        sales = synthetic_sales(args.items, args.months, args.seed)
        # The stock snapshot describes only the end of the data: backtests use sales history alone.
        panel = build_panel(SalesData(sales.sales, sales.attributes, None, sales.report), Frequency.MONTH)
        zeros = float((panel["y"] == 0).mean() or 0.0)
        text = (
            f"synthetic shop, {args.items} records x {args.months} months (seed {args.seed}), "
            f"{panel.height:,} rows, {zeros:.1%} zeros"
        )
        run("synthetic", panel, sales.attributes, text)
    for case in ("real-M", "real-W"):
        if case in cases:
            panel, _, text = load_real_panel(SETUP[case][0])
            run(case, panel, None, text)


if __name__ == "__main__":
    main()
