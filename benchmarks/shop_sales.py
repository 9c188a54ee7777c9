"""The synthetic shop's true sales as canonical frames (no file round trip), for the speed benchmarks."""

from __future__ import annotations

from datetime import date

import polars as pl

from plastinka_forecasting.frames import SalesData, ValidationReport
from plastinka_forecasting.synthetic import generate_shop


def shop_sales(items: int, months: int, seed: int, *, with_stock: bool) -> SalesData:
    """Sales and attributes of a generated shop from 2019-01; with ``with_stock`` also its stock snapshot (no
    arrival dates), so every stocked record gets a series."""
    shop = generate_shop(items, months, seed=seed, start=date(2019, 1, 1))
    attributes = shop.items.select(
        "item_id",
        "artist",
        "style",
        pl.col("price").cast(pl.Float64, strict=False),
        pl.col("type_cell").alias("release_type"),
    )
    stock = shop.truth_stock.with_columns(pl.lit(None, dtype=pl.Date).alias("added_at")) if with_stock else None
    return SalesData(shop.truth, attributes, stock, ValidationReport())
