"""Cold import time of each function's ``index`` module, against ``python -c pass`` measured in the same run.

Each sample is a fresh interpreter (what a cold start pays before the handler runs). Also measured: the heavy
imports the handlers defer to their first call (polars, lightgbm, aioboto3 via the cores), to show what the
deferral moves out of module import. Run: ``hatch run python benchmarks/cold_import.py [--repeat N]``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = ("train-function", "predict-function")
DEFERRED = (
    "import plastinka_forecasting.api, plastinka_forecasting.artifacts, plastinka_forecasting.ingest, plastinka_storage"
)


class ImportFailed(RuntimeError):
    pass


def sample(code: str, cwd: Path, python: str) -> float:
    started = time.perf_counter()
    done = subprocess.run([python, "-c", code], cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise ImportFailed(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}")
    return elapsed


def measure(code: str, cwd: Path, python: str, repeat: int) -> list[float]:
    sample(code, cwd, python)  # warm the OS file cache once; every counted sample is still a new interpreter
    return [sample(code, cwd, python) for _ in range(repeat)]


def row(label: str, times: list[float], baseline: float | None) -> str:
    median = statistics.median(times)
    p90 = sorted(times)[max(0, int(len(times) * 0.9) - 1)]
    over = f"{(median - baseline) * 1000:8.1f}" if baseline is not None else f"{'-':>8}"
    return f"{label:<44} {median * 1000:8.1f} {p90 * 1000:8.1f} {over}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--python", default=sys.executable, help="interpreter to measure (default: this one)")
    args = parser.parse_args()
    print(f"python: {args.python}  repeats: {args.repeat}")
    print(f"{'what':<44} {'median':>8} {'p90':>8} {'+base':>8}   (milliseconds)")
    baseline_times = measure("pass", ROOT, args.python, args.repeat)
    baseline = statistics.median(baseline_times)
    print(row("python -c pass (baseline)", baseline_times, None))
    cases = [(f"{name}: import index", "import index", ROOT / "services" / name) for name in FUNCTIONS]
    cases.append(("deferred to the first call (forecasting+storage)", DEFERRED, ROOT))
    for label, code, cwd in cases:
        try:
            print(row(label, measure(code, cwd, args.python, args.repeat), baseline))
        except ImportFailed as exc:
            print(f"{label:<44} failed: {exc}")


if __name__ == "__main__":
    main()
