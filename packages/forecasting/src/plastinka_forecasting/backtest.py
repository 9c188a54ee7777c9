"""Rolling-origin backtest: our model beside every baseline, on the same origins, items and metrics.

For each of ``windows`` cut-offs (the last one ``horizon`` periods before the end of the data, earlier ones
``step`` periods apart) the history is truncated at the cut-off, the default model is trained on it from
scratch, every baseline forecasts from it, and all forecasts of all windows are scored together by
:func:`plastinka_forecasting.metrics.evaluate` (each series scaled by its own history up to its cut-off).

With ``pit`` (the default) every method also forecasts the fine quantile grid
:data:`~plastinka_forecasting.pit.PIT_LEVELS`, which scores its calibration by the PIT
(:mod:`plastinka_forecasting.pit`): ``pit80`` is the 80% interval's coverage with an actual on an interval end
counted by the share of its probability inside, the fair reading of coverage on whole-number data, where the
plain ``coverage`` exceeds 0.80 by design. The grid is dropped after scoring: the forecasts keep the
requested levels only, whose values it does not change.

The windows run from the latest cut-off backwards, so a deadline (``time_left``) drops the oldest windows: a
window is started only when ``SAFETY`` times its estimated duration is left (the first estimate is
``window_seconds``, then the last window's measured time). ``max_pit_rows`` caps the forecast rows (items x
horizon) the PIT grid is scored on, which keeps a large shop's backtest in memory. With ``stop_on_error`` a
window whose training fails (too little data in an early window) ends the loop and the later ones are kept.
Either way ``BacktestResult.note`` says why fewer windows ran.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TypedDict, Unpack

import numpy as np
import polars as pl

from plastinka_forecasting.baselines import BASELINES, forecast_baseline
from plastinka_forecasting.frames import ITEM_ID, MEAN, PERIOD, SalesData, quantile_columns
from plastinka_forecasting.metrics import CUTOFF, Evaluation, evaluate, interval_cover, totals_bias, wrmsse
from plastinka_forecasting.model import ModelParams, Progress, fit_panel, predict_panel
from plastinka_forecasting.orders import backtest_orders
from plastinka_forecasting.panel import complete_panel, truncate_panel
from plastinka_forecasting.pit import PIT_LEVELS, PitSummary, pit_bounds, summarise_pit
from plastinka_forecasting.point import PointShrink
from plastinka_schemas import Frequency

__all__ = [
    "BACKTEST_LEVELS",
    "MODEL_NAME",
    "VARIANT_NAMES",
    "BacktestResult",
    "backtest",
    "backtest_panel",
    "feasible_windows",
    "format_table",
    "score_table",
]

#: Quantile levels scored in backtests: the defaults plus the 80% interval's bounds.
BACKTEST_LEVELS: tuple[float, ...] = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
MODEL_NAME = "lightgbm"
#: The same trained models with another point forecast (see :mod:`plastinka_forecasting.point`): the expected
#: demand recalibrated by held-out ratios and the RMSSE-optimal shrunk point. Their quantiles are the model's.
VARIANT_NAMES: dict[str, str] = {"calibrated": "lightgbm_calibrated", "rmsse": "lightgbm_rmsse"}
_COLUMNS = ("method", "n", "mae", "rmse", "rmsse", "spl", "coverage", "pit80", "bias", "winkler")
#: With a deadline, a window is started only when this many times its estimated duration is left.
SAFETY = 1.5


@dataclass(frozen=True)
class BacktestResult:
    """``table``: one row per method (ours first); ``evaluations``, ``forecasts`` (with ``cutoff``) and, when
    scored, ``pit`` by name."""

    table: pl.DataFrame
    evaluations: dict[str, Evaluation]
    forecasts: dict[str, pl.DataFrame]
    cutoffs: list[date]
    pit: dict[str, PitSummary] = field(default_factory=dict)
    #: The model's order suggestions per record, cut-off and service level, and whether each ran out
    #: (:func:`plastinka_forecasting.orders.backtest_orders`).
    orders: pl.DataFrame | None = None
    #: Why fewer windows ran than asked (the deadline, or a window that could not be trained); None when all ran.
    note: str | None = None


def feasible_windows(periods: int, horizon: int, wanted: int, step: int | None = None) -> int:
    """How many of ``wanted`` windows of ``horizon`` (``step`` apart, default ``horizon``) fit in ``periods``:
    each cut-off needs 3 periods of history."""
    step = step or horizon
    return max(0, min(wanted, (periods - horizon - 3) // step + 1))


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
    pit: bool = True,
    progress: Progress | None = None,
    time_left: Callable[[], float] | None = None,
    window_seconds: float = 0.0,
    max_pit_rows: int | None = None,
    stop_on_error: bool = False,
) -> BacktestResult:
    """Backtest on a history panel; see the module docstring.

    With ``with_expected`` the table also shows the same trained models with the other point forecasts
    (:data:`VARIANT_NAMES`) beside the default; their quantiles are the same. With ``pit`` every method is also
    scored by the PIT (``pit80`` in the table, ``pit`` in the result), unless the panel has more than
    ``max_pit_rows`` forecast rows per window. ``time_left``, ``window_seconds`` and ``stop_on_error``: see the
    module docstring.
    """
    frequency = Frequency(frequency)
    levels = tuple(sorted({float(q) for q in quantiles}))
    if pit and max_pit_rows is not None:
        pit = panel.get_column(ITEM_ID).n_unique() * horizon <= max_pit_rows
    fitted = tuple(sorted({*levels, *PIT_LEVELS})) if pit else levels
    kept = [ITEM_ID, PERIOD, MEAN, *quantile_columns(levels)]
    periods = sorted(panel.get_column(PERIOD).unique().to_list())
    planned = _cutoffs(periods, horizon, windows, step or horizon) if windows else []
    report = progress or (lambda _f, _m: None)
    variants = VARIANT_NAMES if with_expected else {}
    names = [MODEL_NAME, *variants.values(), *baselines]
    # Per cut-off: each method's forecast and PIT bounds, so the windows that ran are pooled in time order.
    done: dict[date, dict[str, tuple[pl.DataFrame, tuple[np.ndarray, np.ndarray] | None]]] = {}
    orders: dict[date, pl.DataFrame] = {}  # the order list's suggestions per cut-off, and whether each ran out
    note = None
    estimate = window_seconds
    for i, cutoff in enumerate(reversed(planned)):
        if time_left is not None:
            left = time_left()
            if left < SAFETY * estimate or left <= 0:
                note = (
                    f"ran {i} of {len(planned)} windows: {max(left, 0):.1f}s were left before the deadline, "
                    f"a window takes about {estimate:.1f}s"
                )
                break
        report(i / len(planned), f"window {i + 1}/{len(planned)}: cut-off {cutoff}")
        started = time.perf_counter()
        try:
            done[cutoff], orders[cutoff] = _window(
                panel, attributes, cutoff, frequency, horizon, fitted, params, variants, baselines, pit, kept
            )
        except ValueError as exc:
            if not stop_on_error:
                raise
            end = periods[periods.index(cutoff) + horizon]
            note = f"ran {i} of {len(planned)} windows: the window ending {end} could not be backtested ({exc})"
            break
        estimate = time.perf_counter() - started
    cutoffs = sorted(done)
    parts = {name: [done[c][name][0] for c in cutoffs if name in done[c]] for name in names}
    bounds = {name: [b for c in cutoffs if name in done[c] and (b := done[c][name][1]) is not None] for name in names}
    report(1.0, "scoring")
    if pit:  # the variants' quantiles are the model's, hence so is their PIT: only the point forecast differs
        bounds.update({name: bounds[MODEL_NAME] for name in variants.values() if parts[name]})
    forecasts = {name: pl.concat(frames) for name, frames in parts.items() if frames}
    evaluations = {name: evaluate(f, panel, panel, levels) for name, f in forecasts.items()}
    pits = {
        name: summarise_pit(np.concatenate([lo for lo, _ in pairs]), np.concatenate([hi for _, hi in pairs]))
        for name, pairs in bounds.items()
        if name in forecasts and pairs
    }
    rows = [
        {
            "method": name,
            **{k: ev.overall.get(k) for k in _COLUMNS[1:]},
            "pit80": pits[name].coverage if name in pits else None,
        }
        for name, ev in evaluations.items()
    ]
    table = pl.DataFrame(rows, schema_overrides={"pit80": pl.Float64}).select(_COLUMNS) if rows else _empty_table()
    kept_orders = [orders[c] for c in cutoffs]
    return BacktestResult(
        table, evaluations, forecasts, cutoffs, pits, orders=pl.concat(kept_orders) if kept_orders else None, note=note
    )


def _empty_table() -> pl.DataFrame:
    schema: dict[str, pl.DataType] = {c: pl.Float64() for c in _COLUMNS}
    schema.update({"method": pl.Utf8(), "n": pl.Int64()})
    return pl.DataFrame(schema=schema)


def _window(
    panel: pl.DataFrame,
    attributes: pl.DataFrame | None,
    cutoff: date,
    frequency: Frequency,
    horizon: int,
    fitted: tuple[float, ...],
    params: ModelParams | None,
    variants: dict[str, str],
    baselines: Sequence[str],
    pit: bool,
    kept: list[str],
) -> tuple[dict[str, tuple[pl.DataFrame, tuple[np.ndarray, np.ndarray] | None]], pl.DataFrame]:
    """One cut-off: the model trained on the history up to ``cutoff``, its point variants and every baseline;
    per method its forecast (``kept`` columns and ``cutoff``) and, with ``pit``, its PIT bounds; and the model's
    order suggestions at that cut-off (:func:`plastinka_forecasting.orders.backtest_orders`)."""
    out: dict[str, tuple[pl.DataFrame, tuple[np.ndarray, np.ndarray] | None]] = {}

    def keep(name: str, forecast: pl.DataFrame, *, score_pit: bool = True) -> None:
        scored = pit_bounds(forecast, panel) if pit and score_pit else None
        out[name] = (forecast.select(kept).with_columns(pl.lit(cutoff).alias(CUTOFF)), scored)

    history = truncate_panel(panel, cutoff)
    model = fit_panel(history, attributes, frequency=frequency, horizon=horizon, quantiles=fitted, params=params)
    forecast = predict_panel(model, history, attributes, horizon=horizon)
    keep(MODEL_NAME, forecast)
    points = model.info.get("holdout", {}).get("points", {})
    for point, name in variants.items():
        if point in points and point != model.params.point:
            other = replace(model, shrink=PointShrink.from_json(points[point]))
            keep(name, predict_panel(other, history, attributes, horizon=horizon), score_pit=False)
    for name in baselines:
        keep(name, forecast_baseline(name, history, horizon, frequency, fitted))
    return out, backtest_orders(forecast, model.totals, panel, cutoff)


class BacktestOptions(TypedDict, total=False):
    """The optional keywords :func:`backtest` passes on to :func:`backtest_panel`, which holds their defaults."""

    step: int | None
    quantiles: Sequence[float]
    params: ModelParams | None
    pit: bool
    progress: Progress | None


def backtest(
    sales: SalesData, *, frequency: Frequency, horizon: int, windows: int, **options: Unpack[BacktestOptions]
) -> BacktestResult:
    """Backtest on a validated dataset (its stock snapshot is ignored: it describes only the end; a last period
    the export cut short is left out, as in training)."""
    panel, _ = complete_panel(SalesData(sales.sales, sales.attributes, None, sales.report), frequency)
    return backtest_panel(panel, sales.attributes, frequency=frequency, horizon=horizon, windows=windows, **options)


def format_table(table: pl.DataFrame) -> str:
    """A fixed-width text table (lower is better except ``coverage`` and ``pit80``, which should be near 0.80)."""
    header = (
        f"{'method':<20}{'n':>9}{'MAE':>9}{'RMSE':>9}{'RMSSE':>9}{'SPL':>9}{'cover80':>9}{'pit80':>9}"
        f"{'bias':>9}{'winkler':>9}"
    )
    lines = [header]
    for row in table.iter_rows(named=True):
        cells = [f"{row['method']:<20}", f"{int(row['n'] or 0):>9d}"]
        for key in _COLUMNS[2:]:
            value = row[key]
            cells.append(f"{value:>9.4f}" if value is not None else f"{'-':>9}")
        lines.append("".join(cells))
    return "\n".join(lines)


#: The columns of :func:`score_table`.
SCORE_COLUMNS = (
    "method",
    "spl",
    "wrmsse",
    "rmsse",
    "bias_totals",
    "bias_totals_min",
    "bias_totals_max",
    "pit80",
    "cover80_strict",
    "cover80_inclusive",
)


def score_table(
    result: BacktestResult, panel: pl.DataFrame, *, window: int, price: pl.DataFrame | None = None
) -> pl.DataFrame:
    """One row per method of ``result``: SPL and RMSSE (as in ``table``), M5's WRMSSE with revenue weights over
    the last ``window`` periods (units without ``price``), the bias of totals (mean over origins, min, max),
    ``pit80`` and the 80% interval's strict and inclusive cover; see :mod:`plastinka_forecasting.metrics`."""
    rows = []
    for name, forecast in result.forecasts.items():
        overall = result.evaluations[name].overall
        bias = totals_bias(forecast, panel).per_fold.values()
        strict, inclusive = interval_cover(forecast, panel)
        rows.append(
            {
                "method": name,
                "spl": overall.get("spl"),
                "wrmsse": wrmsse(forecast, panel, panel, window=window, price=price).mean,
                "rmsse": overall.get("rmsse"),
                "bias_totals": sum(bias) / len(bias) if bias else None,
                "bias_totals_min": min(bias, default=None),
                "bias_totals_max": max(bias, default=None),
                "pit80": result.pit[name].coverage if name in result.pit else None,
                "cover80_strict": strict,
                "cover80_inclusive": inclusive,
            }
        )
    schema = dict.fromkeys(SCORE_COLUMNS[1:], pl.Float64)
    return pl.DataFrame(rows, schema={"method": pl.Utf8, **schema}, orient="row")
