"""The training job's backtest: the trained configuration beside every baseline, on rolling origins, in time.

Windows run one at a time from the latest cut-off backwards (window ``k`` ends ``k * horizon`` periods before
the data's end), each through :func:`plastinka_forecasting.backtest.backtest_panel` on the history truncated
at its end, so a window that would not finish before the deadline is simply not started. All windows' forecasts
are then scored together, as ``backtest_panel`` scores its own. The stock snapshot is left out, as in
:func:`plastinka_forecasting.backtest.backtest`: it describes only the end of the data.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

    from plastinka_forecasting.frames import SalesData
    from plastinka_forecasting.model import TrainedModel

DEFAULT_WINDOWS = 3
#: A window is started only when this many times its estimated duration is left.
SAFETY = 1.5
#: Table columns besides ``method``: MAE, RMSE, bias and the Winkler score in copies per period; RMSSE and SPL
#: scaled per series; coverage of the 80% interval (q_0.1..q_0.9) as a share, plainly and by the PIT.
COLUMNS = ("n", "mae", "rmse", "rmsse", "spl", "coverage", "pit80", "bias", "winkler")
#: The PIT needs 99 more quantile columns per method and window: scored only up to this many forecast rows
#: (items x horizon) per window, so a large shop's backtest keeps to the function's memory.
PIT_MAX_ROWS = 200_000
UNITS = {
    "mae": "copies per period",
    "rmse": "copies per period",
    "bias": "copies per period (forecast - actual)",
    "rmsse": "scaled by each series' in-sample naive error",
    "spl": "pinball loss scaled by each series' in-sample naive MAE",
    "coverage": "share of actuals inside q_0.1..q_0.9",
    "pit80": (
        "coverage of q_0.1..q_0.9 with an actual on an interval end counted by the share of its probability "
        "inside (PIT); aim 0.80. Plain coverage exceeds 0.80 on sales with many zeros even when calibrated. "
        f"Null when a window has over {PIT_MAX_ROWS} forecast rows"
    ),
    "winkler": "interval score of q_0.1..q_0.9, copies per period",
}

Progress = Callable[[float, str], None]


def feasible_windows(periods: int, horizon: int, wanted: int) -> int:
    """How many windows of ``horizon`` (step ``horizon``) fit: each cut-off needs 3 periods of history."""
    return max(0, min(wanted, (periods - horizon - 3) // horizon + 1))


def run_backtest(  # noqa: PLR0915 - one procedure in time order; splitting it would only scatter its state
    sales: SalesData,
    model: TrainedModel,
    *,
    time_left: Callable[[], float],
    windows: int = DEFAULT_WINDOWS,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """The JSON backtest report: ``rows`` (one per method, ours first), the windows run, and a ``note`` saying
    why fewer windows than asked ran (or none)."""
    import polars as pl  # noqa: PLC0415

    from plastinka_forecasting.backtest import BACKTEST_LEVELS, MODEL_NAME, backtest_panel  # noqa: PLC0415
    from plastinka_forecasting.baselines import BASELINES  # noqa: PLC0415
    from plastinka_forecasting.frames import ITEM_ID, PERIOD, SalesData  # noqa: PLC0415
    from plastinka_forecasting.metrics import evaluate  # noqa: PLC0415
    from plastinka_forecasting.orders import stockout_summary  # noqa: PLC0415
    from plastinka_forecasting.panel import build_panel, truncate_panel  # noqa: PLC0415
    from plastinka_forecasting.pit import PitSummary  # noqa: PLC0415

    started = time.perf_counter()
    report = progress or (lambda _f, _m: None)
    horizon = model.horizon
    panel = build_panel(SalesData(sales.sales, sales.attributes, None, sales.report), model.frequency)
    attributes = sales.attributes if sales.attributes.height else None
    periods = sorted(panel.get_column(PERIOD).unique().to_list())
    planned = feasible_windows(len(periods), horizon, windows)
    methods = (MODEL_NAME, *BASELINES)
    parts: dict[str, list[pl.DataFrame]] = {name: [] for name in methods}
    pits: dict[str, list[PitSummary]] = {name: [] for name in methods}
    with_pit = panel.get_column(ITEM_ID).n_unique() * horizon <= PIT_MAX_ROWS
    cutoffs: list[date] = []
    orders: list[pl.DataFrame] = []
    note = None
    if planned < windows:
        note = (
            f"{len(periods)} periods of sales history fit {planned} of {windows} windows of {horizon} "
            f"(each cut-off needs 3 periods before it)"
        )
    # The final fit ran on the whole panel: an upper bound for one window's fit on a truncated one.
    estimate = float(model.info.get("train_seconds") or 0.0)
    for k in range(planned):
        left = time_left()
        if left < SAFETY * estimate or left <= 0:
            note = (
                f"ran {k} of {planned} windows: {max(left, 0):.1f}s were left before the deadline, "
                f"a window takes about {estimate:.1f}s"
            )
            break
        report(k / planned, f"backtest window {k + 1}/{planned}")
        window_started = time.perf_counter()
        end = periods[len(periods) - 1 - k * horizon]
        try:
            result = backtest_panel(
                truncate_panel(panel, end),
                attributes,
                frequency=model.frequency,
                horizon=horizon,
                windows=1,
                quantiles=BACKTEST_LEVELS,
                params=model.params,
                baselines=BASELINES,
                pit=with_pit,
            )
        except ValueError as exc:  # too little data in an early window: keep the later ones
            note = f"ran {k} of {planned} windows: the window ending {end} could not be backtested ({exc})"
            break
        cutoffs.extend(result.cutoffs)
        if result.orders is not None:
            orders.append(result.orders)
        for name in methods:
            if name in result.forecasts:
                parts[name].append(result.forecasts[name])
            if name in result.pit:
                pits[name].append(result.pit[name])
        estimate = time.perf_counter() - window_started
    rows = []
    for name in methods:
        if parts[name]:
            overall = evaluate(pl.concat(parts[name]), panel, panel, BACKTEST_LEVELS).overall
            row: dict[str, Any] = {"method": name, **{column: _number(overall.get(column)) for column in COLUMNS}}
            row["n"] = int(row["n"] or 0)
            pooled = PitSummary.pooled(pits[name]) if len(pits[name]) == len(parts[name]) else None
            row["pit80"] = _number(pooled.coverage) if pooled else None
            rows.append(row)
    return {
        "method": "rolling origin",
        "frequency": model.frequency.value,
        "horizon": horizon,
        "step": horizon,
        "windows_requested": windows,
        "windows": len(cutoffs),
        "cutoffs": [c.isoformat() for c in sorted(cutoffs)],
        "levels": list(BACKTEST_LEVELS),
        "interval": [0.1, 0.9],
        "units": UNITS,
        "rows": rows,
        # How often the order list's suggestion (stock taken as none at each cut-off) would have run out.
        "order_stockouts": stockout_summary(pl.concat(orders) if orders else pl.DataFrame()),
        "note": note,
        "seconds": round(time.perf_counter() - started, 2),
    }


def _number(value: Any) -> float | None:
    """A finite float (rounded for the JSON), or None: an undefined metric (no scaled series, say)."""
    if value is None or isinstance(value, bool):
        return None
    number = float(value)
    return round(number, 6) if math.isfinite(number) else None
