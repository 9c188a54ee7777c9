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


def sales_frame(rows: pl.DataFrame, log: IssueLog) -> tuple[pl.DataFrame, float]:
    """Quantities per item and day, returns netted; and the copies returned.

    A negative quantity is a return. Returns are netted within their calendar month (the shop's period) against
    that month's sales of the item, the latest sale days first, so no day and no month goes below zero; returns
    beyond the month's sales (a copy sold in an earlier month) are left out and reported.
    """
    daily = rows.group_by(ITEM_ID, DATE).agg(
        pl.col(QUANTITY).clip(lower_bound=0).sum().alias("_sold"),
        (-pl.col(QUANTITY).clip(upper_bound=0)).sum().alias("_returned"),
        pl.col(ROW).filter(pl.col(QUANTITY) < 0).first().alias("_return_row"),
        pl.col(FILE).filter(pl.col(QUANTITY) < 0).first().alias("_return_file"),
    )
    returned = float(daily.get_column("_returned").sum())
    if returned > 0:
        month = [ITEM_ID, pl.col(DATE).dt.truncate("1mo")]
        daily = daily.sort(ITEM_ID, DATE, descending=[False, True]).with_columns(
            pl.col("_returned").sum().over(month).alias("_month_returns"),
            pl.col("_sold").cum_sum().over(month).alias("_through"),
        )
        # the latest days absorb returns first: a day keeps what is left once later days took their share
        before = pl.col("_through") - pl.col("_sold")
        taken = (pl.col("_month_returns") - before).clip(lower_bound=0)
        daily = daily.with_columns(
            (pl.col("_sold") - pl.min_horizontal(taken, pl.col("_sold"))).alias("_sold"),
            (pl.col("_month_returns") - pl.col("_sold").sum().over(month)).alias("_excess"),
        )
        excess = (
            daily.filter(pl.col("_excess") > 0)
            .group_by(month)
            .agg(
                pl.col("_excess").first(),
                pl.col("_return_file").drop_nulls().first(),
                pl.col("_return_row").drop_nulls().min(),
            )
        )
        log.add_rows(
            excess.rename({"_return_file": FILE, "_return_row": ROW}),
            column=None,
            reason=fmt(
                "{} returned copies of {} exceed its sales in that month; the month counts 0",
                pl.col("_excess"),
                pl.col(ITEM_ID),
            ),
            action="warning",
        )
    return (
        daily.filter((pl.col("_sold") > 0) | (pl.col("_returned") == 0))
        .select(
            pl.col(ITEM_ID).cast(pl.Utf8),
            pl.col(DATE).cast(pl.Date),
            pl.col("_sold").cast(pl.Float64).alias(QUANTITY),
        )
        .sort(ITEM_ID, DATE),
        returned,
    )


def check_sales_after_arrival(sales: pl.DataFrame, attributes: pl.DataFrame, log: IssueLog) -> None:
    """A sale dated before the record was added (``Дата создания``) is kept, but flagged: one of the two dates is
    wrong, and the shop should know which."""
    if "added_at" not in attributes.columns:
        return
    added = attributes.select(ITEM_ID, pl.col("added_at").alias("_added")).filter(pl.col("_added").is_not_null())
    early = sales.join(added, on=ITEM_ID, how="inner").filter(pl.col(DATE) < pl.col("_added"))
    log.add_rows(
        early,
        column=None,
        reason=fmt("sale date {} is before the record was added ({}); kept", pl.col(DATE), pl.col("_added")),
        action="warning",
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
