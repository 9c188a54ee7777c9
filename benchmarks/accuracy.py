"""Accuracy of the default model beside every baseline, by rolling-origin backtest, on synthetic and real data.

* ``synthetic``: the synthetic shop (``plastinka_forecasting.synthetic``) written in the shop's export format
  and read back through ingestion, monthly;
* ``real-M`` / ``real-W``: the CDNOW log (``real_data.py``), with the same folds as ``baselines_real.py``;
* ``online-retail-W`` / ``online-retail-M``: Online Retail II item-level sales (``online_retail.py``), weekly
  (horizon 13, 7 origins 6 weeks apart, 2010-06-21 .. 2011-02-28) and monthly (horizon 3, 7 origins a month
  apart, 2010-08 .. 2011-02: the horizons cover 2010-09 .. 2011-05); both include the autumn peak.

Every table comes from :func:`plastinka_forecasting.backtest.backtest_panel` with the default parameters (the
same origins, items and metrics for every method), scored by ``score_table``: SPL, M5's WRMSSE (revenue weights
over the last year before each cut-off), RMSSE, bias of totals, pit80 and the 80% interval's strict and
inclusive cover; then the default's ratio to the best baseline and a PASS/FAIL line per criterion of issue 11.
Run: ``hatch run bench:python benchmarks/accuracy.py [--only CASE ...] [--items N --months M]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from plastinka_forecasting.backtest import (
    BACKTEST_LEVELS,
    MODEL_NAME,
    BacktestResult,
    backtest_panel,
    format_table,
    score_table,
)
from plastinka_forecasting.baselines import BASELINES
from plastinka_forecasting.baselines._methods import default_window, season_length
from plastinka_forecasting.frames import SalesData
from plastinka_forecasting.ingest import load_sales
from plastinka_forecasting.metrics import CUTOFF, evaluate, wrmsse
from plastinka_forecasting.panel import build_panel
from plastinka_forecasting.synthetic import generate_shop, write_shop
from plastinka_schemas import Frequency

sys.path.insert(0, str(Path(__file__).parent))
from online_retail import load_online_retail_panel
from real_data import customer_prices, load_real_panel


@dataclass(frozen=True)
class Case:
    """The folds of one data set: the last cut-off ``horizon`` periods before the end, the others ``step``
    apart; ``real`` data must beat the best baseline's SPL by 5%."""

    frequency: Frequency
    horizon: int
    windows: int
    step: int
    real: bool = False


SETUP = {
    "synthetic": Case(Frequency.MONTH, 3, 4, 3),
    "real-M": Case(Frequency.MONTH, 3, 4, 1),  # the CDNOW folds match baselines_real.py
    "real-W": Case(Frequency.WEEK, 8, 6, 4),
    "online-retail-W": Case(Frequency.WEEK, 13, 7, 6, real=True),
    "online-retail-M": Case(Frequency.MONTH, 3, 7, 1, real=True),
}
#: Issue 11's bars: pit80 band, plain cover80 band (read as [strict, inclusive]), bias of totals, SPL on real data.
PIT_BAND = (0.78, 0.82)
COVER_BAND = (0.75, 0.85)
MAX_TOTALS_BIAS = 0.10
REAL_SPL_RATIO = 0.95


def synthetic_sales(items: int, months: int, seed: int) -> SalesData:
    shop = generate_shop(items, months, seed=seed)
    with tempfile.TemporaryDirectory() as tmp:
        files = write_shop(shop, tmp, fmt="csv")
        return load_sales(files.sales, files.stock)


def best_baselines(scores: pl.DataFrame) -> dict[str, tuple[str, float]]:
    """The best baseline per metric: lowest SPL, WRMSSE and RMSSE, smallest |bias of totals|, pit80 nearest 0.80."""
    rows = scores.filter(pl.col("method").is_in(BASELINES))
    keys = {
        "spl": pl.col("spl"),
        "wrmsse": pl.col("wrmsse"),
        "rmsse": pl.col("rmsse"),
        "bias_totals": pl.col("bias_totals").abs(),
        "pit80": (pl.col("pit80") - 0.8).abs(),
    }
    best = {}
    for metric, key in keys.items():
        row = rows.with_columns(key.alias("_key")).drop_nulls("_key").sort("_key").row(0, named=True)
        best[metric] = (str(row["method"]), float(row[metric]))
    return best


def format_scores(scores: pl.DataFrame, best: dict[str, tuple[str, float]]) -> str:
    """A markdown table; ``*`` marks the best baseline of each metric."""
    lines = [
        "| method | SPL | WRMSSE | RMSSE | bias of totals: mean (range) | pit80 | cover80 [strict, inclusive] |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in scores.iter_rows(named=True):
        method = str(row["method"])
        mark = {metric: "*" if winner == method else "" for metric, (winner, _) in best.items()}
        name = f"{method} (default)" if method == MODEL_NAME else method
        lines.append(
            f"| {name} | {row['spl']:.4f}{mark['spl']} | {row['wrmsse']:.4f}{mark['wrmsse']} "
            f"| {row['rmsse']:.4f}{mark['rmsse']} | {row['bias_totals']:+.1%}{mark['bias_totals']} "
            f"({row['bias_totals_min']:+.1%}..{row['bias_totals_max']:+.1%}) | {row['pit80']:.4f}{mark['pit80']} "
            f"| [{row['cover80_strict']:.4f}, {row['cover80_inclusive']:.4f}] |"
        )
    return "\n".join(lines)


def verdict(scores: pl.DataFrame, best: dict[str, tuple[str, float]], *, real: bool, whole: bool) -> list[str]:
    """One PASS/FAIL line per criterion of issue 11, for the default model."""
    ours = scores.filter(pl.col("method") == MODEL_NAME).row(0, named=True)
    spl_ratio, wrmsse_ratio = ours["spl"] / best["spl"][1], ours["wrmsse"] / best["wrmsse"][1]
    lines = [
        f"default / best baseline: SPL {spl_ratio:.3f} (vs {best['spl'][0]}), "
        f"WRMSSE {wrmsse_ratio:.3f} (vs {best['wrmsse'][0]})"
    ]

    def check(ok: bool, text: str) -> None:
        lines.append(f"{'PASS' if ok else 'FAIL'}  {text}")

    check(spl_ratio < 1.0, f"SPL below the best baseline's: ratio {spl_ratio:.3f}")
    if real:
        check(spl_ratio <= REAL_SPL_RATIO, f"real data: SPL <= {REAL_SPL_RATIO} x best baseline: {spl_ratio:.3f}")
    check(wrmsse_ratio <= 1.0, f"WRMSSE at most the best baseline's: ratio {wrmsse_ratio:.3f}")
    check(abs(ours["bias_totals"]) <= MAX_TOTALS_BIAS, f"bias of totals within ±10%: {ours['bias_totals']:+.1%}")
    check(PIT_BAND[0] <= ours["pit80"] <= PIT_BAND[1], f"pit80 within {PIT_BAND}: {ours['pit80']:.4f}")
    if whole:
        strict, inclusive = ours["cover80_strict"], ours["cover80_inclusive"]
        check(
            strict <= COVER_BAND[1] and inclusive >= COVER_BAND[0],
            f"cover80 [strict, inclusive] = [{strict:.4f}, {inclusive:.4f}] meets {list(COVER_BAND)}",
        )
    return lines


def run(
    name: str,
    panel: pl.DataFrame,
    attributes: pl.DataFrame | None,
    description: str,
    price: pl.DataFrame | None,
    weights: str,
) -> None:
    case = SETUP[name]
    started = time.perf_counter()
    result = backtest_panel(
        panel, attributes, frequency=case.frequency, horizon=case.horizon, windows=case.windows, step=case.step
    )
    seconds = time.perf_counter() - started
    print(f"\n## {name}: {description}")
    print(
        f"horizon {case.horizon}, {case.windows} origins {case.step} apart, cut-offs "
        f"{', '.join(str(c) for c in result.cutoffs)}; {seconds:.0f} s"
    )
    window = season_length(case.frequency)
    scores = score_table(result, panel, window=window, price=price)
    best = best_baselines(scores)
    print(f"WRMSSE weights: {weights} over the last {window} periods before each cut-off; * = best baseline")
    print(format_scores(scores, best))
    print("best baseline per metric: " + ", ".join(f"{m} {n} {v:.4f}" for m, (n, v) in best.items()))
    whole = bool((panel["y"] == panel["y"].round()).all())
    print("\n".join(verdict(scores, best, real=case.real, whole=whole)))
    print(
        "bias of totals per origin, default: "
        + " ".join(f"{row['bias_totals']:+.1%}" for row in per_origin_bias(result, panel).iter_rows(named=True))
    )
    print(per_origin_ratios(result, panel, best, window=window, price=price))
    print("\nall metrics (pooled per point; RMSSE and SPL per series):")
    print(format_table(result.table))
    diagnostics(result, panel, case.frequency)
    sys.stdout.flush()


def per_origin_ratios(
    result: BacktestResult,
    panel: pl.DataFrame,
    best: dict[str, tuple[str, float]],
    *,
    window: int,
    price: pl.DataFrame | None,
) -> str:
    """The default's SPL and WRMSSE over the best baseline's, origin by origin."""

    def spl(name: str) -> dict[object, float]:
        per = result.evaluations[name].per_item.group_by(CUTOFF).agg(pl.col("spl").mean())
        return {row[CUTOFF]: float(row["spl"]) for row in per.iter_rows(named=True)}

    def wr(name: str) -> dict[object, float]:
        return dict(wrmsse(result.forecasts[name], panel, panel, window=window, price=price).per_fold)

    cells = []
    for metric, score in (("SPL", spl), ("WRMSSE", wr)):
        key = "spl" if metric == "SPL" else "wrmsse"
        ours, theirs = score(MODEL_NAME), score(best[key][0])
        ratios = " ".join(f"{ours[c] / theirs[c]:.3f}" for c in result.cutoffs if c in ours and c in theirs)
        cells.append(f"{metric} default / {best[key][0]} per origin: {ratios}")
    return "\n".join(cells)


def per_origin_bias(result: BacktestResult, panel: pl.DataFrame) -> pl.DataFrame:
    joined = result.forecasts[MODEL_NAME].join(panel.rename({"y": "actual"}), on=["item_id", "period"])
    per_cut = joined.group_by("cutoff").agg(pl.col("mean").sum(), pl.col("actual").sum()).sort("cutoff")
    return per_cut.select("cutoff", (pl.col("mean") / pl.col("actual") - 1.0).alias("bias_totals"))


def diagnostics(result: BacktestResult, panel: pl.DataFrame, frequency: Frequency) -> None:
    """For the model's engineer: tails, PIT histogram, the all-zero reference, RMSSE by recent sales, SPL per
    level, segments."""
    ours = result.evaluations[MODEL_NAME]
    scored = result.forecasts[MODEL_NAME].join(panel.rename({"y": "actual"}), on=["item_id", "period"])
    below = float((scored["actual"] < scored["q_0.1"]).mean() or 0.0)
    above = float((scored["actual"] > scored["q_0.9"]).mean() or 0.0)
    zero_share = float((scored["actual"] == 0).mean() or 0.0)
    print(
        f"lightgbm tails: {below:.4f} of actuals below q_0.1 (nominal at most 0.10), {above:.4f} above q_0.9 "
        f"(nominal at most 0.10); zero share of scored actuals {zero_share:.4f}"
    )
    pit = result.pit[MODEL_NAME]
    print(
        "lightgbm PIT histogram by decile (0.100 each when calibrated): "
        + " ".join(f"{share:.3f}" for share in pit.histogram)
    )
    # RMSSE's per-series square root rewards forecasting less than the mean on sparse series: the all-zero
    # forecast shows how far, on the same points.
    zero = result.forecasts[MODEL_NAME].with_columns(
        *(pl.lit(0.0).alias(c) for c in result.forecasts[MODEL_NAME].columns if c == "mean" or c.startswith("q_"))
    )
    nothing = evaluate(zero, panel, panel, BACKTEST_LEVELS).overall
    print(
        f"reference, 0 forecast for every item and period: RMSSE {nothing['rmsse']:.4f}, SPL {nothing['spl']:.4f}, "
        f"MAE {nothing['mae']:.4f}, bias {nothing['bias']:.4f}"
    )
    dormancy_split(result, panel, frequency)
    for method in (MODEL_NAME, min(BASELINES, key=lambda name: result.evaluations[name].overall["spl"])):
        spl = {q: evaluate(result.forecasts[method], panel, panel, [q]).overall["spl"] for q in BACKTEST_LEVELS}
        print(f"SPL per quantile level, {method}: " + ", ".join(f"{q}: {v:.4f}" for q, v in spl.items()))
    print("lightgbm by segment:")
    print(ours.by_segment.select("segment", "n", "mae", "rmsse", "spl", "coverage", "bias"))


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
        prices = sales.attributes.select("item_id", pl.col("price").cast(pl.Float64))
        run("synthetic", panel, sales.attributes, text, prices, "revenue (each record's list price x copies)")
    for case in ("real-M", "real-W"):
        if case in cases:
            panel, _, text = load_real_panel(SETUP[case].frequency)
            run(case, panel, None, text, customer_prices(), "revenue (each customer's dollars per CD x CDs)")
    for case in ("online-retail-W", "online-retail-M"):
        if case in cases:
            panel, prices, text = load_online_retail_panel(SETUP[case].frequency)
            run(case, panel, None, text, prices, "revenue (each item's mean unit price x copies)")


if __name__ == "__main__":
    main()
