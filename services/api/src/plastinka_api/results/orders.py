"""The per-record table and the order list of a prediction job: its forecast, its order list and the record's
barcode, artist and album, one row per record; searched, sorted and paged with polars on a table built once per
prediction (cached), so a page of 50,000 records is a filter, a sort and a slice.

The order list is the predict function's ``orders`` artifact. Predictions made before it existed get one
computed here from the stored forecast with Poisson totals (``total_method`` says so).
"""

from __future__ import annotations

import io
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final, Literal

import polars as pl

from plastinka_api.context import AppContext
from plastinka_api.results.service import artifact, forecast_frame, quantile_columns
from plastinka_forecasting.orders import DEFAULT_SERVICE_LEVEL, order_list
from plastinka_schemas import Artifact, ArtifactManifest
from plastinka_store.tables import PredictionJob

SortKey = Literal[
    "suggested_order",
    "-suggested_order",
    "total_mean",
    "-total_mean",
    "stock",
    "-stock",
    "artist",
    "-artist",
    "album",
    "-album",
    "barcode",
    "-barcode",
]
DEFAULT_SORT: Final = "-suggested_order"
#: The order-list columns the forecast download gains, per (record, period) row.
ORDER_COLUMNS: Final = ("total_mean", "total_quantile", "suggested_order", "service_level", "cover_months")
_SEARCH: Final = "_search"
_CACHE_SIZE = 8


@dataclass(frozen=True)
class Records:
    """One row per record: ``item_id, barcode, artist, album, stock, mean, low, high`` (lists over ``periods``)
    and the order columns; ``_search`` is the lower-cased text ``q`` searches."""

    frame: pl.DataFrame
    periods: list[date]
    low_level: float | None
    high_level: float | None
    service_level: float
    cover_months: int
    total_method: str
    #: Row positions in each sort order asked for so far: a page is then a mask and a slice, not a sort.
    orders: dict[str, pl.Series] = field(default_factory=dict, compare=False)

    def positions(self, sort: str) -> pl.Series:
        found = self.orders.get(sort)
        if found is None:
            column, descending = sort.lstrip("-"), sort.startswith("-")
            keys = self.frame.select(pl.int_range(pl.len(), dtype=pl.UInt32).alias("row"), column, "item_id")
            found = keys.sort([column, "item_id"], descending=[descending, False], nulls_last=True)["row"]
            self.orders[sort] = found
        return found

    def page_head(self, job_id: str, total: int, offset: int, limit: int) -> dict[str, Any]:
        """The fields of an ``OrderTablePage`` that every page of this table shares."""
        return {
            "job_id": job_id,
            "total": total,
            "offset": offset,
            "limit": limit,
            "service_level": self.service_level,
            "cover_months": self.cover_months,
            "total_method": self.total_method,
        }


_tables: OrderedDict[str, Records] = OrderedDict()


async def order_frame(ctx: AppContext, job: PredictionJob) -> pl.DataFrame:
    """The job's order list: its ``orders`` artifact, else computed from the forecast (Poisson totals)."""
    manifest = ArtifactManifest.model_validate(job.manifest or {"artifacts": {}})
    if Artifact.ORDERS in manifest.artifacts:
        data = await ctx.store.get_artifact(artifact(job, Artifact.ORDERS))
        return await ctx.db.call(pl.read_parquet, io.BytesIO(data))
    forecast = await forecast_frame(ctx, job)
    parameters = job.parameters or {}
    periods = forecast.get_column("period").n_unique()
    # A forecast cut short of the job's horizon covers what it has.
    cover = min(int(parameters.get("cover_months") or periods), periods) or None
    return await ctx.db.call(
        lambda: order_list(
            forecast,
            None,
            service_level=float(parameters.get("service_level", DEFAULT_SERVICE_LEVEL)),
            cover=cover,
        )
    )


async def records(ctx: AppContext, job: PredictionJob) -> Records:
    """The job's per-record table, built once and cached by the content of its artifacts."""
    forecast_sha = artifact(job, Artifact.FORECAST).sha256
    manifest = ArtifactManifest.model_validate(job.manifest or {"artifacts": {}})
    orders_ref = manifest.artifacts.get(Artifact.ORDERS)
    key = f"{forecast_sha}:{orders_ref.sha256 if orders_ref else job.id}"
    cached = _tables.get(key)
    if cached is not None:
        _tables.move_to_end(key)
        return cached
    forecast = await forecast_frame(ctx, job)
    orders = await order_frame(ctx, job)
    table = await ctx.db.call(build_records, forecast, orders)
    _tables[key] = table
    while len(_tables) > _CACHE_SIZE:
        _tables.popitem(last=False)
    return table


def _nearest(columns: list[str], level: float) -> tuple[str | None, float | None]:
    if not columns:
        return None, None
    name = min(columns, key=lambda c: (abs(float(c[2:]) - level), c))
    return name, float(name[2:])


def _text(frame: pl.DataFrame, name: str) -> pl.Expr:
    return pl.col(name).cast(pl.Utf8).first() if name in frame.columns else pl.lit(None, pl.Utf8)


def build_records(forecast: pl.DataFrame, orders: pl.DataFrame) -> Records:
    """Join the forecast (wide per record), the order list and the record's attributes."""
    periods = sorted(forecast.get_column("period").unique().to_list())
    qcols = quantile_columns(forecast)
    low, low_level = _nearest(qcols, 0.1)
    high, high_level = _nearest(qcols, 0.9)
    wide = (
        forecast.sort("item_id", "period")
        .group_by("item_id", maintain_order=True)
        .agg(
            _text(forecast, "barcode").alias("barcode"),
            _text(forecast, "artist").alias("artist"),
            _text(forecast, "album").alias("album"),
            pl.col("mean").round(2).alias("mean"),
            (pl.col(low) if low else pl.col("mean") * 0).round(2).alias("low"),
            (pl.col(high) if high else pl.col("mean")).round(2).alias("high"),
        )
    )
    order_part = orders.select("item_id", "stock", "total_mean", "total_quantile", "suggested_order")
    frame = (
        wide.join(order_part, on="item_id", how="left")
        .with_columns(
            pl.col("barcode").fill_null(pl.col("item_id")),
            pl.col("total_mean").fill_null(0.0).round(2),
            pl.col("total_quantile").fill_null(0.0),
            pl.col("suggested_order").fill_null(0).cast(pl.Int64),
            pl.col("stock").cast(pl.Int64),
        )
        .with_columns(
            pl.concat_str(
                [pl.col("barcode"), pl.col("item_id"), pl.col("artist"), pl.col("album")],
                separator="\u0000",
                ignore_nulls=True,
            )
            .str.to_lowercase()
            .alias(_SEARCH)
        )
    )
    first = orders.head(1)
    return Records(
        frame=frame,
        periods=periods,
        low_level=low_level,
        high_level=high_level,
        service_level=float(first["service_level"][0]) if first.height else DEFAULT_SERVICE_LEVEL,
        cover_months=int(first["cover_months"][0]) if first.height else len(periods),
        total_method=str(first["total_method"][0]) if first.height else "poisson",
    )


def select(table: Records, q: str | None, sort: str) -> pl.Series:
    """Positions of the records matching ``q`` (a case-insensitive substring of barcode, id, artist or album),
    in ``sort`` order."""
    positions = table.positions(sort)
    if not q:
        return positions
    matches = table.frame.get_column(_SEARCH).str.contains(q.lower(), literal=True)
    return positions.filter(matches.gather(positions))


def page_rows(table: Records, positions: pl.Series, offset: int, limit: int) -> list[dict[str, Any]]:
    return table.frame[positions.slice(offset, limit)].drop(_SEARCH).to_dicts()


def order_download(table: Records) -> pl.DataFrame:
    """The order list file: one row per record, largest orders first, with the settings it was made with."""
    return table.frame[select(table, None, DEFAULT_SORT)].select(
        "barcode",
        "artist",
        "album",
        "stock",
        "total_mean",
        "total_quantile",
        "suggested_order",
        pl.lit(table.service_level).alias("service_level"),
        pl.lit(table.cover_months).alias("cover_months"),
        pl.lit(table.total_method).alias("total_method"),
        "item_id",
    )


def with_order_columns(forecast: pl.DataFrame, orders: pl.DataFrame) -> pl.DataFrame:
    """The forecast download's rows with their record's order columns."""
    present = [c for c in ORDER_COLUMNS if c in orders.columns]
    return forecast.join(orders.select("item_id", *present), on="item_id", how="left")
