"""From a raw table to typed rows: map the headers, drop the rows that cannot be used, repair attributes.

Shop exports and the canonical format go through the same mapping: a column is known by its header, a
missing ``quantity`` means one copy per row (the shop's sales exports), a given ``item_id`` is kept verbatim.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Final

import polars as pl

from ._errors import DataError
from ._headers import COPIES, ITEM_ID_FIELD, SALE_DATE_FIELD
from ._identity import barcode_digits, barcode_repair, name_key, release_type
from ._issues import FILE, ROW, IssueLog
from ._table import RawTable
from ._values import by_unique, date_column, detect_order, fmt, is_integral, number_column, text

EARLIEST: Final = date(1970, 1, 1)
TEXT_ATTRIBUTES: Final = ("artist", "album", "sleeve", "style")
YEAR_ATTRIBUTES: Final = ("recording_year", "pressing_year")
NAME_KEY: Final = "_name_key"
BARCODE_NOTE: Final = "_barcode_note"
IDENTITY_COLUMN: Final = "_identity_column"
BARCODE_COLUMN: Final = "_barcode_column"


def _shown(expr: pl.Expr) -> pl.Expr:
    return expr.cast(pl.Utf8).str.slice(0, 40)


class _Mapper:
    """Per-table state: the header, the issue log and the column names issues should cite."""

    def __init__(self, table: RawTable, log: IssueLog):
        self.table = table
        self.log = log
        self.width = table.frame.width

    def columns(self, field: str) -> list[str]:
        return [f"c{index}" for index in self.table.header.fields.get(field, []) if index < self.width]

    def header_name(self, field: str) -> str:
        return self.table.header.names[self.table.header.fields[field][0]]

    def raw(self, field: str, source: pl.DataFrame) -> pl.Expr | None:
        """The field's column; duplicate columns coalesce left to right (an old and a new export pasted together)."""
        columns = self.columns(field)
        if not columns:
            return None
        if len(columns) == 1:
            return pl.col(columns[0])
        names = [self.table.header.names[int(column[1:])] for column in columns]
        self.log.add(
            self.table.file,
            f"duplicate header: columns {', '.join(repr(n) for n in names)} all mean '{field}'; "
            "the first non-empty value is used",
            "warning",
            row=self.table.header_row,
            column=names[0],
        )
        if len({source.schema[column] for column in columns}) > 1:
            return pl.coalesce([pl.col(column).cast(pl.Utf8) for column in columns])
        return pl.coalesce([pl.col(column) for column in columns])

    def frame(self) -> pl.DataFrame:
        """Fields (trimmed text, blank as null) plus ``_file``/``_row``; blank lines dropped (nothing to lose)."""
        source = self.table.frame.with_row_index("_index")
        source = source.with_columns(text(pl.col(name)) for name, dtype in source.schema.items() if dtype == pl.Utf8)
        blank = pl.all_horizontal([pl.col(name).is_null() for name in self.table.frame.columns])
        fields = {field: self.raw(field, source) for field in self.table.header.fields}
        return source.filter(~blank).select(
            pl.lit(self.table.file).alias(FILE),
            (pl.col("_index").cast(pl.Int64) + self.table.first_row).alias(ROW),
            *[expr.alias(field) for field, expr in fields.items() if expr is not None],
        )

    def drop_repeated_headers(self, frame: pl.DataFrame) -> pl.DataFrame:
        """A header line pasted again inside the data (two exports concatenated) is not a sale."""
        fields = [f for f in self.table.header.fields if frame.schema.get(f) == pl.Utf8]
        if not fields:
            return frame
        same = [(pl.col(f) == self.header_name(f).strip()).fill_null(value=False) for f in fields]
        return self.log.split(
            frame, pl.sum_horizontal(same) >= min(2, len(same)), column=None, reason="repeated header row"
        )


#: A file whose dates would lose more than this share of its rows (and at least REFUSE_MIN_ROWS) is refused:
#: a wrong guess at the format must never drop rows in bulk.
REFUSE_SHARE: Final = 0.02
REFUSE_MIN_ROWS: Final = 5


def _drop_bad_dates(mapper: _Mapper, frame: pl.DataFrame, today: date) -> pl.DataFrame:
    column = mapper.header_name(SALE_DATE_FIELD)
    raw = pl.col(SALE_DATE_FIELD)
    frame = mapper.log.split(frame, raw.is_null(), column=column, reason="missing sale date")
    order = detect_order(frame.get_column(SALE_DATE_FIELD))
    file = mapper.table.file
    mapper.log.date_formats[f"{file}: {column}"] = order.description
    if order.assumed:
        mapper.log.warn(file, f"dates read as {order.description}", column=column)
    parsed_column = date_column(frame.get_column(SALE_DATE_FIELD), month_first=order.month_first)
    frame = frame.with_columns(parsed_column.alias("_date"))
    log, parsed = mapper.log, pl.col("_date")
    latest = today + timedelta(days=1)
    bad = frame.filter(parsed.is_null() | (parsed < EARLIEST) | (parsed > latest))
    if bad.height > max(REFUSE_SHARE * frame.height, REFUSE_MIN_ROWS - 1):
        values = bad.get_column(SALE_DATE_FIELD).cast(pl.Utf8).unique(maintain_order=True).head(5)
        examples = ", ".join(repr(value) for value in values.to_list())
        raise DataError(
            f"{bad.height} of {frame.height} sale dates ({100 * bad.height / max(frame.height, 1):.1f}%) cannot be "
            f"read as {order.description} or are outside 1970..{today} (e.g. {examples}); the file is refused rather "
            "than losing those rows: re-export the dates as dd.mm.yyyy or yyyy-mm-dd",
            file=file,
            row=int(bad.get_column(ROW)[0]),
            column=column,
        )
    frame = log.split(frame, parsed.is_null(), column=column, reason=fmt("unparseable date '{}'", _shown(raw)))
    frame = log.split(frame, parsed < EARLIEST, column=column, reason=fmt("date {} is before 1970", parsed))
    frame = log.split(
        frame, parsed > latest, column=column, reason=fmt("future date {} (today is {})", parsed, pl.lit(today))
    )
    return frame.with_columns(parsed.alias(SALE_DATE_FIELD)).drop("_date")


def _drop_bad_counts(mapper: _Mapper, frame: pl.DataFrame, field: str, *, whole: bool) -> pl.DataFrame:
    """Quantity (sales) or copies (stock): present, a number, not negative; copies also whole."""
    if field not in frame.columns:
        return frame.with_columns(pl.lit(1.0).alias(field))
    column, log, raw = mapper.header_name(field), mapper.log, pl.col(field)
    frame = log.split(frame, raw.is_null(), column=column, reason=f"missing {field}")
    frame = frame.with_columns(number_column(frame.get_column(field)).alias("_n"))
    value = pl.col("_n")
    frame = log.split(
        frame,
        value.is_null() | ~value.is_finite(),
        column=column,
        reason=fmt("{} '{}' is not a number", pl.lit(field), _shown(raw)),
    )
    if field == COPIES:  # a negative sales quantity is a return, netted later
        frame = log.split(frame, value < 0, column=column, reason=fmt("negative {} {}", pl.lit(field), value))
    if whole:
        frame = log.split(
            frame, ~is_integral(value), column=column, reason=fmt("{} {} is not a whole number", pl.lit(field), value)
        )
    return frame.with_columns(value.alias(field)).drop("_n")


def _repair(
    mapper: _Mapper, frame: pl.DataFrame, field: str, parsed: pl.Series, valid: pl.Expr, what: str
) -> pl.DataFrame:
    """Parse an attribute; a present but unusable value becomes null and is reported as repaired."""
    raw = pl.col(field)
    frame = frame.with_columns(parsed.alias("_parsed"))
    bad = raw.is_not_null() & (pl.col("_parsed").is_null() | ~valid.fill_null(value=False))
    mapper.log.add_rows(
        frame.filter(bad),
        column=mapper.header_name(field),
        reason=fmt("{} '{}' is not {}; left empty", pl.lit(field), _shown(raw), pl.lit(what)),
        action="repaired",
    )
    return frame.with_columns(pl.when(~bad).then(pl.col("_parsed")).alias(field)).drop("_parsed")


def _attributes(mapper: _Mapper, frame: pl.DataFrame, today: date) -> pl.DataFrame:
    present = set(frame.columns)
    if "price" in present:
        price = pl.col("_parsed")
        frame = _repair(
            mapper,
            frame,
            "price",
            number_column(frame.get_column("price")),
            price.is_finite() & (price > 0),
            "a price above 0",
        )
    for field in YEAR_ATTRIBUTES:
        if field in present:
            year = pl.col("_parsed")
            valid = is_integral(year) & year.is_between(1900, today.year)
            what = f"a year from 1900 to {today.year}"
            frame = _repair(mapper, frame, field, number_column(frame.get_column(field)), valid, what)
            frame = frame.with_columns(pl.col(field).cast(pl.Int64))
    if "added_at" in present:
        added = pl.col("_parsed")
        added_order = detect_order(frame.get_column("added_at"))
        frame = _repair(
            mapper,
            frame,
            "added_at",
            date_column(frame.get_column("added_at"), month_first=added_order.month_first),
            added.is_between(EARLIEST, today + timedelta(days=1)),
            f"a date from 1970 to {today}",
        )
    for field in (*TEXT_ATTRIBUTES, "release_type", "barcode"):
        if field in present and frame.schema[field] != pl.Utf8:
            frame = frame.with_columns(text(pl.col(field).cast(pl.Utf8)))
    return frame


def _identity(mapper: _Mapper, frame: pl.DataFrame) -> pl.DataFrame:
    """Given ids verbatim (integral floats from typed files lose their ``.0``); barcodes and name keys for the rest.

    Computed once per distinct barcode and per distinct artist/album/type: a record sells many copies.
    """
    present = set(frame.columns)
    if ITEM_ID_FIELD in present:
        given = pl.col(ITEM_ID_FIELD)
        if frame.schema[ITEM_ID_FIELD].is_float():
            given = pl.when(is_integral(given)).then(given.cast(pl.Int64)).otherwise(given)
        frame = frame.with_columns(text(given.cast(pl.Utf8)).alias(ITEM_ID_FIELD))
    missing = [f for f in (ITEM_ID_FIELD, "barcode", "artist", "album", "release_type") if f not in present]
    frame = frame.with_columns(pl.lit(None, dtype=pl.Utf8).alias(f) for f in missing)
    barcode_cell = frame.get_column("barcode").cast(pl.Utf8)
    kind = by_unique(frame.get_column("release_type").cast(pl.Utf8), release_type)
    names = frame.select("artist", "album", kind.alias("release_type")).with_columns(pl.all().cast(pl.Utf8))
    distinct = names.unique().with_columns(
        name_key(pl.col("artist"), pl.col("album"), pl.col("release_type")).alias(NAME_KEY)
    )
    keys = names.join(
        distinct, on=["artist", "album", "release_type"], how="left", nulls_equal=True, maintain_order="left"
    )
    identity_headers = [mapper.header_name(f) for f in (ITEM_ID_FIELD, "barcode", "artist", "album") if f in present]
    barcode = by_unique(
        barcode_cell, lambda cell: pl.struct(barcode_digits(cell).alias("id"), barcode_repair(cell).alias("note"))
    )
    return frame.with_columns(
        barcode.struct.field("id").alias("barcode"),
        barcode.struct.field("note").alias(BARCODE_NOTE),
        kind.alias("release_type"),
        keys.get_column(NAME_KEY).alias(NAME_KEY),
        pl.lit("/".join(identity_headers) or None, dtype=pl.Utf8).alias(IDENTITY_COLUMN),
        pl.lit(mapper.header_name("barcode") if "barcode" in present else None, dtype=pl.Utf8).alias(BARCODE_COLUMN),
    )


def map_rows(table: RawTable, role: str, log: IssueLog, today: date) -> tuple[pl.DataFrame, int]:
    """Typed rows of one file and how many non-blank rows it had; drops and repairs go to ``log``."""
    if role == "stock" and "quantity" in table.header.fields and COPIES not in table.header.fields:
        # a stock list's 'Количество' is its copy count
        fields = dict(table.header.fields)
        fields[COPIES] = fields.pop("quantity")
        table = replace(table, header=replace(table.header, fields=fields))
    mapper = _Mapper(table, log)
    frame = mapper.frame()
    rows_read = frame.height
    frame = mapper.drop_repeated_headers(frame)
    if role == "sales":
        frame = _drop_bad_dates(mapper, frame, today)
        frame = _drop_bad_counts(mapper, frame, "quantity", whole=False)
        frame = frame.drop(COPIES, strict=False)
    else:
        if COPIES not in table.header.fields:
            log.add(
                table.file,
                "no copies column ('Экземпляры'); each row counts as one copy",
                "warning",
                row=table.header_row,
            )
        frame = _drop_bad_counts(mapper, frame, COPIES, whole=True).with_columns(pl.col(COPIES).cast(pl.Int64))
        frame = frame.drop(SALE_DATE_FIELD, "quantity", strict=False)
    frame = _attributes(mapper, frame, today)
    return _identity(mapper, frame), rows_read
