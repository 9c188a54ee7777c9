"""Typed values from text cells: day-first dates, Excel serial dates, numbers written the Russian way."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import polars as pl

_DAY_FIRST = (
    r"^(\d{1,2})[./-](\d{1,2})[./-](\d{4}|\d{2})"
    r"(?:[ T,]+\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:\s*[AaPp]\.?[Mm]\.?)?)?$"
)
_ISO = r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
_EXCEL_EPOCH = date(1899, 12, 30)


def text(expr: pl.Expr) -> pl.Expr:
    """A trimmed text cell, ``None`` when blank."""
    stripped = expr.cast(pl.Utf8).str.strip_chars()  # Unicode White_Space, no-break spaces included
    return pl.when(stripped.str.len_bytes() > 0).then(stripped)


def _ymd(year: pl.Expr, month: pl.Expr, day: pl.Expr) -> pl.Expr:
    iso = pl.concat_str([year, month.str.zfill(2), day.str.zfill(2)], separator="-")
    return iso.str.to_date("%Y-%m-%d", strict=False)


def parse_date(expr: pl.Expr, *, month_first: bool = False) -> pl.Expr:
    """``31.12.2023``, ``31.12.2023 14:05``, ``31.12.23``, ISO dates and datetimes, and Excel serial days;
    ``12/31/2023`` with ``month_first``.

    Anything else (including impossible dates like ``31.02.2023``) becomes null; callers report it.
    """
    cell = text(expr)
    year = cell.str.extract(_DAY_FIRST, 3)
    year = pl.when(year.str.len_chars() == 2).then(pl.lit("20") + year).otherwise(year)
    first, second = cell.str.extract(_DAY_FIRST, 1), cell.str.extract(_DAY_FIRST, 2)
    day_first = _ymd(year, first, second) if month_first else _ymd(year, second, first)
    iso = _ymd(cell.str.extract(_ISO, 1), cell.str.extract(_ISO, 2), cell.str.extract(_ISO, 3))
    serial_days = cell.str.extract(r"^(\d{1,6})(?:[.,]\d+)?$", 1).cast(pl.Int64, strict=False)
    serial = pl.when(serial_days.is_between(1, 2_958_465)).then(pl.lit(_EXCEL_EPOCH) + pl.duration(days=serial_days))
    return pl.coalesce(day_first, iso, serial.cast(pl.Date))


@dataclass(frozen=True)
class DateOrder:
    """How a column's ``a/b/yyyy`` dates are read, and the evidence for it."""

    month_first: bool
    #: e.g. "dd.mm.yyyy (day first: 812 values have a first field above 12)"
    description: str
    #: True when nothing in the column told the order apart and the shop's locale (day first) was assumed
    assumed: bool = False


def detect_order(series: pl.Series) -> DateOrder:
    """Day/month order of a column's values: a first field above 12 means day first, a second field above 12
    means month first; when both occur the majority wins (the rest fail to parse and are reported); when neither
    does, the shop's locale (day first) is assumed."""
    if series.dtype == pl.Date or isinstance(series.dtype, pl.Datetime):
        return DateOrder(month_first=False, description="typed date cells")
    cells = series.cast(pl.Utf8).drop_nulls().unique().to_frame("c").select(text(pl.col("c")).alias("c")).drop_nulls()
    parts = cells.select(
        pl.col("c"),
        pl.col("c").str.extract(_DAY_FIRST, 1).cast(pl.Int64, strict=False).alias("a"),
        pl.col("c").str.extract(_DAY_FIRST, 2).cast(pl.Int64, strict=False).alias("b"),
    ).filter(pl.col("a").is_not_null())
    if parts.height == 0:
        iso = cells.filter(pl.col("c").str.contains(_ISO)).height
        described = "yyyy-mm-dd (ISO, or date-typed cells)" if iso else "Excel serial days"
        return DateOrder(month_first=False, description=described)
    day_votes = parts.filter((pl.col("a") > 12) & (pl.col("b") <= 12)).height
    month_votes = parts.filter((pl.col("b") > 12) & (pl.col("a") <= 12)).height
    sample = str(parts.get_column("c").sort()[0])
    separator = next((ch for ch in sample if ch in "./-"), ".")
    year = str(sample.split(separator)[2].split()[0].split("T")[0]) if sample.count(separator) >= 2 else "yyyy"
    tail = "yyyy" if len(year) == 4 else "yy"
    if month_votes > day_votes:
        shape = separator.join(("mm", "dd", tail))
        why = f"month first: {month_votes} distinct values have a second field above 12"
        if day_votes:
            why += f", {day_votes} a first field above 12"
        return DateOrder(month_first=True, description=f"{shape} ({why})")
    shape = separator.join(("dd", "mm", tail))
    if day_votes:
        why = f"day first: {day_votes} distinct values have a first field above 12"
        if month_votes:
            why += f", {month_votes} a second field above 12"
        return DateOrder(month_first=False, description=f"{shape} ({why})")
    return DateOrder(
        month_first=False,
        description=f"{shape} (assumed day first, the shop's locale: no value has a field above 12)",
        assumed=True,
    )


_FAST_FORMATS = ("%d.%m.%Y %H:%M", "%d.%m.%Y", "%Y-%m-%d", "%d.%m.%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S")


def by_unique(series: pl.Series, parse: Callable[[pl.Expr], pl.Expr]) -> pl.Series:
    """``parse`` applied to the distinct values only: exports repeat the same few prices, names and years."""
    distinct = series.unique().to_frame("value").with_columns(parse(pl.col("value")).alias("parsed"))
    joined = series.to_frame("value").join(distinct, on="value", how="left", nulls_equal=True, maintain_order="left")
    return joined.get_column("parsed").alias(series.name)


def date_column(series: pl.Series, *, month_first: bool = False) -> pl.Series:
    """Dates from one column: typed columns pass through; text goes through chrono's fast parser for the usual
    formats, and only what that leaves null through the regex parser (:func:`parse_date`)."""
    if series.dtype == pl.Date:
        return series
    if isinstance(series.dtype, pl.Datetime):
        return series.dt.date()
    cells = series.cast(pl.Utf8)
    parsed = pl.Series(series.name, [None] * len(cells), dtype=pl.Date)
    missing = cells.is_not_null()
    fast_formats = _FAST_FORMATS if not month_first else ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S")
    # Each format only sees what the previous ones left: an export uses one format, so this is one pass.
    for fast in (*fast_formats, None):
        if not missing.any():
            break
        rest = cells.filter(missing)
        if fast is None:
            found = by_unique(rest, lambda expr: parse_date(expr, month_first=month_first))
        else:
            found = rest.str.strptime(pl.Datetime("us"), fast, strict=False).dt.date()
            found = found.to_frame("d").select(pl.when(pl.col("d").dt.year() >= 1000).then(pl.col("d"))).to_series()
        parsed = parsed.scatter(missing.arg_true(), found)
        missing = parsed.is_null() & cells.is_not_null()
    return parsed


def parse_number(expr: pl.Expr) -> pl.Expr:
    """``'1 990,50'``, ``'1990.5'``, ``'1,990.50'``, ``'1990 руб.'`` -> float; anything else null."""
    cell = text(expr)
    compact = cell.str.replace_all(r"[\s\u00a0\u202f]|руб\.?|₽|р\.", "")
    both = compact.str.contains(r"\.") & compact.str.contains(",")
    decimal = pl.when(both).then(compact.str.replace_all(",", "")).otherwise(compact.str.replace_all(",", "."))
    return pl.when(decimal.str.contains(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")).then(
        decimal.cast(pl.Float64, strict=False)
    )


def number_column(series: pl.Series) -> pl.Series:
    """Numbers from one column, passing through numeric columns (parquet)."""
    if series.dtype.is_numeric():
        return series.cast(pl.Float64)
    return by_unique(series.cast(pl.Utf8), parse_number)


def is_integral(expr: pl.Expr) -> pl.Expr:
    return expr.is_finite() & (expr == expr.round(0))


def fmt(template: str, *values: pl.Expr) -> pl.Expr:
    """``pl.format`` built from ``concat_str`` (polars 2.1's ``format`` panics on filtered string views); nulls
    show as empty text."""
    pieces = template.split("{}")
    if len(pieces) != len(values) + 1:
        raise ValueError(f"template {template!r} expects {len(pieces) - 1} values, got {len(values)}")
    parts: list[pl.Expr] = [pl.lit(pieces[0])]
    for value, piece in zip(values, pieces[1:], strict=True):
        parts += [value.cast(pl.Utf8).fill_null(""), pl.lit(piece)]
    return pl.concat_str(parts)
