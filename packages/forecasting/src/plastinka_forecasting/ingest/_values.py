"""Typed values from text cells: day-first dates, Excel serial dates, numbers written the Russian way."""

from __future__ import annotations

from datetime import date

import polars as pl

_DAY_FIRST = r"^(\d{1,2})[./-](\d{1,2})[./-](\d{4}|\d{2})(?:[ T,]+\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)?$"
_ISO = r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
_EXCEL_EPOCH = date(1899, 12, 30)


def text(expr: pl.Expr) -> pl.Expr:
    """A trimmed text cell, ``None`` when blank."""
    stripped = expr.cast(pl.Utf8).str.replace_all("\u00a0", " ").str.strip_chars()
    return pl.when(stripped.str.len_chars() > 0).then(stripped).otherwise(None)


def _ymd(year: pl.Expr, month: pl.Expr, day: pl.Expr) -> pl.Expr:
    iso = pl.concat_str([year, month.str.zfill(2), day.str.zfill(2)], separator="-")
    return iso.str.to_date("%Y-%m-%d", strict=False)


def parse_date(expr: pl.Expr) -> pl.Expr:
    """``31.12.2023``, ``31.12.2023 14:05``, ``31.12.23``, ISO dates and datetimes, and Excel serial days.

    Anything else (including impossible dates like ``31.02.2023``) becomes null; callers report it.
    """
    cell = text(expr)
    year = cell.str.extract(_DAY_FIRST, 3)
    year = pl.when(year.str.len_chars() == 2).then(pl.lit("20") + year).otherwise(year)
    day_first = _ymd(year, cell.str.extract(_DAY_FIRST, 2), cell.str.extract(_DAY_FIRST, 1))
    iso = _ymd(cell.str.extract(_ISO, 1), cell.str.extract(_ISO, 2), cell.str.extract(_ISO, 3))
    serial_days = cell.str.extract(r"^(\d{1,6})(?:[.,]\d+)?$", 1).cast(pl.Int64, strict=False)
    serial = pl.when(serial_days.is_between(1, 2_958_465)).then(
        pl.lit(_EXCEL_EPOCH) + pl.duration(days=serial_days)
    )
    return pl.coalesce(day_first, iso, serial.cast(pl.Date))


def date_column(series: pl.Series) -> pl.Expr:
    """The date parser for one column, passing through columns that are already typed (parquet)."""
    name = series.name
    if series.dtype == pl.Date:
        return pl.col(name)
    if isinstance(series.dtype, pl.Datetime):
        return pl.col(name).dt.date()
    return parse_date(pl.col(name))


def parse_number(expr: pl.Expr) -> pl.Expr:
    """``'1 990,50'``, ``'1990.5'``, ``'1,990.50'``, ``'1990 руб.'`` -> float; anything else null."""
    cell = text(expr)
    compact = cell.str.replace_all(r"[\s\u00a0\u202f]|руб\.?|₽|р\.", "")
    both = compact.str.contains(r"\.") & compact.str.contains(",")
    decimal = pl.when(both).then(compact.str.replace_all(",", "")).otherwise(compact.str.replace_all(",", "."))
    return pl.when(decimal.str.contains(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")).then(
        decimal.cast(pl.Float64, strict=False)
    )


def number_column(series: pl.Series) -> pl.Expr:
    """The number parser for one column, passing through numeric columns (parquet)."""
    if series.dtype.is_numeric():
        return pl.col(series.name).cast(pl.Float64)
    return parse_number(pl.col(series.name))


def is_integral(expr: pl.Expr) -> pl.Expr:
    return expr.is_finite() & (expr == expr.round(0))
