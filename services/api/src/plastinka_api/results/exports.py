"""Result files for download: CSV, XLSX and Parquet, with spreadsheet formula injection defused.

A text cell that starts with ``= + - @`` (or a tab / carriage return) would run as a formula when a user opens
the file in a spreadsheet; such cells get a leading apostrophe. Numbers and dates are written as they are.
"""

from __future__ import annotations

import io
from typing import Final, Literal

import polars as pl
import xlsxwriter

ExportFormat = Literal["csv", "xlsx", "parquet"]

FORMULA_PREFIXES: Final = ("=", "+", "-", "@", "\t", "\r")

MEDIA_TYPES: Final[dict[str, str]] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "parquet": "application/vnd.apache.parquet",
}


def escape_cell(value: str) -> str:
    """``'=1+1'`` -> ``"'=1+1"``; anything else unchanged."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def escape_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Every text column with formula-like cells escaped, and so are the column names (the header row)."""
    # Categorical and enum columns (attributes often are) hold text too: as strings they get escaped below.
    categorical = [name for name, dtype in frame.schema.items() if isinstance(dtype, pl.Categorical | pl.Enum)]
    if categorical:
        frame = frame.with_columns(pl.col(name).cast(pl.Utf8) for name in categorical)
    frame = frame.rename({name: escape_cell(name) for name in frame.columns if escape_cell(name) != name})
    text_columns = [name for name, dtype in frame.schema.items() if dtype == pl.Utf8]
    if not text_columns:
        return frame
    return frame.with_columns(
        pl.when(pl.col(name).str.contains(r"^[=+\-@\t\r]"))
        .then(pl.lit("'") + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name in text_columns
    )


def to_csv(frame: pl.DataFrame) -> bytes:
    return escape_frame(frame).write_csv().encode("utf-8")


def to_xlsx(frame: pl.DataFrame, sheet: str = "forecast") -> bytes:
    """One sheet, header row, strings written as strings (never parsed as formulas)."""
    buffer = io.BytesIO()
    safe = escape_frame(frame)
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
    try:
        sheet_ = workbook.add_worksheet(sheet)
        date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
        for col, name in enumerate(safe.columns):
            sheet_.write_string(0, col, escape_cell(name))
        for row_index, row in enumerate(safe.iter_rows(), start=1):
            for col, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, str):
                    sheet_.write_string(row_index, col, value)
                elif hasattr(value, "isoformat") and not isinstance(value, bool):
                    sheet_.write_datetime(row_index, col, value, date_format)
                else:
                    sheet_.write(row_index, col, value)
    finally:
        workbook.close()
    return buffer.getvalue()


def to_parquet(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()


def export(frame: pl.DataFrame, fmt: ExportFormat) -> bytes:
    if fmt == "csv":
        return to_csv(frame)
    if fmt == "xlsx":
        return to_xlsx(frame)
    return to_parquet(frame)
