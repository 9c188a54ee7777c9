"""The model subcommands of ``plastinka-forecast``: ``train``, ``predict`` and ``backtest``.

Each ``add_<name>(subcommands)`` declares its arguments and the ``run_<name>`` it runs, as in
:mod:`plastinka_forecasting.cli`, which lists them in its ``COMMANDS``. Bad parameters and unusable models end
as one line and exit code 1.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl

from plastinka_forecasting.api import predict, train
from plastinka_forecasting.artifacts import ArtifactError, load_model, save_model
from plastinka_forecasting.backtest import backtest, format_table
from plastinka_forecasting.cli_args import (
    CommandError,
    Subcommands,
    add_frequency,
    add_sales_export,
    positive_int,
    subcommand,
)
from plastinka_forecasting.frames import SalesData
from plastinka_forecasting.ingest import load_sales
from plastinka_schemas import DEFAULT_QUANTILES

__all__ = ["MODEL_COMMANDS", "add_backtest", "add_predict", "add_train"]

_OUTPUT_SUFFIXES = (".csv", ".parquet", ".xlsx")


def _progress(fraction: float, message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {fraction:4.0%} {message}", file=sys.stderr, flush=True)


@contextmanager
def _failing_on(*errors: type[Exception]) -> Iterator[None]:
    """Bad parameters or an unusable model (``errors``) end as the command's one-line failure."""
    try:
        yield
    except errors as error:
        raise CommandError(str(error)) from error


def _read(data: Path, stock: Path | None = None) -> SalesData:
    _progress(0.0, f"reading {data}" + (f" and {stock}" if stock else ""))
    return load_sales(data, stock)


def _quantiles(text: str) -> tuple[float, ...]:
    try:
        levels = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers like 0.1,0.5,0.9, not {text!r}") from error
    if not levels or any(not 0.0 < q < 1.0 for q in levels) or len(set(levels)) != len(levels):
        raise argparse.ArgumentTypeError(f"quantiles must be distinct numbers strictly between 0 and 1: {text!r}")
    return tuple(sorted(levels))


def add_train(subcommands: Subcommands) -> None:
    parser = subcommand(subcommands, "train", run_train)
    add_sales_export(parser, stock="stock snapshot: every stocked item gets a forecast")
    add_frequency(parser)
    parser.add_argument("--horizon", type=positive_int, required=True, help="periods ahead (M: 1-12, W: 1-52)")
    parser.add_argument(
        "--quantiles",
        type=_quantiles,
        default=DEFAULT_QUANTILES,
        help="comma-separated levels (default " + ",".join(str(q) for q in DEFAULT_QUANTILES) + ")",
    )
    parser.add_argument("--tune", action="store_true", help="cross-validate a small search space first")
    parser.add_argument("--time-budget", type=float, default=300.0, help="tuning budget in seconds (default 300)")
    parser.add_argument("--out", required=True, type=Path, help="model directory (created)")


def run_train(args: argparse.Namespace) -> int:
    """train the forecasting model on a sales export and save it to a directory

    Writes model.txt (LightGBM text), meta.json and Parquet history into --out; no pickle.
    """
    data = _read(args.data, args.stock)
    with _failing_on(ValueError):
        model = train(
            data,
            frequency=args.freq,
            horizon=args.horizon,
            quantiles=args.quantiles,
            tune=args.tune,
            time_budget_s=args.time_budget,
            progress=_progress,
        )
    files = save_model(model, args.out)
    info = model.info
    print(
        f"trained: {info['items']} items x {info['periods']} periods ({model.first_period} .. {model.last_period}), "
        f"frequency {model.frequency.value}, horizon {model.horizon}, {model.rounds} boosting rounds, "
        f"{info['train_seconds']} s"
    )
    if "partial_period" in info:
        print(f"note: {info['partial_period']['note']}")
    for line in model.combination.summary() if model.combination is not None else ():
        print(f"chosen on held-out origins, {line}")
    print(f"model: {args.out} ({', '.join(sorted(p.name for p in files.values()))})")
    return 0


def add_predict(subcommands: Subcommands) -> None:
    parser = subcommand(subcommands, "predict", run_predict)
    parser.add_argument("--model", required=True, type=Path, help="model directory written by train")
    parser.add_argument("--data", type=Path, help="newer sales export of the same shop")
    parser.add_argument("--stock", type=Path, help="stock snapshot to go with --data")
    parser.add_argument("--horizon", type=positive_int, help="periods ahead (at most the trained horizon)")
    parser.add_argument("--items", help="comma-separated item ids (default: every item)")
    parser.add_argument("--out", required=True, type=Path, help="output file: .csv, .parquet or .xlsx")


def write_forecast(forecast: pl.DataFrame, path: Path) -> None:
    """Write ``forecast`` in the format its suffix names (csv, parquet or xlsx)."""
    suffix = path.suffix.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        forecast.write_csv(path)
    elif suffix == ".parquet":
        forecast.write_parquet(path)
    elif suffix == ".xlsx":
        forecast.write_excel(path, worksheet="forecast", autofit=True)
    else:
        raise CommandError(f"--out must end with {', '.join(_OUTPUT_SUFFIXES)}, not {path.name!r}")


def run_predict(args: argparse.Namespace) -> int:
    """forecast with a saved model and write item_id, period, mean, q_<level>..., attributes

    Without --data the model forecasts from the history it was trained on.
    """
    if args.out.suffix.lower() not in _OUTPUT_SUFFIXES:
        raise CommandError(f"--out must end with {', '.join(_OUTPUT_SUFFIXES)}, not {args.out.name!r}")
    if args.stock and not args.data:
        raise CommandError("--stock needs --data")
    with _failing_on(ArtifactError):
        model = load_model(args.model)
    data = _read(args.data, args.stock) if args.data else None
    items = [part.strip() for part in args.items.split(",") if part.strip()] if args.items else None
    with _failing_on(ValueError):
        forecast = predict(model, data, horizon=args.horizon, items=items)
    write_forecast(forecast, args.out)
    print(f"forecast: {forecast.get_column('item_id').n_unique()} items, {forecast.height} rows -> {args.out}")
    return 0


def add_backtest(subcommands: Subcommands) -> None:
    parser = subcommand(subcommands, "backtest", run_backtest)
    add_sales_export(parser)
    add_frequency(parser)
    parser.add_argument("--horizon", type=positive_int, required=True)
    parser.add_argument("--windows", type=positive_int, default=3, help="number of cut-offs (default 3)")
    parser.add_argument("--step", type=positive_int, help="periods between cut-offs (default: the horizon)")


def run_backtest(args: argparse.Namespace) -> int:
    """rolling-origin backtest: the model beside every baseline, in units

    Trains from scratch at each cut-off; the last window ends with the data.
    """
    data = _read(args.data)
    with _failing_on(ValueError):
        result = backtest(
            data,
            frequency=args.freq,
            horizon=args.horizon,
            windows=args.windows,
            step=args.step,
            progress=_progress,
        )
    cutoffs = ", ".join(d.isoformat() for d in result.cutoffs)
    print(f"rolling-origin backtest, horizon {args.horizon}, cut-offs {cutoffs}")
    print(format_table(result.table))
    print(
        "lower is better for every column except cover80 (share of actuals inside q_0.1..q_0.9) and pit80 (the same\n"
        "with an actual on an interval end counted by the share of its probability inside; aim 0.80): on whole-\n"
        "number sales with many zeros cover80 exceeds 0.80 even for a calibrated forecast, pit80 does not"
    )
    return 0


#: The subcommands this module adds, in ``--help`` order.
MODEL_COMMANDS = [add_train, add_predict, add_backtest]
