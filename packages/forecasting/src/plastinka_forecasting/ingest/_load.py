"""The public entry points: files or bytes in, a validated :class:`SalesData` out."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from plastinka_forecasting.frames import SalesData, ValidationReport

from ._assemble import attributes_frame, check_sales_after_arrival, sales_frame, stock_frame
from ._errors import DataError
from ._index import item_aliases
from ._issues import IS_SALE, IssueLog
from ._limits import DEFAULT_LIMITS, IngestLimits
from ._read import read_tables
from ._resolve import resolve_items
from ._rows import map_rows


def _read_path(path: str | Path, limits: IngestLimits) -> tuple[bytes, str]:
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > limits.max_file_bytes:
            raise DataError(f"{size} bytes is more than the limit of {limits.max_file_bytes}", file=path.name)
        return path.read_bytes(), path.name
    except FileNotFoundError as error:
        raise DataError("no such file", file=str(path)) from error
    except IsADirectoryError as error:
        raise DataError("is a directory, not a file", file=str(path)) from error
    except PermissionError as error:
        raise DataError("permission denied", file=str(path)) from error


def _rows_of(
    data: bytes, file: str, role: str, log: IssueLog, limits: IngestLimits, today: date
) -> tuple[pl.DataFrame, int]:
    mapped = [map_rows(table, role, log, today) for table in read_tables(data, file, role, limits)]
    rows = pl.concat([frame for frame, _ in mapped], how="diagonal_relaxed")
    return rows.with_columns(pl.lit(role == "sales").alias(IS_SALE)), sum(read for _, read in mapped)


def _usable(rows: pl.DataFrame, file: str, read: int, log: IssueLog) -> None:
    if rows.height > 0:
        return
    if read == 0:
        raise DataError("no data rows under the header", file=file)
    first = log.frame().filter((pl.col("file") == file) & (pl.col("action") == "dropped")).head(1)
    detail = ""
    if first.height:
        issue = first.row(0, named=True)
        column = f", column '{issue['column']}'" if issue["column"] else ""
        detail = f"; the first: row {issue['row']}{column}: {issue['reason']}"
    raise DataError(f"no usable rows: all {read} rows were dropped{detail}", file=file)


def load_sales_bytes(
    data: bytes,
    filename: str,
    stock: bytes | None = None,
    stock_filename: str | None = None,
    *,
    limits: IngestLimits = DEFAULT_LIMITS,
    today: date | None = None,
) -> SalesData:
    """Validate and load a sales export (and optionally a stock snapshot) given as bytes.

    The format is sniffed from the content (xlsx, xls, parquet, csv in utf-8/utf-8-sig/utf-16/cp1251); the
    file names are only used in messages. Raises :class:`DataError` when a file cannot be used at all.
    """
    today = today or datetime.now(UTC).date()
    log = IssueLog()
    stock_name = stock_filename or "stock"
    sales_rows, sales_read = _rows_of(data, filename, "sales", log, limits, today)
    parts = [sales_rows]
    stock_read = 0
    if stock is not None:
        stock_rows, stock_read = _rows_of(stock, stock_name, "stock", log, limits, today)
        parts.append(stock_rows)
    resolved, spellings = resolve_items(pl.concat(parts, how="diagonal_relaxed"), log)
    sales_part = resolved.filter(pl.col(IS_SALE))
    _usable(sales_part, filename, sales_read, log)
    stock_part = None
    if stock is not None:
        stock_part = resolved.filter(~pl.col(IS_SALE))
        _usable(stock_part, stock_name, stock_read, log)
    stock_data = stock_frame(stock_part, log) if stock_part is not None else None
    attributes = attributes_frame(sales_part, stock_part)
    check_sales_after_arrival(sales_part, attributes, log)
    sales, returned = sales_frame(sales_part, log)
    _share_warnings(log, filename, sales_read, sales_part.height)
    if stock is not None and stock_part is not None:
        _share_warnings(log, stock_name, stock_read, stock_part.height)
    report = ValidationReport(
        issues=log.issues(),
        rows_read=sales_read + stock_read,
        rows_used=resolved.height,
        sales_rows_read=sales_read,
        sales_rows=sales_part.height,
        stock_rows_read=stock_read if stock is not None else None,
        stock_rows=stock_part.height if stock_part is not None else None,
        copies_sold=float(sales.get_column("quantity").sum()),
        copies_returned=returned,
        date_formats=dict(log.date_formats),
        warnings=list(log.warnings),
        aliases=item_aliases(attributes.get_column("item_id"), spellings),
    )
    return SalesData(sales=sales, attributes=attributes, stock=stock_data, report=report)


#: Above this share of a file's rows dropped or repaired, the report carries a whole-file warning.
WARN_SHARE = 0.01


def _share_warnings(log: IssueLog, file: str, read: int, kept: int) -> None:
    if read == 0:
        return
    dropped = read - kept
    frame = log.frame().filter(pl.col("file").str.starts_with(file) & (pl.col("action") == "repaired"))
    repaired = frame.get_column("row").n_unique() if frame.height else 0
    for count, what in ((dropped, "dropped"), (repaired, "repaired")):
        if count > WARN_SHARE * read:
            log.warn(
                file,
                f"{count} of {read} rows ({100 * count / read:.1f}%) were {what}: check the issues before training",
            )


def load_sales(
    path: str | Path,
    stock_path: str | Path | None = None,
    *,
    limits: IngestLimits = DEFAULT_LIMITS,
    today: date | None = None,
) -> SalesData:
    """Validate and load a sales file (and optionally a stock snapshot) from disk; see :func:`load_sales_bytes`."""
    data, name = _read_path(path, limits)
    stock, stock_name = _read_path(stock_path, limits) if stock_path is not None else (None, None)
    return load_sales_bytes(data, name, stock, stock_name, limits=limits, today=today)


def validate_sales(
    path: str | Path,
    stock_path: str | Path | None = None,
    *,
    limits: IngestLimits = DEFAULT_LIMITS,
    today: date | None = None,
) -> ValidationReport:
    """The validation report of a usable dataset; raises :class:`DataError` when it cannot be used."""
    return load_sales(path, stock_path, limits=limits, today=today).report
