"""Fan charts as PNG bytes: history, the mean forecast and quantile bands, per item or for a group.

For a group (several items, or every item) history is summed per period and the forecast is
:func:`plastinka_forecasting.aggregate.group_forecast` (means add; the spread of the sum assumes independent items).
matplotlib is imported only when a chart is drawn, through its object API (no pyplot global state), so it is
safe in threads and servers.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import polars as pl

from plastinka_forecasting.aggregate import group_forecast
from plastinka_forecasting.frames import ITEM_ID, MEAN, PERIOD, TARGET

__all__ = ["fan_chart"]

_HISTORY_COLOR = "#1f3b57"
_FORECAST_COLOR = "#d9480f"


def _levels(columns: Sequence[str]) -> list[float]:
    return sorted(float(c[2:]) for c in columns if c.startswith("q_"))


def _select(frame: pl.DataFrame, items: str | Sequence[str] | None) -> pl.DataFrame:
    if items is None:
        return frame
    wanted = [items] if isinstance(items, str) else list(items)
    return frame.filter(pl.col(ITEM_ID).is_in(wanted))


def fan_chart(
    history: pl.DataFrame,
    forecast: pl.DataFrame,
    *,
    items: str | Sequence[str] | None = None,
    title: str | None = None,
    last_periods: int | None = 36,
    width_px: int = 1000,
    height_px: int = 500,
) -> bytes:
    """PNG of one item (``items="id"``), a group (a list of ids) or the whole shop (``None``).

    ``history`` is a panel, ``forecast`` a forecast frame; ``last_periods`` limits the history shown.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415 - heavy, only when drawing
    from matplotlib.figure import Figure  # noqa: PLC0415

    hist = _select(history, items).group_by(PERIOD).agg(pl.col(TARGET).sum()).sort(PERIOD)
    if last_periods is not None:
        hist = hist.tail(last_periods)
    levels = _levels(forecast.columns)
    selected = _select(forecast, items)
    fc = group_forecast(selected) if selected.height else selected.select(PERIOD, MEAN)
    if hist.height == 0 and fc.height == 0:
        raise ValueError(f"nothing to plot: no history or forecast for {items!r}")

    dpi = 100
    fig = Figure(figsize=(width_px / dpi, height_px / dpi), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(hist[PERIOD].to_list(), hist[TARGET].to_list(), color=_HISTORY_COLOR, marker="o", ms=3, label="sales")
    periods = fc[PERIOD].to_list()
    pairs = [(lo, round(1 - lo, 12)) for lo in levels if lo < 0.5 and round(1 - lo, 12) in levels]
    for i, (lo, hi) in enumerate(sorted(pairs)):
        ax.fill_between(
            periods,
            fc[f"q_{lo!r}"].to_list(),
            fc[f"q_{hi!r}"].to_list(),
            color=_FORECAST_COLOR,
            alpha=0.15 + 0.15 * i,
            linewidth=0,
            label=f"{round((hi - lo) * 100)}% interval",
        )
    if 0.5 in levels:
        ax.plot(periods, fc["q_0.5"].to_list(), color=_FORECAST_COLOR, linestyle=":", label="median")
    ax.plot(periods, fc[MEAN].to_list(), color=_FORECAST_COLOR, marker="o", ms=3, label="mean forecast")
    if hist.height and fc.height:
        last = hist.row(hist.height - 1, named=True)
        first = fc.row(0, named=True)
        ax.plot([last[PERIOD], first[PERIOD]], [last[TARGET], first[MEAN]], color=_FORECAST_COLOR, alpha=0.5)
    what = items if isinstance(items, str) else ("all items" if items is None else f"{len(list(items))} items")
    ax.set_title(title or f"Sales forecast: {what}")
    ax.set_ylabel("copies per period")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    fig.autofmt_xdate()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
