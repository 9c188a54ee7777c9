"""Scoring a stored forecast against a newer dataset's actuals, with the forecasting package's metrics."""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

import polars as pl

from plastinka_api.errors import Conflict, UnprocessableUpload
from plastinka_forecasting.ingest import DataError, load_sales_bytes
from plastinka_forecasting.metrics import evaluate
from plastinka_forecasting.panel import complete_panel, truncate_panel
from plastinka_schemas import Frequency


def score(
    forecast: pl.DataFrame,
    sales: bytes,
    sales_name: str,
    stock: bytes | None,
    stock_name: str | None,
    frequency: Frequency,
    quantiles: list[float],
) -> dict[str, Any]:
    """Runs in a worker thread: ingest, build the actuals panel, evaluate the covered forecast periods."""
    try:
        data = load_sales_bytes(sales, sales_name, stock, stock_name)
    except DataError as exc:
        raise UnprocessableUpload(str(exc)) from None
    # A last period the newer export cut short is not a period's actual: it is not scored.
    panel, _ = complete_panel(data, frequency)
    if forecast.is_empty() or panel.is_empty():
        raise Conflict("nothing to score: the forecast or the dataset is empty")
    first = forecast.get_column("period").min()
    last_actual = panel.get_column("period").max()
    if not isinstance(first, date) or not isinstance(last_actual, date):
        raise Conflict("the forecast or the dataset has no periods")
    covered = forecast.filter(pl.col("period") <= last_actual)
    if covered.is_empty():
        raise Conflict(
            f"the dataset ends at {last_actual}; the forecast starts at {first}: no forecast period has actuals yet"
        )
    history = truncate_panel(panel, first - timedelta(days=1))
    levels = sorted(float(c[2:]) for c in forecast.columns if c.startswith("q_"))
    interval = (levels[0], levels[-1]) if len(levels) >= 2 else (0.05, 0.95)
    result = evaluate(covered, panel, history, quantiles or levels, interval=interval)
    return {
        "periods": sorted({str(p) for p in covered.get_column("period").to_list()}),
        "items": covered.get_column("item_id").n_unique(),
        "overall": {k: _clean(v) for k, v in result.overall.items()},
        "by_horizon": [{k: _clean(v) for k, v in r.items()} for r in result.by_horizon.iter_rows(named=True)],
        "by_class": [{k: _clean(v) for k, v in r.items()} for r in result.by_class.iter_rows(named=True)],
    }


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):  # NaN is not JSON
        return None
    return value
