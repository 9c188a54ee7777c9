"""Train + predict time and peak memory of our default model beside mlforecast + LightGBM and statsforecast.

Four cases, the same data for every method of a case (a panel zero-filled from each item's first sale):

* ``weekly``: the synthetic shop (``plastinka_forecasting.generate_shop``), 3,000 records x 104 ISO weeks (24
  months), horizon 13;
* ``monthly``: the synthetic shop, 50,000 records x 60 months, horizon 12 (the cloud-function case: 2 vCPU,
  4 GB, 600 s);
* ``online-retail-weekly`` / ``online-retail-monthly``: Online Retail II (``online_retail.py``), 4,294 items x
  79 ISO weeks, horizon 13 / 4,274 items x 18 months, horizon 3: real item-level sales.

Methods, each in a fresh subprocess so its peak RSS (``ru_maxrss``) is its own:

* ``ours``: ``plastinka_forecasting.train`` (defaults) then ``predict``;
* ``mlforecast_lgbm``: ``MLForecast`` with a ``LGBMRegressor`` (Tweedie objective, defaults otherwise),
  lags and rolling means of comparable reach, calendar feature; recursive, point forecasts only;
* ``statsforecast``: ``StatsForecast`` with CrostonOptimized, TSB and ADIDA, point forecasts only (a first
  call on a tiny panel warms it up; its time is printed apart as ``warmup_s``);
* ``ours_tsb``: our polars TSB baseline with quantiles: the reference every time is divided by, so ratios
  stay comparable on a busy machine.

Peak RSS includes the Python process, the data and the libraries: ``data_rss_mb`` is the RSS once the panel is
built, before the method runs. Each case ends with ``ours / mlforecast``, the time ratio issue 11 aims to keep
within 10x. Run: ``hatch run bench:python benchmarks/speed.py [--case weekly|monthly]
[--method NAME] [--threads N]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from typing import Any

import polars as pl
from online_retail import online_retail_sales
from shop_sales import shop_sales

from plastinka_forecasting.api import predict, train
from plastinka_forecasting.baselines import forecast_baseline
from plastinka_forecasting.frames import SalesData
from plastinka_forecasting.panel import build_panel
from plastinka_schemas import DEFAULT_QUANTILES

#: case -> (frequency, records, months of data, horizon); records 0 = Online Retail II (its own size)
CASES = {
    "weekly": ("W", 3_000, 24, 13),
    "monthly": ("M", 50_000, 60, 12),
    "online-retail-weekly": ("W", 0, 18, 13),
    "online-retail-monthly": ("M", 0, 18, 3),
}
METHODS = ("ours_tsb", "ours", "mlforecast_lgbm", "statsforecast")
REFERENCE = "ours_tsb"
SEED = 11


def _rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 0)


def _nixtla_frame(panel: pl.DataFrame) -> Any:
    """The panel in the Nixtla libraries' long format (pandas: ``unique_id``, ``ds``, ``y``)."""
    frame = panel.select(
        pl.col("item_id").alias("unique_id"), pl.col("period").cast(pl.Datetime("ns")).alias("ds"), pl.col("y")
    )
    return frame.to_pandas()


def _nixtla_freq(freq: str) -> str:
    return "MS" if freq == "M" else "W-MON"


def _run_ours(sales: SalesData, freq: str, horizon: int, threads: int) -> dict[str, Any]:
    model = train(sales, frequency=freq, horizon=horizon, params={"num_threads": threads})
    fit_done = time.perf_counter()
    forecast = predict(model)
    return {"fit_done": fit_done, "rows": forecast.height, "rounds": model.rounds}


def _run_mlforecast(panel: pl.DataFrame, freq: str, horizon: int, threads: int) -> dict[str, Any]:
    # Imported here so each subprocess loads only the library it times (its peak RSS is its own).
    import lightgbm as lgb  # noqa: PLC0415
    from mlforecast import MLForecast  # noqa: PLC0415
    from mlforecast.lag_transforms import RollingMean  # noqa: PLC0415

    df = _nixtla_frame(panel)
    if freq == "M":
        lags, windows, calendar = [1, 2, 3, 6, 12], [3, 6, 12], ["month"]
    else:
        lags, windows, calendar = [1, 2, 4, 8, 13, 52], [4, 13, 26], ["week"]
    regressor = lgb.LGBMRegressor(objective="tweedie", n_jobs=threads, verbosity=-1, random_state=0)
    forecaster = MLForecast(
        models={"lgbm": regressor},
        freq=_nixtla_freq(freq),
        lags=lags,
        lag_transforms={1: [RollingMean(window_size=w) for w in windows]},
        date_features=calendar,
        num_threads=threads,
    )
    forecaster.fit(df)
    fit_done = time.perf_counter()
    forecast = forecaster.predict(horizon)
    return {"fit_done": fit_done, "rows": len(forecast)}


def _statsforecast(freq: str, threads: int) -> Any:
    from statsforecast import StatsForecast  # noqa: PLC0415
    from statsforecast.models import ADIDA, TSB, CrostonOptimized  # noqa: PLC0415

    models = [CrostonOptimized(), TSB(alpha_d=0.2, alpha_p=0.2), ADIDA()]
    return StatsForecast(models=models, freq=_nixtla_freq(freq), n_jobs=threads)


def _run_statsforecast(panel: pl.DataFrame, freq: str, horizon: int, threads: int) -> dict[str, Any]:
    # First-call costs (lazy imports, one-off set-up) are paid on a tiny panel first and reported apart.
    tiny = panel.filter(pl.col("item_id").is_in(panel["item_id"].unique().sort().head(3).implode()))
    warmup_start = time.perf_counter()
    _statsforecast(freq, 1).forecast(df=_nixtla_frame(tiny), h=horizon)
    warmup_s = time.perf_counter() - warmup_start
    started = time.perf_counter()
    forecast = _statsforecast(freq, threads).forecast(df=_nixtla_frame(panel), h=horizon)
    return {"started": started, "fit_done": None, "rows": len(forecast), "warmup_s": round(warmup_s, 1)}


def run_case(case: str, method: str, threads: int) -> dict[str, Any]:
    freq, items, months, horizon = CASES[case]
    real = case.startswith("online-retail")
    sales = online_retail_sales(freq) if real else shop_sales(items, months, SEED, with_stock=False)
    panel = build_panel(sales, freq)
    data_rss = _rss_mb()
    started = time.perf_counter()
    if method == "ours":
        out = _run_ours(sales, freq, horizon, threads)
    elif method == "ours_tsb":
        forecast = forecast_baseline("tsb", panel, horizon, freq, DEFAULT_QUANTILES)
        out = {"fit_done": None, "rows": forecast.height}
    elif method == "mlforecast_lgbm":
        out = _run_mlforecast(panel, freq, horizon, threads)
    elif method == "statsforecast":
        out = _run_statsforecast(panel, freq, horizon, threads)
        started = out.pop("started")
    else:
        raise ValueError(f"unknown method {method!r}")
    finished = time.perf_counter()
    fit_done = out.pop("fit_done")
    result = {
        "case": case,
        "method": method,
        "series": panel["item_id"].n_unique(),
        "panel_rows": panel.height,
        "horizon": horizon,
        "total_s": round(finished - started, 2),
        "train_s": round(fit_done - started, 2) if fit_done else None,
        "predict_s": round(finished - fit_done, 2) if fit_done else None,
        "data_rss_mb": data_rss,
        "peak_rss_mb": _rss_mb(),
    }
    result.update(out)
    return result


def _child(case: str, method: str, threads: int) -> dict[str, Any] | str:
    done = subprocess.run(
        [sys.executable, __file__, "--child", f"{case}:{method}", "--threads", str(threads)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        return lines[-1] if lines else f"exit {done.returncode}"
    parsed: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return parsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=sorted(CASES), action="append")
    parser.add_argument("--method", choices=METHODS, action="append")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        case, method = args.child.split(":")
        print(json.dumps(run_case(case, method, args.threads)))
        return
    methods = args.method or list(METHODS)
    if REFERENCE not in methods:
        methods.insert(0, REFERENCE)
    for case in args.case or list(CASES):
        freq, items, months, horizon = CASES[case]
        size = f"{items:,} records x {months} months" if items else "Online Retail II"
        print(f"\n## {case}: {size} ({freq}), horizon {horizon}, {args.threads} threads")
        results: dict[str, dict[str, Any]] = {}
        for method in methods:
            result = _child(case, method, args.threads)
            if isinstance(result, str):
                print(f"{method:<16} failed: {result}", flush=True)
                continue
            results[method] = result
            print(json.dumps(result), flush=True)
        reference = results.get(REFERENCE, {}).get("total_s")
        ours = results.get("ours", {}).get("total_s")
        print(f"{'method':<16}{'total s':>9}{'peak MB':>9}{'x ref':>9}{'x ours':>9}")
        for method, result in results.items():
            total = result["total_s"]
            x_ref = f"{total / reference:>9.1f}" if reference else f"{'-':>9}"
            x_ours = f"{total / ours:>9.2f}" if ours else f"{'-':>9}"
            print(f"{method:<16}{total:>9.1f}{result['peak_rss_mb']:>9.0f}{x_ref}{x_ours}", flush=True)
        rival = results.get("mlforecast_lgbm", {}).get("total_s")
        if ours and rival:
            print(f"ours / mlforecast_lgbm: {ours / rival:.1f}x (issue 11 aims at 10x or less)", flush=True)


if __name__ == "__main__":
    main()
