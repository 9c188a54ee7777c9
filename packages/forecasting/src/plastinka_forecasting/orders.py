"""The order list: per record, the copies to order so that stock covers the next ``N`` periods' demand with
probability ``p``: ``max(0, ceil(Q_p(demand over N periods)) - copies in stock)``.

``Q_p`` is the quantile of the ``N``-period total (:class:`~plastinka_forecasting.totals.TotalCalibration`),
not a sum of monthly quantiles. A model saved before totals were calibrated falls back to Poisson quantiles
of the summed mean; ``total_method`` in the list says which one was used. In a backtest (stock unknown at a
past cut-off, so taken as none) a suggestion runs out of stock when the actual total exceeds the order;
:func:`stockout_summary` says how often, which should be about ``1 - p``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, Final

import numpy as np
import polars as pl

from plastinka_forecasting.frames import ITEM_ID, MEAN, PERIOD, TARGET
from plastinka_forecasting.totals import CHECKED_LEVELS, TotalCalibration, poisson_total

__all__ = [
    "BACKTEST_SERVICE_LEVELS",
    "DEFAULT_SERVICE_LEVEL",
    "ORDER_COLUMNS",
    "ORDER_SCHEMA",
    "backtest_orders",
    "order_list",
    "stockout_summary",
]

DEFAULT_SERVICE_LEVEL: Final = 0.8
#: Service levels whose stock-out rate the backtest reports.
BACKTEST_SERVICE_LEVELS: Final = CHECKED_LEVELS
#: The forecast's stock column (the snapshot's copies, joined from the item attributes).
STOCK_SOURCE: Final = "copies"
CALIBRATED: Final = "calibrated"
POISSON: Final = "poisson"
ORDER_SCHEMA: Final = {
    ITEM_ID: pl.Utf8,
    "total_mean": pl.Float64,
    "total_quantile": pl.Float64,
    "stock": pl.Int64,
    "suggested_order": pl.Int64,
    "service_level": pl.Float64,
    "cover_months": pl.Int64,
    "total_method": pl.Utf8,
}
ORDER_COLUMNS: Final = tuple(ORDER_SCHEMA)


def _totals(forecast: pl.DataFrame, cover: int) -> pl.DataFrame:
    """``item_id``, ``total_mean`` over each item's first ``cover`` forecast periods."""
    periods = sorted(forecast.get_column(PERIOD).unique().to_list())
    if cover > len(periods):
        raise ValueError(f"cover_months {cover} exceeds the forecast's {len(periods)} periods")
    kept = forecast.filter(pl.col(PERIOD).is_in(periods[:cover]))
    return kept.group_by(ITEM_ID, maintain_order=True).agg(pl.col(MEAN).sum().alias("total_mean"))


def _quantile(totals: TotalCalibration | None, total_mean: np.ndarray, cover: int, level: float) -> np.ndarray:
    return totals.quantile(total_mean, cover, level) if totals is not None else poisson_total(total_mean, level)


def total_method(totals: TotalCalibration | None, cover: int) -> str:
    return CALIBRATED if totals is not None and totals.calibrated(cover) else POISSON


def order_list(
    forecast: pl.DataFrame,
    totals: TotalCalibration | None,
    *,
    service_level: float = DEFAULT_SERVICE_LEVEL,
    cover: int | None = None,
    stock: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per record of ``forecast`` (:data:`ORDER_COLUMNS`), sorted by ``item_id``.

    ``cover`` defaults to every forecast period. Stock comes from ``stock`` (``item_id``, ``copies``) or else
    the forecast's own ``copies`` column; a record without a known stock has ``stock`` null, counted as 0.
    """
    if not 0.0 < service_level < 1.0:
        raise ValueError(f"service_level must lie strictly between 0 and 1, got {service_level}")
    cover = cover or forecast.get_column(PERIOD).n_unique()
    if forecast.is_empty():
        return pl.DataFrame(schema=ORDER_SCHEMA)
    frame = _totals(forecast, cover)
    if stock is None and STOCK_SOURCE in forecast.columns:
        stock = forecast.group_by(ITEM_ID).agg(pl.col(STOCK_SOURCE).first())
    if stock is not None:
        known = pl.col(STOCK_SOURCE).is_not_null().any()
        copies = stock.group_by(ITEM_ID).agg(
            pl.when(known).then(pl.col(STOCK_SOURCE).sum()).cast(pl.Int64).alias("stock")  # unknown stays null
        )
        frame = frame.join(copies, on=ITEM_ID, how="left")
    else:
        frame = frame.with_columns(pl.lit(None, pl.Int64).alias("stock"))
    quantile = _quantile(totals, frame.get_column("total_mean").to_numpy(), cover, service_level)
    needed = np.ceil(quantile).astype(np.int64)  # both quantiles are whole already: ceil states the rule
    return (
        frame.with_columns(pl.Series("total_quantile", quantile, pl.Float64))
        .with_columns(
            (pl.lit(pl.Series(needed)) - pl.col("stock").fill_null(0)).clip(lower_bound=0).alias("suggested_order"),
            pl.lit(service_level, pl.Float64).alias("service_level"),
            pl.lit(cover, pl.Int64).alias("cover_months"),
            pl.lit(total_method(totals, cover)).alias("total_method"),
        )
        .select(ORDER_COLUMNS)
        .sort(ITEM_ID)
    )


BACKTEST_COLUMNS: Final = (
    ITEM_ID,
    "cutoff",
    "service_level",
    "cover_months",
    "total_method",
    "suggested_order",
    "actual_total",
    "stockout",
    "attainable",
)


def backtest_orders(
    forecast: pl.DataFrame,
    totals: TotalCalibration | None,
    panel: pl.DataFrame,
    cutoff: date,
    *,
    levels: Sequence[float] = BACKTEST_SERVICE_LEVELS,
) -> pl.DataFrame:
    """Per record and service level, the order made at ``cutoff`` with no stock, the actual demand over the
    forecast periods and whether it ran out (``actual > order``)."""
    periods = forecast.get_column(PERIOD).unique().to_list()
    actual = (
        panel.filter(pl.col(PERIOD).is_in(periods)).group_by(ITEM_ID).agg(pl.col(TARGET).sum().alias("actual_total"))
    )
    parts = []
    for level in levels:
        orders = order_list(forecast.drop(STOCK_SOURCE, strict=False), totals, service_level=level)
        cover = int(orders.get_column("cover_months").max() or 0)  # type: ignore[arg-type]
        fitted = totals.fitted_stockout if totals is not None else []
        attainable = fitted[cover - 1].get(str(level)) if 0 < cover <= len(fitted) else None
        parts.append(
            orders.join(actual, on=ITEM_ID, how="left")
            .with_columns(
                pl.col("actual_total").fill_null(0.0),
                pl.lit(cutoff).alias("cutoff"),
                pl.lit(attainable, pl.Float64).alias("attainable"),
            )
            .with_columns((pl.col("actual_total") > pl.col("suggested_order")).alias("stockout"))
            .select(BACKTEST_COLUMNS)
        )
    return pl.concat(parts)


def stockout_summary(frame: pl.DataFrame) -> dict[str, Any]:
    """The JSON summary of :func:`backtest_orders` rows: per service level, the share of (record, cut-off)
    suggestions that ran out of stock, beside the target ``1 - p`` and the ``attainable`` rate (what the same
    rule gave on the model's calibration windows: whole copies cannot split the chance of selling one more, so
    on slow sellers the rate sits below ``1 - p``; null for models without a totals table)."""
    if frame.is_empty():
        return {"rows": [], "note": "no backtest window ran"}
    rows = [
        {
            "service_level": float(row["service_level"]),
            "stockout_rate": round(float(row["stockout_rate"]), 6),
            "target": round(1.0 - float(row["service_level"]), 6),
            "attainable": round(float(row["attainable"]), 6) if row["attainable"] is not None else None,
            "suggestions": int(row["suggestions"]),
        }
        for row in frame.group_by("service_level")
        .agg(
            pl.col("stockout").mean().alias("stockout_rate"),
            pl.col("attainable").mean().alias("attainable"),
            pl.len().alias("suggestions"),
        )
        .sort("service_level")
        .iter_rows(named=True)
    ]
    methods = sorted(set(frame.get_column("total_method").to_list()))
    return {
        "cover_months": int(frame.get_column("cover_months").max()),  # type: ignore[arg-type]
        "stock": "none at each cut-off (the snapshot describes only the end)",
        "total_method": methods[0] if len(methods) == 1 else methods,
        "rows": rows,
    }
