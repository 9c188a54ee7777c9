"""The training job's backtest report: the trained configuration beside every baseline, on rolling origins.

The loop (windows from the latest cut-off backwards, the deadline, the PIT's row cap, pooled scoring) is
:func:`plastinka_forecasting.backtest.backtest_panel`; this module plans the windows (step = horizon) and shapes
its result into the report's JSON. The stock snapshot is left out, as in
:func:`plastinka_forecasting.backtest.backtest`: it describes only the end of the data.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from plastinka_forecasting.frames import SalesData
    from plastinka_forecasting.model import Progress, TrainedModel

DEFAULT_WINDOWS = 3
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


def feasible_windows(periods: int, horizon: int, wanted: int) -> int:
    """How many windows of ``horizon`` (step ``horizon``) fit: each cut-off needs 3 periods of history."""
    from plastinka_forecasting.backtest import feasible_windows as fit  # noqa: PLC0415

    return fit(periods, horizon, wanted)


def run_backtest(
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

    from plastinka_forecasting.backtest import BACKTEST_LEVELS, backtest_panel  # noqa: PLC0415
    from plastinka_forecasting.baselines import BASELINES  # noqa: PLC0415
    from plastinka_forecasting.frames import PERIOD, SalesData  # noqa: PLC0415
    from plastinka_forecasting.orders import stockout_summary  # noqa: PLC0415
    from plastinka_forecasting.panel import complete_panel  # noqa: PLC0415

    started = time.perf_counter()
    horizon = model.horizon
    # As in training: a last period the export cut short is not an actual to score against.
    panel, _ = complete_panel(SalesData(sales.sales, sales.attributes, None, sales.report), model.frequency)
    periods = panel.get_column(PERIOD).n_unique()
    planned = feasible_windows(periods, horizon, windows)
    note = None
    if planned < windows:
        note = (
            f"{periods} periods of sales history fit {planned} of {windows} windows of {horizon} "
            f"(each cut-off needs 3 periods before it)"
        )
    rows: list[dict[str, Any]] = []
    cutoffs: list[str] = []
    orders = None
    if planned:
        result = backtest_panel(
            panel,
            sales.attributes if sales.attributes.height else None,
            frequency=model.frequency,
            horizon=horizon,
            windows=planned,
            quantiles=BACKTEST_LEVELS,
            params=model.params,
            baselines=BASELINES,
            with_expected=False,
            progress=progress,
            time_left=time_left,
            # The final fit ran on the whole panel: an upper bound for one window's fit on a truncated one.
            window_seconds=float(model.info.get("train_seconds") or 0.0),
            max_pit_rows=PIT_MAX_ROWS,
            stop_on_error=True,
        )
        note = result.note or note
        cutoffs = [c.isoformat() for c in result.cutoffs]
        orders = result.orders
        for row in result.table.iter_rows(named=True):
            shaped: dict[str, Any] = {k: v if k == "method" else _number(v) for k, v in row.items()}
            shaped["n"] = int(shaped["n"] or 0)
            rows.append(shaped)
    return {
        "method": "rolling origin",
        "frequency": model.frequency.value,
        "horizon": horizon,
        "step": horizon,
        "windows_requested": windows,
        "windows": len(cutoffs),
        "cutoffs": cutoffs,
        "levels": list(BACKTEST_LEVELS),
        "interval": [0.1, 0.9],
        "units": UNITS,
        "rows": rows,
        # How often the order list's suggestion (stock taken as none at each cut-off) would have run out.
        "order_stockouts": stockout_summary(orders if orders is not None else pl.DataFrame()),
        "note": note,
        "seconds": round(time.perf_counter() - started, 2),
    }


def _number(value: Any) -> float | None:
    """A finite float (rounded for the JSON), or None: an undefined metric (no scaled series, say)."""
    if value is None or isinstance(value, bool):
        return None
    number = float(value)
    return round(number, 6) if math.isfinite(number) else None
