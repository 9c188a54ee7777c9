"""Rolling-origin backtest: our model beside every baseline, on the same origins, items and metrics.

For each of ``windows`` cut-offs (the last one ``horizon`` periods before the end of the data, earlier ones
``step`` periods apart) the history is truncated at the cut-off, the default model is trained on it from
scratch, every baseline forecasts from it, and all forecasts of all windows are scored together by
:func:`plastinka_forecasting.metrics.evaluate` (each series scaled by its own history up to its cut-off).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

import polars as pl

from plastinka_forecasting.baselines import BASELINES, forecast_baseline
from plastinka_forecasting.frames import PERIOD, SalesData
from plastinka_forecasting.metrics import CUTOFF, Evaluation, evaluate
from plastinka_forecasting.model import ModelParams, Progress, fit_panel, predict_panel
from plastinka_forecasting.panel import build_panel, truncate_panel
from plastinka_forecasting.point import PointShrink
from plastinka_schemas import Frequency

__all__ = [
    "BACKTEST_LEVELS",
    "MODEL_NAME",
    "VARIANT_NAMES",
    "BacktestResult",
    "backtest",
    "backtest_panel",
    "format_table",
]

#: Quantile levels scored in backtests: the defaults plus the 80% interval's bounds.
BACKTEST_LEVELS: tuple[float, ...] = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
MODEL_NAME = "lightgbm"
#: The same trained models with another point forecast (see :mod:`plastinka_forecasting.point`): the expected
#: demand recalibrated by held-out ratios and the RMSSE-optimal shrunk point. Their quantiles are the model's.
VARIANT_NAMES: dict[str, str] = {"calibrated": "lightgbm_calibrated", "rmsse": "lightgbm_rmsse"}
_COLUMNS = ("method", "n", "mae", "rmse", "rmsse", "spl", "coverage", "bias", "winkler")


@dataclass(frozen=True)
class BacktestResult:
    """``table``: one row per method (ours first); ``evaluations`` and ``forecasts`` (with ``cutoff``) by name."""

    table: pl.DataFrame
    evaluations: dict[str, Evaluation]
    forecasts: dict[str, pl.DataFrame]
    cutoffs: list[date]


def _cutoffs(periods: list[date], horizon: int, windows: int, step: int) -> list[date]:
    last = len(periods) - 1 - horizon
    positions = [last - step * (windows - 1 - i) for i in range(windows)]
    if positions[0] < 2:
        raise ValueError(
            f"{len(periods)} periods are too few for {windows} backtest windows of {horizon} (step {step})"
        )
    return [periods[p] for p in positions]


def backtest_panel(
    panel: pl.DataFrame,
    attributes: pl.DataFrame | None,
    *,
    frequency: Frequency,
    horizon: int,
    windows: int,
    step: int | None = None,
    quantiles: Sequence[float] = BACKTEST_LEVELS,
    params: ModelParams | None = None,
    baselines: Sequence[str] = BASELINES,
    with_expected: bool = True,
    progress: Progress | None = None,
) -> BacktestResult:
    """Backtest on a history panel; see the module docstring.

    With ``with_expected`` the table also shows the same trained models with the other point forecasts
    (:data:`VARIANT_NAMES`) beside the default; their quantiles are the same.
    """
    frequency = Frequency(frequency)
    levels = tuple(sorted({float(q) for q in quantiles}))
    periods = sorted(panel.get_column(PERIOD).unique().to_list())
    cutoffs = _cutoffs(periods, horizon, windows, step or horizon)
    report = progress or (lambda _f, _m: None)
    variants = VARIANT_NAMES if with_expected else {}
    parts: dict[str, list[pl.DataFrame]] = {
        MODEL_NAME: [],
        **{name: [] for name in variants.values()},
        **{name: [] for name in baselines},
    }
    for i, cutoff in enumerate(cutoffs):
        report(i / len(cutoffs), f"window {i + 1}/{len(cutoffs)}: cut-off {cutoff}")
        history = truncate_panel(panel, cutoff)
        model = fit_panel(history, attributes, frequency=frequency, horizon=horizon, quantiles=levels, params=params)
        stamp = pl.lit(cutoff).alias(CUTOFF)
        parts[MODEL_NAME].append(predict_panel(model, history, attributes, horizon=horizon).with_columns(stamp))
        points = model.info.get("holdout", {}).get("points", {})
        for point, name in variants.items():
            if point in points and point != model.params.point:
                other = replace(model, shrink=PointShrink.from_json(points[point]))
                parts[name].append(predict_panel(other, history, attributes, horizon=horizon).with_columns(stamp))
        for name in baselines:
            parts[name].append(forecast_baseline(name, history, horizon, frequency, levels).with_columns(stamp))
    report(1.0, "scoring")
    forecasts = {name: pl.concat(frames) for name, frames in parts.items() if frames}
    evaluations = {name: evaluate(f, panel, panel, levels) for name, f in forecasts.items()}
    rows = [{"method": name, **{k: ev.overall.get(k) for k in _COLUMNS[1:]}} for name, ev in evaluations.items()]
    table = pl.DataFrame(rows).select(_COLUMNS)
    return BacktestResult(table, evaluations, forecasts, cutoffs)


def backtest(
    sales: SalesData,
    *,
    frequency: Frequency,
    horizon: int,
    windows: int,
    step: int | None = None,
    quantiles: Sequence[float] = BACKTEST_LEVELS,
    params: ModelParams | None = None,
    progress: Progress | None = None,
) -> BacktestResult:
    """Backtest on a validated dataset (its stock snapshot is ignored: it describes only the end)."""
    panel = build_panel(SalesData(sales.sales, sales.attributes, None, sales.report), frequency)
    return backtest_panel(
        panel,
        sales.attributes,
        frequency=frequency,
        horizon=horizon,
        windows=windows,
        step=step,
        quantiles=quantiles,
        params=params,
        progress=progress,
    )


def format_table(table: pl.DataFrame) -> str:
    """A fixed-width text table (lower is better except ``coverage``, which should be near 0.80)."""
    header = f"{'method':<16}{'n':>9}{'MAE':>9}{'RMSE':>9}{'RMSSE':>9}{'SPL':>9}{'cover80':>9}{'bias':>9}{'winkler':>9}"
    lines = [header]
    for row in table.iter_rows(named=True):
        cells = [f"{row['method']:<16}", f"{int(row['n'] or 0):>9d}"]
        for key in _COLUMNS[2:]:
            value = row[key]
            cells.append(f"{value:>9.4f}" if value is not None else f"{'-':>9}")
        lines.append("".join(cells))
    return "\n".join(lines)
