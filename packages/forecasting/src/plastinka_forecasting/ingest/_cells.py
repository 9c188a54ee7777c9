"""The cell caps: no text cell over ``max_cell_bytes``, no file whose text cells add up past ``max_decoded_bytes``.

Checked on the table as read, before any row is mapped: reading a parquet file's dictionary-encoded column keeps one
copy of each distinct string, while mapping the rows would copy every cell (a few KiB of parquet holding the same
10 KB string 200,000 times took the server to 6 GB)."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from ._errors import DataError
from ._limits import IngestLimits
from ._table import RawTable


def _lengths(column: str, dtype: pl.DataType) -> pl.Expr | None:
    if dtype == pl.Utf8:
        return pl.col(column).str.len_bytes().cast(pl.UInt64)
    if dtype == pl.Binary:
        return pl.col(column).bin.size().cast(pl.UInt64)
    return None


def _column_name(table: RawTable, column: str) -> str:
    index = int(column[1:]) if column[1:].isdigit() else -1
    names = table.header.names
    return names[index] if 0 <= index < len(names) and names[index] else column


def check_cells(tables: Sequence[RawTable], limits: IngestLimits) -> None:
    """Refuse the file at its first cell over the cap (naming row and column), or when its text is too much."""
    total = 0
    for table in tables:
        lengths = {
            column: expression
            for column, dtype in table.frame.schema.items()
            if (expression := _lengths(column, dtype)) is not None
        }
        if not lengths:
            continue
        stats = table.frame.select(
            *(expression.max().alias(f"max:{column}") for column, expression in lengths.items()),
            *(expression.sum().alias(f"sum:{column}") for column, expression in lengths.items()),
        ).row(0, named=True)
        for column, expression in lengths.items():
            longest = stats[f"max:{column}"] or 0
            if longest > limits.max_cell_bytes:
                index, size = (
                    table.frame.select(expression.alias("bytes"))
                    .with_row_index()
                    .filter(pl.col("bytes") > limits.max_cell_bytes)
                    .row(0)
                )
                raise DataError(
                    f"a cell of {size} bytes is longer than the limit of {limits.max_cell_bytes} bytes per cell",
                    file=table.file,
                    row=table.first_row + int(index),
                    column=_column_name(table, column),
                )
            total += stats[f"sum:{column}"] or 0
        if total > limits.max_decoded_bytes:
            raise DataError(
                f"the text cells add up to {total} bytes or more once decoded, more than the limit of "
                f"{limits.max_decoded_bytes}",
                file=table.file,
            )
