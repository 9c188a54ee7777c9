"""Train + predict time and peak memory of the default model on the two reference sizes.

* ``monthly``: 50,000 records x 60 months (the cloud-function case: 2 vCPU, 4 GB, 600 s for train + predict);
* ``weekly``: 3,000 records x 104 ISO weeks.

The data comes from the synthetic shop generator (canonical frames, no file round trip). Each case runs in a
fresh subprocess so its peak RSS (``ru_maxrss``) is its own. Run:
``hatch run bench:python benchmarks/model_speed.py [--case monthly|weekly] [--threads N]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

from shop_sales import shop_sales

from plastinka_forecasting.api import predict, train

CASES = {"monthly": ("M", 50_000, 60, 12), "weekly": ("W", 3_000, 24, 13)}


def run_case(name: str, threads: int) -> dict[str, object]:
    freq, items, months, horizon = CASES[name]
    started = time.perf_counter()
    sales = shop_sales(items, months, 11, with_stock=True)
    generated = time.perf_counter() - started
    t0 = time.perf_counter()
    model = train(sales, frequency=freq, horizon=horizon, params={"num_threads": threads})
    t1 = time.perf_counter()
    forecast = predict(model)
    t2 = time.perf_counter()
    return {
        "case": name,
        "series": int(model.info["items"]),
        "periods": int(model.info["periods"]),
        "horizon": horizon,
        "train_rows": int(model.info["train_rows"]),
        "rounds": model.rounds,
        "generate_s": round(generated, 1),
        "train_s": round(t1 - t0, 1),
        "predict_s": round(t2 - t1, 1),
        "train_predict_s": round(t2 - t0, 1),
        "forecast_rows": forecast.height,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=sorted(CASES), action="append")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_case(args.child, args.threads)))
        return
    for name in args.case or list(CASES):
        out = subprocess.run(
            [sys.executable, __file__, "--child", name, "--threads", str(args.threads)],
            check=True,
            capture_output=True,
            text=True,
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
        print(" ".join(f"{k}={v}" for k, v in result.items()), flush=True)


if __name__ == "__main__":
    main()
