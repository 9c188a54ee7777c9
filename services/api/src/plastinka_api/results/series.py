"""Chart data of a prediction: a record's (or the shop's) sales history beside the forecast, as JSON numbers for
the web page's fan chart, titled the way the shop names the record ("Исполнитель — Альбом")."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import polars as pl
from pydantic import BaseModel, Field

from plastinka_api.context import AppContext
from plastinka_api.errors import BadRequest, NotFound
from plastinka_api.keys.service import Principal
from plastinka_api.results import service
from plastinka_api.results.plots import history_panel
from plastinka_forecasting.aggregate import group_forecast
from plastinka_forecasting.frames import ITEM_ID, MEAN, PERIOD, TARGET
from plastinka_forecasting.ingest import load_sales_bytes
from plastinka_schemas import Frequency
from plastinka_store.tables import Dataset, PredictionJob


class HistoryPoint(BaseModel):
    period: str = Field(description="First day of the period (ISO date)")
    quantity: float = Field(description="Copies sold in the period, net of returns")


class ForecastPoint(BaseModel):
    period: str = Field(description="First day of the period (ISO date)")
    mean: float = Field(description="Expected copies sold")
    median: float = Field(description="Median (q50, or the nearest quantile the model has)")
    low: float = Field(description="Low end of the likely range (q10, or the lowest quantile)")
    high: float = Field(description="High end of the likely range (q90, or the highest quantile)")


class ChartSeries(BaseModel):
    """A fan chart's data: one record's (or the whole shop's) history and forecast, numbers rounded to 0.01."""

    title: str = Field(description="'Исполнитель — Альбом' for a record, 'Все записи' for the shop's total")
    item_id: str | None = Field(description="The record's id, null for the total")
    frequency: str = Field(description="'M' (months) or 'W' (weeks)")
    history: list[HistoryPoint] = Field(description="Sales per period before the forecast, oldest first")
    forecast: list[ForecastPoint] = Field(description="Per forecast period: mean, median and the likely range")


#: The shop's total chart is titled this (the page translates it with the rest of its words).
TOTAL_TITLE = "Все записи"
#: History shown before the forecast: three years of months.
HISTORY_PERIODS = 36
_CACHE_SIZE = 8
_names: OrderedDict[tuple[str, str | None], dict[str, tuple[str | None, str | None]]] = OrderedDict()


def _read_names(sales: bytes, sales_name: str, stock: bytes | None, stock_name: str | None) -> dict[str, Any]:
    attributes = load_sales_bytes(sales, sales_name, stock, stock_name).attributes
    columns = [c for c in ("artist", "album") if c in attributes.columns]
    frame = attributes.select(ITEM_ID, *columns).unique(ITEM_ID, keep="first")
    return {str(row[ITEM_ID]): (row.get("artist"), row.get("album")) for row in frame.iter_rows(named=True)}


async def record_names(ctx: AppContext, dataset: Dataset) -> dict[str, tuple[str | None, str | None]]:
    """item id -> (artist, album) as the dataset spells them (cached by content)."""
    key = (dataset.sha256, dataset.stock_sha256)
    cached = _names.get(key)
    if cached is not None:
        _names.move_to_end(key)
        return cached
    sales, stock = await service.dataset_files(ctx, dataset)
    names = await ctx.db.call(_read_names, sales, dataset.filename, stock, dataset.stock_filename)
    _names[key] = names
    while len(_names) > _CACHE_SIZE:
        _names.popitem(last=False)
    return names


def title(item_id: str | None, names: dict[str, tuple[str | None, str | None]]) -> str:
    """ "Исполнитель — Альбом"; whichever half is known; the barcode when neither is; the total's title."""
    if item_id is None:
        return TOTAL_TITLE
    artist, album = names.get(item_id, (None, None))
    parts = [p.strip() for p in (artist, album) if p and p.strip()]
    return " — ".join(parts) if parts else item_id


def _band_columns(frame: pl.DataFrame) -> tuple[str, str, str]:
    """(low, median, high) columns: q10/q50/q90, else the quantiles nearest them the model has."""
    levels = sorted(float(c[2:]) for c in frame.columns if c.startswith("q_"))
    if not levels:
        return MEAN, MEAN, MEAN

    def nearest(target: float) -> str:
        return f"q_{min(levels, key=lambda q: (abs(q - target), q))!r}"

    lows, highs = [q for q in levels if q <= 0.1], [q for q in levels if q >= 0.9]
    low = f"q_{max(lows)!r}" if lows else f"q_{levels[0]!r}"
    high = f"q_{min(highs)!r}" if highs else f"q_{levels[-1]!r}"
    return low, nearest(0.5), high


def _number(value: Any) -> float:
    return round(float(value or 0.0), 2)


def series(
    history: pl.DataFrame, forecast: pl.DataFrame, item_id: str | None, chart_title: str, frequency: str
) -> dict[str, Any]:
    """The chart body of the results contract: history per period and mean/median/low/high per period."""
    if item_id is not None:
        history = history.filter(pl.col(ITEM_ID) == item_id)
        forecast = forecast.filter(pl.col(ITEM_ID) == item_id)
    past = history.group_by(PERIOD).agg(pl.col(TARGET).sum()).sort(PERIOD).tail(HISTORY_PERIODS)
    ahead = group_forecast(forecast) if forecast.height else forecast.select(PERIOD, MEAN)
    low, median, high = _band_columns(ahead)
    return {
        "title": chart_title,
        "item_id": item_id,
        "frequency": frequency,
        "history": [
            {"period": row[PERIOD].isoformat(), "quantity": _number(row[TARGET])} for row in past.iter_rows(named=True)
        ],
        "forecast": [
            {
                "period": row[PERIOD].isoformat(),
                "mean": _number(row[MEAN]),
                "median": _number(row[median]),
                "low": _number(row[low]),
                "high": _number(row[high]),
            }
            for row in ahead.sort(PERIOD).iter_rows(named=True)
        ],
    }


async def chart(ctx: AppContext, principal: Principal, job_id: str, item_id: str | None) -> ChartSeries:
    """The chart of a succeeded prediction job: a record by any spelling of its id, or the total (None)."""
    job = await ctx.db.call(service.succeeded_job, ctx, principal, job_id)
    if not isinstance(job, PredictionJob):
        raise BadRequest("charts are drawn for prediction jobs")
    frame = await service.forecast_frame(ctx, job)
    if item_id is not None:
        asked, item_id = item_id, await service.record_id(ctx, principal.owner, job, item_id)
        if frame.filter(pl.col(ITEM_ID) == item_id).is_empty():
            raise NotFound("item", asked)
    dataset, model = await ctx.db.call(service.history_inputs, ctx, principal.owner, job)
    frequency = Frequency(model.frequency)
    history = await history_panel(ctx, dataset, frequency)
    names = await record_names(ctx, dataset) if item_id is not None else {}
    body = await ctx.db.call(series, history, frame, item_id, title(item_id, names), frequency.value)
    return ChartSeries.model_validate(body)
