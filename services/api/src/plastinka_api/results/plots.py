"""Fan charts of a forecast beside its history, drawn by the forecasting package."""

from __future__ import annotations

from collections import OrderedDict

import polars as pl

from plastinka_api.context import AppContext
from plastinka_api.results.service import dataset_files
from plastinka_forecasting.ingest import load_sales_bytes
from plastinka_forecasting.panel import complete_panel
from plastinka_forecasting.plots import fan_chart
from plastinka_schemas import Frequency
from plastinka_store.tables import Dataset

_CACHE_SIZE = 8
_panels: OrderedDict[tuple[str, str | None, str], pl.DataFrame] = OrderedDict()


def _panel(
    sales: bytes, sales_name: str, stock: bytes | None, stock_name: str | None, frequency: Frequency
) -> pl.DataFrame:
    # The history the model saw: a last period the export cut short is forecast, not drawn as a collapse.
    return complete_panel(load_sales_bytes(sales, sales_name, stock, stock_name), frequency)[0]


async def history_panel(ctx: AppContext, dataset: Dataset, frequency: Frequency) -> pl.DataFrame:
    """The dataset's history panel (cached by content)."""
    key = (dataset.sha256, dataset.stock_sha256, frequency.value)
    cached = _panels.get(key)
    if cached is not None:
        _panels.move_to_end(key)
        return cached
    sales, stock = await dataset_files(ctx, dataset)
    panel = await ctx.db.call(_panel, sales, dataset.filename, stock, dataset.stock_filename, frequency)
    _panels[key] = panel
    while len(_panels) > _CACHE_SIZE:
        _panels.popitem(last=False)
    return panel


def fan_chart_png(history: pl.DataFrame, forecast: pl.DataFrame, item_id: str | None) -> bytes:
    """One item's fan chart, or the total over all forecast items when ``item_id`` is None."""
    items = item_id if item_id is not None else forecast.get_column("item_id").unique().to_list()
    title = f"Forecast for {item_id}" if item_id is not None else "Forecast: all items"
    return fan_chart(history, forecast, items=items, title=title)
