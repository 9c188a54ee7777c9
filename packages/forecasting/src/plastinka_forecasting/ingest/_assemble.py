"""The contract frames from resolved rows: sales per item and day, one attribute row per item, the stock."""

from __future__ import annotations

from typing import Final

import polars as pl

from plastinka_schemas.sales import ATTRIBUTE_COLUMNS, DATE, ITEM_ID, QUANTITY

from ._headers import COPIES
from ._issues import FILE, ROW, IssueLog
from ._values import fmt

ATTRIBUTE_SCHEMA: Final[dict[str, pl.DataType]] = {
    "barcode": pl.Utf8(),
    "artist": pl.Utf8(),
    "album": pl.Utf8(),
    "sleeve": pl.Utf8(),
    "price": pl.Float64(),
    "release_type": pl.Utf8(),
    "recording_year": pl.Int64(),
    "pressing_year": pl.Int64(),
    "style": pl.Utf8(),
    "added_at": pl.Date(),
}
SALES_SCHEMA: Final[dict[str, pl.DataType]] = {ITEM_ID: pl.Utf8(), DATE: pl.Date(), QUANTITY: pl.Float64()}
STOCK_SCHEMA: Final[dict[str, pl.DataType]] = {ITEM_ID: pl.Utf8(), COPIES: pl.Int64(), "added_at": pl.Date()}
assert tuple(ATTRIBUTE_SCHEMA) == ATTRIBUTE_COLUMNS


def _with_attributes(rows: pl.DataFrame) -> pl.DataFrame:
    return rows.with_columns(
        pl.lit(None, dtype=dtype).alias(name) for name, dtype in ATTRIBUTE_SCHEMA.items() if name not in rows.columns
    ).with_columns(pl.col(name).cast(dtype) for name, dtype in ATTRIBUTE_SCHEMA.items())


def sales_frame(rows: pl.DataFrame) -> pl.DataFrame:
    """Quantities summed per item and day, sorted by item and date."""
    return (
        rows.group_by(ITEM_ID, DATE)
        .agg(pl.col(QUANTITY).sum())
        .select(pl.col(name).cast(dtype) for name, dtype in SALES_SCHEMA.items())
        .sort(ITEM_ID, DATE)
    )


def stock_frame(rows: pl.DataFrame, log: IssueLog) -> pl.DataFrame:
    """One row per stocked item: copies of repeated rows (another sleeve, another price) add up."""
    rows = _with_attributes(rows)
    numbered = rows.with_columns(
        pl.col(ROW).first().over(ITEM_ID, FILE, order_by=ROW).alias("_first"),
        pl.int_range(pl.len()).over(ITEM_ID, order_by=[FILE, ROW]).alias("_nth"),
    )
    log.add_rows(
        numbered.filter(pl.col("_nth") > 0),
        column=None,
        reason=fmt("same item as row {} ({}); copies added together", pl.col("_first"), pl.col(ITEM_ID)),
        action="warning",
    )
    return (
        rows.group_by(ITEM_ID)
        .agg(pl.col(COPIES).sum(), pl.col("added_at").min())
        .select(pl.col(name).cast(dtype) for name, dtype in STOCK_SCHEMA.items())
        .sort(ITEM_ID)
    )


def attributes_frame(sales: pl.DataFrame, stock: pl.DataFrame | None) -> pl.DataFrame:
    """Per item the most recent non-null value of each attribute (the stock snapshot counts as the most recent),
    except ``added_at``: the earliest, when the record first arrived, which is what item age needs."""
    parts = [_with_attributes(sales).select(ITEM_ID, *ATTRIBUTE_SCHEMA, pl.lit(0).alias("_stage"), DATE, FILE, ROW)]
    if stock is not None:
        parts.append(
            _with_attributes(stock).select(
                ITEM_ID,
                *ATTRIBUTE_SCHEMA,
                pl.lit(1).alias("_stage"),
                pl.lit(None, dtype=pl.Date).alias(DATE),
                FILE,
                ROW,
            )
        )
    ordered = pl.concat(parts).sort("_stage", DATE, FILE, ROW, nulls_last=False)
    latest = [pl.col(name).drop_nulls().last() for name in ATTRIBUTE_SCHEMA if name != "added_at"]
    return (
        ordered.group_by(ITEM_ID, maintain_order=True)
        .agg(*latest, pl.col("added_at").min())
        .select(ITEM_ID, *ATTRIBUTE_SCHEMA)
        .sort(ITEM_ID)
    )
